"""The project's URLs: the admin with every support page, and one REST module per playbook."""

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from console import pages
from support_tools import oauth

# Each module's `urlpatterns`, mounted under /api/v1/.
API_MODULES = [
    "accounts.api",
    "orgs.amc.api",
    "orgs.codes.api",
    "orgs.membership.api",
    "enrollments.linking.api",
    "enrollments.programs.api",
    "console.api",
    "console.sweeps.api",
    "support_tools.jobs.api",
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/support/", include((pages.urls(), "support"))),
    path("admin/", admin.site.urls),
    path("api/v1/", include([path("", include(module)) for module in API_MODULES])),
    # For logged-in staff only; the split view serves its script as a file (no inline script).
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        staff_member_required(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    # The OAuth2 provider: token, revoke_token and introspect only.
    path("o/", include((oauth.urlpatterns, "oauth2_provider"))),
]
