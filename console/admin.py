"""The console's admin wiring: the site's titles and index, and Django's user admin with the
support tools on each user's page (the buttons come from the playbooks' pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from console.pages import USER_TOOLS
from console.sweeps import admin as sweeps_admin  # noqa: F401 - registers the sweeps' admin

User = get_user_model()

admin.site.site_header = "Support Tools"
admin.site.site_title = "Support Tools"
admin.site.index_title = "Support"
admin.site.index_template = "console/admin_index.html"


ONE_USER_AT_A_TIME = (
    "“{label}” opens one user's page, and you selected {count} users, so nothing was done. "
    "Tick only one user, then choose “{label}” again."
)


def _redirect_to_tool(url_name: str, label: str):  # noqa: ANN202 - builds an admin action
    # Each tool is a page with its own form, preview and Apply for one user: a selection of
    # several cannot be run from here without skipping that preview.
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any):  # noqa: ANN202
        users = list(queryset[:2])
        if len(users) != 1:
            count = queryset.count()
            messages.error(request, ONE_USER_AT_A_TIME.format(label=label, count=count))
            return None
        return HttpResponseRedirect(reverse(url_name, kwargs={"user_id": users[0].pk}))

    action.__name__ = "tool_" + url_name.replace("support:", "").replace("-", "_")
    action.short_description = label  # type: ignore[attr-defined]
    return action


admin.site.unregister(User)


@admin.register(User)
class SupportUserAdmin(UserAdmin):
    """Django's user admin, searchable by email, with the support tools on each user's page."""

    change_form_template = "console/user_change_form.html"
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
            tools.append((tool.label, reverse(tool.url_name, kwargs={"user_id": object_id})))
        extra_context = {**(extra_context or {}), "support_tools": tools}
        return super().change_view(request, object_id, form_url, extra_context)
