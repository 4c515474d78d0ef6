"""Background jobs: enqueue bulk work, read its progress, cancel it.

A job's work is a *runner*: a function `runner(job, context) -> dict` named for each action in
the setting JOB_RUNNERS (dotted paths, read when the job runs: the base imports no app). The
runner does its work in steps, each one whole (its own transaction and audit rows), and calls
`context.progress(done, total)` between steps: that records progress and stops the job there
when it was cancelled. A job that is run again (a worker died, the time limit struck) runs the
runner again; runners are idempotent, so what was done reports `unchanged`.

A runner whose result lists many items (a link sheet's rows) keeps them with each step
(`context.keep_rows`, in the step's transaction) instead of returning them: a retried job
runs again only the steps that kept nothing (`context.kept_steps`), and the result is paged
and streamed from them. `as_dict` puts them back under their key, so the result is the
command's JSON. Steps may run at once (`expect_rows` names the columns before them).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from support_tools import bulk_sql
from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError
from support_tools.jobs.models import Job, JobRow

log = logging.getLogger(__name__)

JOB_NOT_FOUND = "No background job has the id {id}."
JOB_NOT_YOURS = "You may see and cancel only your own background jobs."
JOB_FINISHED = "The job {id} has already finished ({status}): there is nothing to cancel."
JOB_CANCELLED = (
    "Cancelled by {who} after {done} of {total}: each item done before it stays done, whole; "
    "run the same input again to finish the rest (what was done then reports unchanged)."
)
JOB_TIMED_OUT = (
    "Stopped at its time limit ({seconds} s) after {done} of {total}: each item done before it "
    "stays done, whole; run the same input again to finish the rest."
)
JOB_UNEXPECTED = (
    "An unexpected error stopped the job ({detail}) after {done} of {total}: each item done "
    "before it stays done, whole."
)
QUEUE_DOWN = "The task queue did not take the job ({detail}); nothing was done: try again later."
ACTOR_GONE = (
    "The account that started this job no longer exists; nothing more was done: start it again."
)
VIEW_ALL = "jobs.view_job"


class JobCancelled(Exception):
    pass


@dataclass
class JobContext:
    """What a runner gets besides its job: the way to report progress (and to be stopped)."""

    job: Job

    def progress(self, done: int, total: int | None = None) -> None:
        fields = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
        Job.objects.filter(pk=self.job.pk).update(**fields)
        self.job.progress_done = done
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled

    def keep_rows(
        self, first: int, rows: Sequence[dict[str, Any]], *, key: str = "results"
    ) -> None:
        """Keep a step's result items, numbered from `first`, in the caller's transaction;
        they appear under `key` of the result. Each item's "status" is kept for filters."""
        self.expect_rows(list(rows[0]) if rows else self.job.row_columns or [], key=key)
        # One statement of plain values: a step keeps thousands (bulk_create costs per row).
        bulk_sql.insert_rows(
            JobRow,
            ["job", "index", "status", "data"],
            [(self.job.pk, first + i, row.get("status", ""), row) for i, row in enumerate(rows)],
        )

    def kept_steps(self, firsts: Sequence[int]) -> set[int]:
        """Which of the steps starting at `firsts` kept their items (a step keeps all of its
        items or none: a retried job runs again only the steps that did not)."""
        rows = JobRow.objects.filter(job_id=self.job.pk, index__in=list(firsts))
        return set(rows.values_list("index", flat=True))

    def expect_rows(self, columns: Sequence[str], *, key: str = "results") -> None:
        """Name the items' key and columns before the steps: `keep_rows` then never writes
        the job's own row from a step's transaction (steps may run at once)."""
        if self.job.rows_key != key or self.job.row_columns != list(columns):
            Job.objects.filter(pk=self.job.pk).update(rows_key=key, row_columns=list(columns))
            self.job.rows_key, self.job.row_columns = key, list(columns)

    def kept_counts(self) -> dict[str, int]:
        return status_counts(self.job)

    def actor(self) -> Actor:
        """Who the job runs as: the person who started it, checked again at each step."""
        job = self.job
        if job.actor is not None:
            return Actor.for_user(job.actor, door=job.door)
        if job.summary.get("system"):
            return Actor(label=job.actor_label, door=job.door)
        raise SupportError(ACTOR_GONE)


def enqueue(
    action: str,
    *,
    actor: Actor,
    payload: dict[str, Any],
    summary: dict[str, Any],
    total: int,
    dry_run: bool = False,
) -> Job:
    """Record the job and hand it to the task queue once the caller's transaction commits."""
    if action not in settings.JOB_RUNNERS:
        raise SupportError(f"No background runner is configured for {action}.")
    if actor.user is None:
        summary = {**summary, "system": True}  # a shell's actor: see JobContext.actor
    job = Job.objects.create(
        action=action,
        actor=actor.user,
        actor_label=actor.label[:200],
        door=actor.door,
        dry_run=dry_run,
        summary=summary,
        payload=payload,
        progress_total=total,
    )
    transaction.on_commit(lambda: _send(job))
    return job


def _send(job: Job) -> None:
    from support_tools.jobs.tasks import run_job

    try:
        run_job.apply_async(args=[str(job.pk)], task_id=str(job.pk), retry=False)
    except Exception as exc:  # the broker is down: say so on the job instead of losing it
        log.error("could not enqueue job %s: %s", job.pk, type(exc).__name__)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            error=QUEUE_DOWN.format(detail=type(exc).__name__),
            finished_at=timezone.now(),
        )


def run(job_id: uuid.UUID | str) -> Job | None:
    """Run a job now, in this process (the task's body, and the commands' foreground run).
    A job that no longer exists (its message outlived it) is skipped with one log line."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        log.warning("job %s no longer exists: its message is dropped", job_id)
        return None
    if job.finished:
        return job
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), attempts=job.attempts + 1
    )
    job.refresh_from_db()
    context = JobContext(job)
    counts = {"done": job.progress_done, "total": job.progress_total}
    try:
        runner = import_string(settings.JOB_RUNNERS[job.action])
        result = runner(job, context)
    except JobCancelled:
        counts["done"] = context.job.progress_done
        job.refresh_from_db(fields=["summary"])
        return _finish(job, error=JOB_CANCELLED.format(who=job.cancel_label(), **counts))
    except SupportError as exc:
        return _finish(job, error=exc.message)
    except Exception as exc:
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            seconds = settings.JOB_TIME_LIMIT_SECONDS
            counts["done"] = context.job.progress_done
            return _finish(job, error=JOB_TIMED_OUT.format(seconds=seconds, **counts))
        log.exception("job %s (%s) failed", job.pk, job.action)
        counts["done"] = context.job.progress_done
        return _finish(job, error=JOB_UNEXPECTED.format(detail=type(exc).__name__, **counts))
    return _finish(job, result=result)


def _finish(job: Job, *, result: dict[str, Any] | None = None, error: str = "") -> Job:
    status = Job.Status.FAILED if error else Job.Status.DONE
    Job.objects.filter(pk=job.pk).update(
        status=status, result=result, error=error, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def get_job(job_id: uuid.UUID | str, *, actor: Actor) -> Job:
    try:
        job = Job.objects.get(pk=job_id)
    except (Job.DoesNotExist, ValueError, TypeError):
        raise SupportError(JOB_NOT_FOUND.format(id=job_id), kind=ErrorKind.NOT_FOUND) from None
    if actor.user is not None and job.actor_id != actor.user.pk and not actor.has_perm(VIEW_ALL):
        raise SupportError(JOB_NOT_YOURS, kind=ErrorKind.PERMISSION)
    return job


def cancel_job(job_id: uuid.UUID | str, *, actor: Actor) -> Job:
    """Ask a queued or running job to stop at its next step; a queued one stops before it
    starts. Idempotent."""
    job = get_job(job_id, actor=actor)
    if job.finished:
        raise SupportError(
            JOB_FINISHED.format(id=job.pk, status=job.status), kind=ErrorKind.CONFLICT
        )
    Job.objects.filter(pk=job.pk).update(
        cancel_requested=True, summary={**job.summary, "cancelled_by": actor.label}
    )
    if job.status == Job.Status.QUEUED:
        _finish(
            job,
            error=JOB_CANCELLED.format(who=actor.label, done=0, total=job.progress_total),
        )
    job.refresh_from_db()
    return job


def in_order(job: Job, data: dict[str, Any]) -> dict[str, Any]:
    """A kept row with its keys in the order the runner gave them (see Job.row_columns)."""
    columns = job.row_columns or []
    return {**{c: data[c] for c in columns if c in data}, **data}


def job_rows(job: Job, *, status: str | None = None) -> QuerySet[JobRow]:
    rows = JobRow.objects.filter(job=job)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("index")


def status_counts(job: Job) -> dict[str, int]:
    counted = job_rows(job).order_by().values_list("status").annotate(n=Count("id"))
    return dict(counted)


def as_dict(job: Job, *, url: str | None = None, rows: bool = True) -> dict[str, Any]:
    """The job as CONTRACT.md gives it; `rows=False` leaves the kept rows out of the result
    (a progress poll needs none)."""
    result = job.result
    if result is not None and job.rows_key and rows:
        items = job_rows(job).values_list("data", flat=True)
        kept = [in_order(job, data) for data in items.iterator(chunk_size=2000)]
        result = {**result, job.rows_key: kept}
    data = {
        "id": str(job.pk),
        "action": job.action,
        "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "result": result,
        "error": job.error or None,
    }
    if url is not None:
        data["url"] = url
    return data
