"""The task queue's side of a job: the Celery task that runs it."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from support_tools.jobs import service


@shared_task(
    name="support_tools.run_job",
    acks_late=True,  # a worker that dies mid-job leaves the message to another worker
    reject_on_worker_lost=True,
    ignore_result=True,  # the job row holds the outcome
    soft_time_limit=settings.JOB_TIME_LIMIT_SECONDS,
    time_limit=settings.JOB_TIME_LIMIT_SECONDS + 60,
)
def run_job(job_id: str) -> None:
    service.run(job_id)
