"""The Celery app: Django's settings under the CELERY_ namespace, tasks found in every app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("support_tools")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
