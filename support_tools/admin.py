from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from oauth2_provider.admin import AccessTokenAdmin, RefreshTokenAdmin
from oauth2_provider.models import AccessToken, RefreshToken

from support_tools import console_views  # noqa: F401 - registers the console's pages
from support_tools.admin_pages import USER_TOOLS
from support_tools.models import SupportAction
from support_tools.secrets import mask_token

User = get_user_model()

admin.site.site_header = "Support Tools"
admin.site.site_title = "Support Tools"
admin.site.index_title = "Support"
admin.site.index_template = "support_tools/admin_index.html"


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


def _redirect_to_tool(url_name: str, label: str):  # noqa: ANN202 - builds an admin action
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any):  # noqa: ANN202
        users = list(queryset[:2])
        if len(users) != 1:
            messages.warning(request, f"Select exactly one user for “{label}”.")
            return None
        return HttpResponseRedirect(reverse(url_name, kwargs={"user_id": users[0].pk}))

    action.__name__ = "tool_" + url_name.replace("support:", "").replace("-", "_")
    action.short_description = label  # type: ignore[attr-defined]
    return action


admin.site.unregister(User)


@admin.register(User)
class SupportUserAdmin(UserAdmin):
    """Django's user admin, searchable by email, with the support tools on each user's page."""

    change_form_template = "admin/auth/user/support_change_form.html"
    search_fields = ["username", "email", "first_name", "last_name"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        for tool in USER_TOOLS:
            action = _redirect_to_tool(tool.url_name, tool.label)
            actions[action.__name__] = (action, action.__name__, tool.label)
        return actions

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):  # noqa: ANN001, ANN201
        tools = []
        for tool in USER_TOOLS:
            try:
                tools.append((tool.label, reverse(tool.url_name, kwargs={"user_id": object_id})))
            except NoReverseMatch:
                continue
        extra_context = {**(extra_context or {}), "support_tools": tools}
        return super().change_view(request, object_id, form_url, extra_context)


# django-oauth-toolkit's own admin shows tokens whole: show their last four characters only.
for _model, _base in ((AccessToken, AccessTokenAdmin), (RefreshToken, RefreshTokenAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

    class _Masked(_base):  # type: ignore[misc, valid-type]
        search_fields = ["user__username", "user__email"]

        def get_list_display(self, request: HttpRequest) -> list[str]:
            return ["token_end" if f == "token" else f for f in super().get_list_display(request)]

        def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
            return ["token_end" if f == "token" else f for f in super().get_fields(request, obj)]

        def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
            return [*super().get_readonly_fields(request, obj), "token_end"]

        @admin.display(description="token")
        def token_end(self, obj: Any) -> str:
            return mask_token(obj.token) or "—"

    admin.site.register(_model, _Masked)
