from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import MeView
from orgs.api import DiagnoseAmcUserView, EnsureAmcAdminView, EnsureAmcTokenView
from support_tools.admin_pages import page_urls
from support_tools.api_console import LearnerChecklistView

api_v1 = [
    path("me", MeView.as_view(), name="api-me"),
    path("amc/ensure-token", EnsureAmcTokenView.as_view(), name="api-ensure-amc-token"),
    path("amc/ensure-admin", EnsureAmcAdminView.as_view(), name="api-ensure-amc-admin"),
    path("amc/diagnose", DiagnoseAmcUserView.as_view(), name="api-diagnose-amc-user"),
    path("learners/checklist", LearnerChecklistView.as_view(), name="api-learner-checklist"),
    path("", include("orgs.api_codes")),
    path("", include("orgs.api_membership")),
    path("", include("enrollments.api")),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/support/", include((page_urls(), "support"))),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
