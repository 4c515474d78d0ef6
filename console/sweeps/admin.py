"""Sweeps in the admin: the runs, read-only, each opening its Health page (its findings and
fixes are there)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from console.sweeps.models import Sweep


@admin.register(Sweep)
class SweepAdmin(admin.ModelAdmin):
    list_display = ["started_at", "actor_label", "door", "errors", "warnings", "health_link"]
    list_filter = ["door"]
    date_hierarchy = "started_at"
    fields = ["started_at", "finished_at", "actor_label", "door", "playbooks", "counts"]
    fields += ["errors", "warnings", "stats", "fix_codes", "fix_dry_run", "fixes"]

    @admin.display(description="")
    def health_link(self, obj: Sweep) -> Any:
        url = f"{reverse('support:health')}?sweep={obj.pk}"
        return format_html('<a href="{}">Health page</a>', url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
