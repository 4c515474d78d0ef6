"""Background jobs in the admin: a read-only list; each job's page shows its progress."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from support_tools.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "actor_label", "dry_run", "status", "progress"]
    list_display += ["page_link"]
    list_filter = ["action", "status", "dry_run"]
    search_fields = ["actor_label", "action"]
    date_hierarchy = "created_at"
    exclude = ["payload"]  # the inputs themselves: the summary says what was asked

    @admin.display(description="progress")
    def progress(self, obj: Job) -> str:
        return f"{obj.progress_done} / {obj.progress_total}"

    @admin.display(description="")
    def page_link(self, obj: Job) -> Any:
        return format_html('<a href="{}">Open</a>', reverse("support:job", args=[obj.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
