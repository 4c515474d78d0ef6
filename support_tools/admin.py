"""The audit trail's admin: read-only for everyone."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from knox.models import AuthToken

from support_tools.models import SupportAction


@admin.register(SupportAction)
class SupportActionAdmin(admin.ModelAdmin):
    """The audit trail: read-only for everyone (the model refuses changes anyway)."""

    list_display = ["created_at", "action", "actor_label", "door", "subject_user", "target_label"]
    list_display += ["dry_run", "outcome", "seq"]
    # Not editable, so not in the form: shown so a row can be compared with the verifier's.
    readonly_fields = ["created_at", "seq", "key_id", "prev_hash", "row_hash", "personal_digest"]
    list_filter = ["action", "outcome", "dry_run", "door"]
    list_select_related = ["subject_user"]
    search_fields = ["actor_label", "subject_user__username", "subject_user__email", "target_label"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# API tokens come only from `manage.py create_api_token` (audited, shown once): the admin lists
# them by digest prefix and may revoke them, never add one.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "created", "expiry"]
    search_fields = ["user__username", "user__email", "token_key"]
    fields = ["token_key", "user", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
