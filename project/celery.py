"""The Celery app: Django's settings under the CELERY_ namespace, tasks found in every app, and
the beat schedule of the sweep (SWEEP_SCHEDULE)."""

import datetime as dt
import os

from celery import Celery, signals
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("support_tools")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["console.sweeps"])

SWEEP_TASK = "console.run_scheduled_sweep"
SCHEDULE_INVALID = (
    "SWEEP_SCHEDULE must be a crontab in UTC ('minute hour day month weekday', e.g. '0 3 * * *') "
    "or a number of seconds ('3600', '30s'), not {value!r}."
)


def sweep_schedule(value: str) -> crontab | dt.timedelta:
    """SWEEP_SCHEDULE as Celery beat takes it."""
    text = (value or "").strip()
    parts = text.split()
    if len(parts) == 5:
        minute, hour, day, month, weekday = parts
        return crontab(
            minute=minute,
            hour=hour,
            day_of_month=day,
            month_of_year=month,
            day_of_week=weekday,
        )
    try:
        seconds = float(text.removesuffix("s"))
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise ValueError(SCHEDULE_INVALID.format(value=value))
    return dt.timedelta(seconds=seconds)


def beat_schedule() -> dict:
    from django.conf import settings

    return {
        "sweep": {"task": SWEEP_TASK, "schedule": sweep_schedule(settings.SWEEP_SCHEDULE)},
    }


@app.on_after_configure.connect
def schedule_the_sweep(sender: Celery, **kwargs: object) -> None:
    # once the configuration is read (not at import: the settings may still be loading)
    sender.conf.beat_schedule = beat_schedule()


@signals.setup_logging.connect
def keep_django_logging(**kwargs: object) -> None:
    """Connected, it stops Celery from installing its own handlers: the worker logs through
    Django's LOGGING, whose one handler masks secrets."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
