"""A link sheet as a background job: what the doors do with a sheet over BULK_SYNC_LIMIT rows.

`start_link_job` checks what can be checked at once (the sheet, the permission, the program)
and enqueues; `run_link_job` is the job's runner (settings.JOB_RUNNERS): the sheet is screened
whole, then linked step by step (service.link_step: each step one transaction and one audit
row whose inputs name the job), each step keeping its rows with it, LINK_WORKERS steps at a
time on PostgreSQL (service.in_parallel); progress is reported, and a cancel honoured, after
each step. A retried job (its worker died) runs again the steps it did not keep: a step that
was cut off was rolled back whole, so no learner is half-written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from enrollments.linking.rows import LINKED, RELINKED, LinkRow
from enrollments.linking.selectors import program_exists
from enrollments.linking.service import (
    ACTION,
    LINK_PROGRAM_ENROLLMENTS,
    PROGRAM_NOT_FOUND,
    StepProgress,
    count_statuses,
    in_parallel,
    link_step,
    read_sheet,
)
from support_tools import collector
from support_tools.actors import Actor
from support_tools.audit import ident, storable, support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.jobs import service as jobs
from support_tools.jobs.models import Job
from support_tools.jobs.service import JobContext

NOT_A_PREVIEW = (
    "Job {id} is not a finished preview of a link sheet: only a dry run that is done can be "
    "applied."
)


def start_link_job(
    *, program_uuid: uuid.UUID | str, pairs: Sequence[Any], actor: Actor, dry_run: bool = False
) -> Job:
    """Enqueue the linking of a whole sheet; refuses at once what the first step would."""
    sheet = read_sheet(program_uuid, pairs)
    inputs = {"program_uuid": ident(sheet.program), "rows": len(sheet.rows)}
    if not LINK_PROGRAM_ENROLLMENTS.allows(actor, dry_run=dry_run) or not program_exists(
        sheet.program
    ):
        # Refused like the service refuses: support_action checks and audits the refusal.
        with support_action(LINK_PROGRAM_ENROLLMENTS, actor=actor, inputs=inputs, dry_run=dry_run):
            raise SupportError(
                PROGRAM_NOT_FOUND.format(program=sheet.program), kind=ErrorKind.NOT_FOUND
            )
    return jobs.enqueue(
        ACTION,
        actor=actor,
        payload={"program_uuid": str(sheet.program), "rows": [_storable(p) for p in pairs]},
        summary=inputs,
        total=len(sheet.rows),
        dry_run=dry_run,
    )


def apply_link_job(job_id: uuid.UUID | str, *, actor: Actor) -> Job:
    """Run for real the sheet of a finished preview job (its Apply)."""
    preview = jobs.get_job(job_id, actor=actor)
    if preview.action != ACTION or not preview.dry_run or preview.status != Job.Status.DONE:
        raise SupportError(NOT_A_PREVIEW.format(id=preview.pk), kind=ErrorKind.CONFLICT)
    return start_link_job(
        program_uuid=preview.payload["program_uuid"],
        pairs=preview.payload["rows"],
        actor=actor,
        dry_run=False,
    )


def run_link_job(job: Job, context: JobContext) -> dict[str, Any]:
    """The runner: the command's JSON without its rows (kept by the steps, see JobContext).
    Steps run as the service runs them (`in_parallel`); progress is reported and a cancel
    honoured after each step."""
    with collector.paused():
        sheet = read_sheet(job.payload["program_uuid"], job.payload["rows"])
        actor = context.actor()
        total = len(sheet.rows)
        steps = sheet.steps()
        kept = context.kept_steps([start for start, _ in steps])
        todo = [(start, stop) for start, stop in steps if start not in kept]
        done = StepProgress(context.progress, total, done=total - sum(b - a for a, b in todo))
        context.progress(done.done, total)
        context.expect_rows([f.name for f in fields(LinkRow)])

        def one(start: int, stop: int) -> None:
            link_step(
                sheet,
                start,
                stop,
                actor=actor,
                dry_run=job.dry_run,
                part_of={"job": str(job.pk)},
                keep=lambda rows: context.keep_rows(start, [r.as_dict() for r in rows]),
            )
            done.update(start, stop - start)  # may raise JobCancelled: no further step starts

        in_parallel(todo, one)
    counts = count_statuses([])
    counts.update({s: n for s, n in context.kept_counts().items() if s in counts})
    return {
        "changed": bool(counts[LINKED] or counts[RELINKED]),
        "dry_run": job.dry_run,
        "program_uuid": str(sheet.program),
        "counts": counts,
    }


def _storable(pair: Any) -> Any:
    """A pair as JSON can keep it (PostgreSQL's jsonb refuses NUL)."""
    if isinstance(pair, list | tuple):
        return [storable(v) if isinstance(v, str) else v for v in pair]
    return pair
