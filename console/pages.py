"""Every support page of the admin, listed here and nowhere else.

The project's URL module mounts `urls()` under /admin/support/ (URL names "support:<name>"),
and the user admin shows `USER_TOOLS` as buttons and actions on each user's page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.urls import URLPattern, path

from console import views
from console.sweeps.pages import PAGES as SWEEP_PAGES
from enrollments.linking.pages import PAGES as LINKING_PAGES
from enrollments.programs.pages import PAGES as PROGRAM_PAGES
from orgs.amc.pages import PAGES as AMC_PAGES
from orgs.codes.pages import PAGES as CODE_PAGES
from orgs.membership.pages import PAGES as MEMBERSHIP_PAGES
from support_tools.doors.pages import SupportPage, page_urls
from support_tools.jobs import pages as job_pages

PAGES: list[type[SupportPage]] = [
    *AMC_PAGES,
    *CODE_PAGES,
    *MEMBERSHIP_PAGES,
    *LINKING_PAGES,
    *PROGRAM_PAGES,
    *SWEEP_PAGES,
]


@dataclass(frozen=True)
class UserTool:
    label: str
    url_name: str


USER_TOOLS: list[UserTool] = [UserTool("Support console", "support:console-learner")] + [
    UserTool(page.user_tool, f"support:{page.name}") for page in PAGES if page.user_tool
]


def urls() -> list[URLPattern]:
    console = [
        path("console/", admin.site.admin_view(views.console_search), name="console"),
        path(
            "console/<int:user_id>/",
            admin.site.admin_view(views.console_learner),
            name="console-learner",
        ),
    ]
    return page_urls(PAGES, console + job_pages.urls())
