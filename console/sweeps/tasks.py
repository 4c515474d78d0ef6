"""The scheduled sweep: Celery beat sends this task (project/celery.py, SWEEP_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from support_tools.actors import Actor

TASK_NAME = "console.run_scheduled_sweep"
SCHEDULE_ACTOR = Actor(label="scheduled sweep (Celery beat)", door="schedule")


@shared_task(
    name=TASK_NAME,
    ignore_result=True,
    soft_time_limit=settings.JOB_TIME_LIMIT_SECONDS,
    time_limit=settings.JOB_TIME_LIMIT_SECONDS + 60,
)
def run_scheduled_sweep() -> int:
    from console.sweeps.service import run_sweep

    return run_sweep(actor=SCHEDULE_ACTOR).sweep_id
