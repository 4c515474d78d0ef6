"""The Celery app: Django's settings under the CELERY_ namespace, tasks found in every app."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("support_tools")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def keep_django_logging(**kwargs: object) -> None:
    """Connected, it stops Celery from installing its own handlers: the worker logs through
    Django's LOGGING, whose one handler masks secrets."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
