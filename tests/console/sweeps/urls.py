"""The project's URLs with the sweeps' REST module mounted, as project/urls.py will once
"console.sweeps.api" is in its API_MODULES."""

from django.urls import include, path

from project.urls import API_MODULES
from project.urls import urlpatterns as project_urls

MOUNTED = "console.sweeps.api" in API_MODULES
urlpatterns = list(project_urls)
if not MOUNTED:
    urlpatterns.append(path("api/v1/", include("console.sweeps.api")))
