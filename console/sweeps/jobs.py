"""The sweep as a background job (settings.JOB_RUNNERS["sweep"]): a sweep with fixes asked
through the API, or the Health page's bulk fix of a kept sweep when it is large."""

from __future__ import annotations

from typing import Any

from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError
from support_tools.jobs.models import Job
from support_tools.jobs.service import JobContext

ACTION = "sweep"
ACTOR_GONE = "The account that asked for this job no longer exists; nothing was done."


def job_actor(job: Job) -> Actor:
    """The person who asked, checked again by every service the job runs."""
    if job.actor is None:  # never run as a trusted system actor in its place
        raise SupportError(ACTOR_GONE, kind=ErrorKind.PERMISSION)
    return Actor.for_user(job.actor, door=job.door)


def run_sweep_job(job: Job, context: JobContext) -> dict[str, Any]:
    from console.sweeps.service import fix_findings, get_sweep, run_sweep, stored_result

    payload = job.payload
    actor = job_actor(job)
    if payload.get("sweep") is not None:  # fix what a kept sweep found
        sweep = get_sweep(payload["sweep"])
        fix_findings(
            sweep=sweep,
            codes=payload["fix"],
            actor=actor,
            dry_run=job.dry_run,
            progress=context.progress,
        )
        sweep.refresh_from_db()
        return stored_result(sweep, codes=payload["fix"]).as_dict()
    result = run_sweep(
        playbooks=payload.get("playbook"),
        fix=payload.get("fix"),
        actor=actor,
        dry_run=job.dry_run,
        progress=context.progress,
    )
    return result.as_dict()
