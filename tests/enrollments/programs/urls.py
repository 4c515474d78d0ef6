"""The project's URLs with the programs diagnosis's doors mounted.

Until console/pages.py lists `enrollments.programs.pages.PAGES` and project/urls.py lists
"enrollments.programs.api" in API_MODULES, the doors' tests mount them here; once listed, this
module adds nothing and can go (with the `urls` marks of the tests).
"""

from django.urls import URLResolver, include, path

from console import pages as console_pages
from enrollments.programs.pages import PAGES
from project import urls as project_urls
from support_tools.doors.pages import page_urls

_missing_pages = [page for page in PAGES if page not in console_pages.PAGES]
_api_mounted = "enrollments.programs.api" in project_urls.API_MODULES


def _is_support(pattern: object) -> bool:
    return isinstance(pattern, URLResolver) and pattern.namespace == "support"


urlpatterns = [
    path("admin/support/", include((console_pages.urls() + page_urls(_missing_pages), "support"))),
    *(p for p in project_urls.urlpatterns if not _is_support(p)),
]
if not _api_mounted:
    urlpatterns.append(path("api/v1/", include("enrollments.programs.api")))
