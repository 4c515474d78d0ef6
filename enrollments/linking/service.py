"""Linking program enrollments (external user keys) to users: the service of every door.

How it stays linear in the sheet and atomic per learner:
1. The whole sheet is screened first, in Python (rows.py): malformed rows, and keys or
   usernames on several rows anywhere in the sheet.
2. The sheet is linked in steps of STEP_BATCHES batches. A step is one transaction with its
   own audit row: its changes, its counts, and every learner it touched (`trail.touched`), so
   nothing accumulates across steps and memory is bounded by the step, not the sheet. A sheet
   of one step is one call and one audit row; a longer one is several rows that together make
   the run (their inputs name it: a background job's id, or a run id).
3. Each batch of BATCH_SIZE learners reads what it needs in a constant number of queries
   (selectors.py), decides each learner in Python into a `Plan` (plan.py: every refusal is
   known before anything is written), then writes all the plans together (write.py) inside a
   savepoint; if the database refuses them, learner by learner.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, connections

from enrollments.linking.plan import (
    ALREADY_LINKED,
    Match,
    Plan,
    Refused,
    claim,
    match,
    plan_learner,
)
from enrollments.linking.rows import (
    ERROR,
    LINKED,
    RELINKED,
    STATUSES,
    UNCHANGED,
    LinkInput,
    LinkRow,
    error_row,
    read_pair,
    screen,
)
from enrollments.linking.selectors import program_exists, read_courses, read_people
from enrollments.linking.write import write_batch
from support_tools import bulk_sql, collector
from support_tools.actors import Actor
from support_tools.audit import AuditTrail, ident, support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from support_tools.results import Repair

ACTION = "link_program_enrollments"
PERMISSION = "run_link_program_enrollments"
# A dry run only reads: it needs view access to program enrollments, not the run permission.
DRY_RUN_PERMISSION = "enrollments.view_programenrollment"
LINK_PROGRAM_ENROLLMENTS = ActionSpec(ACTION, preview=DRY_RUN_PERMISSION, apply=(PERMISSION,))
BATCH_SIZE = 2000
STEP_BATCHES = 1
# The outcome, in the audit trail, of the learner a relink took the key from.
UNLINKED = "unlinked"

BAD_PROGRAM_UUID = "{value!r} is not a program UUID (expected e.g. 0b6b7f3e-...-...)."
PROGRAM_NOT_FOUND = "No program enrollment exists in the program {program}: check the program UUID."
NO_ROWS = "No rows to link: give at least one external_user_key,username row."

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LinkResult(Repair):
    program_uuid: str
    dry_run: bool
    rows: tuple[LinkRow, ...]

    @property
    def changed(self) -> bool:
        return any(r.status in (LINKED, RELINKED) for r in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        return count_statuses(r.status for r in self.rows)

    def summary(self) -> dict[str, Any]:
        """The JSON without the per-row list (an audit row's result, a job's header)."""
        return {
            "changed": self.changed,
            "dry_run": self.dry_run,
            "program_uuid": self.program_uuid,
            "counts": self.counts,
        }

    def payload(self) -> dict[str, Any]:
        return {
            "program_uuid": self.program_uuid,
            "counts": self.counts,
            "results": [r.as_dict() for r in self.rows],
        }


def count_statuses(statuses: Iterable[str]) -> dict[str, int]:
    found = Counter(statuses)
    return {status: found.get(status, 0) for status in STATUSES}


@dataclass(frozen=True)
class Sheet:
    """A whole sheet, screened: the rows refused as they stand are known before any step."""

    program: uuid.UUID
    rows: list[LinkInput]
    refused: dict[int, LinkRow]  # row index -> its error

    def steps(self) -> list[tuple[int, int]]:
        """The [start, stop) row ranges of its steps."""
        size = BATCH_SIZE * STEP_BATCHES
        return [(i, min(i + size, len(self.rows))) for i in range(0, len(self.rows), size)]


def read_sheet(program_uuid: uuid.UUID | str, pairs: Sequence[Any]) -> Sheet:
    """The sheet's rows, screened whole; refuses a bad program UUID or an empty sheet."""
    program = _program_uuid(program_uuid)
    rows = [read_pair(pair) for pair in pairs]
    if not rows:
        raise SupportError(NO_ROWS)
    refused: dict[int, LinkRow] = {}
    screen(rows, refused)
    return Sheet(program, rows, refused)


def link_program_enrollments(
    *,
    program_uuid: uuid.UUID | str,
    pairs: Sequence[Any],
    actor: Actor,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> LinkResult:
    """Link each (external_user_key, username) pair of `pairs` in the program; one result per
    pair, in order. `progress(done, total)` is called after each batch of learners, inside its
    step's transaction, with the number of rows done.

    A sheet longer than one step is linked step by step, each committed with its audit row (a
    dry run rolls each step back); on PostgreSQL LINK_WORKERS steps at a time, each on its own
    connection (see `in_parallel`). A failure stops the run there: steps not started are not
    run, and what the steps done did stays done, whole. Running the sheet again finishes it."""
    with collector.paused():
        sheet = read_sheet(program_uuid, pairs)
        steps = sheet.steps()
        run = {"run": uuid.uuid4().hex} if len(steps) > 1 else None
        done = StepProgress(progress, len(sheet.rows))

        def one(start: int, stop: int) -> list[LinkRow]:
            return link_step(
                sheet,
                start,
                stop,
                actor=actor,
                dry_run=dry_run,
                part_of=run,
                progress=lambda last, _total: done.update(start, last - start),
            )

        rows = [row for part in in_parallel(steps, one) for row in part]
        return LinkResult(program_uuid=str(sheet.program), dry_run=dry_run, rows=tuple(rows))


def link_step(
    sheet: Sheet,
    start: int,
    stop: int,
    *,
    actor: Actor,
    dry_run: bool = False,
    progress: Progress | None = None,
    part_of: dict[str, str] | None = None,
    keep: Callable[[list[LinkRow]], None] | None = None,
) -> list[LinkRow]:
    """Rows [start, stop) of the sheet: one transaction, one audit row. `keep(rows)` stores the
    step's outcomes (a job's results) so that they are kept exactly when the step is: in its
    transaction, or after a dry run's rollback."""
    inputs: dict[str, Any] = {
        "program_uuid": ident(sheet.program),
        "rows": stop - start,
        "pairs": [[r.key, r.username] for r in sheet.rows[start:stop]],
    }
    if (start, stop) != (0, len(sheet.rows)):
        inputs["sheet_rows"] = f"{start + 1}-{stop} of {len(sheet.rows)}"
    inputs.update(part_of or {})
    with support_action(
        LINK_PROGRAM_ENROLLMENTS, actor=actor, inputs=inputs, dry_run=dry_run
    ) as trail:
        bulk_sql.prefer_index_probes()
        if not program_exists(sheet.program):
            raise SupportError(
                PROGRAM_NOT_FOUND.format(program=sheet.program), kind=ErrorKind.NOT_FOUND
            )
        outcomes: dict[int, LinkRow] = {}
        created = 0
        for first in range(start, stop, BATCH_SIZE):
            last = min(first + BATCH_SIZE, stop)
            created += _link_batch(sheet, range(first, last), outcomes, trail, dry_run=dry_run)
            if progress is not None:
                progress(last, len(sheet.rows))
        rows = [outcomes[i] for i in range(start, stop)]
        step = LinkResult(str(sheet.program), dry_run, tuple(rows))
        # Counts only: each learner's outcome is in the trail's learners, each change of an
        # existing record in its changes; the rows themselves went back to the caller.
        trail.result = {**step.summary(), "course_enrollments_created": created}
        trail.outcome = (
            SupportAction.Outcome.CHANGED if step.changed else SupportAction.Outcome.UNCHANGED
        )
        if keep is not None and not dry_run:
            keep(rows)
    if keep is not None and dry_run:
        keep(rows)
    return rows


def _program_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise SupportError(BAD_PROGRAM_UUID.format(value=value)) from None


def _link_batch(
    sheet: Sheet,
    indexes: range,
    outcomes: dict[int, LinkRow],
    trail: AuditTrail,
    *,
    dry_run: bool,
) -> int:
    """Links the rows `indexes`; returns how many course enrollments it created."""
    rows = sheet.rows
    pending = []
    for i in indexes:
        if i in sheet.refused:
            outcomes[i] = sheet.refused[i]
        else:
            pending.append(i)
    people = read_people(
        program_uuid=sheet.program,
        keys={rows[i].key.lower() for i in pending},
        # Refused rows' users too: the trail records each learner a row named.
        usernames={rows[i].username for i in indexes if rows[i].username},
    )
    found: list[tuple[int, Match]] = []
    for i in pending:
        try:
            found.append((i, match(rows[i], people)))
        except Refused as refused:
            outcomes[i] = error_row(rows[i], refused.message)

    courses = read_courses(
        program_enrollment_ids=[pe.pk for _, m in found for pe in m.enrollments],
        user_ids=[m.user.id for _, m in found],
    )
    plans: list[Plan] = []
    claimed: dict[Any, int] = {}  # course enrollment -> the row that writes it
    for i, m in found:
        try:
            plan = plan_learner(i, rows[i], m, courses, dry_run=dry_run)
            if plan is None:
                already = ALREADY_LINKED.format(username=m.user.username)
                outcomes[i] = LinkRow(rows[i].key, rows[i].username, UNCHANGED, already)
                continue
            claim(plan, claimed)
        except Refused as refused:
            outcomes[i] = error_row(rows[i], refused.message)
            continue
        plans.append(plan)
    write_batch(plans, outcomes, trail)
    _record_learners(indexes, rows, outcomes, people.users, found, trail)
    return sum(len(p.course_enrollment_creates) for p in plans if outcomes[p.index].status != ERROR)


def _record_learners(
    indexes: range,
    rows: list[LinkInput],
    outcomes: dict[int, LinkRow],
    users: dict[str, Any],
    found: list[tuple[int, Match]],
    trail: AuditTrail,
) -> None:
    """Every learner a row names (its error included) and every learner a relink took a key
    from: `SupportAction.objects.about(learner)` finds the run's row."""
    for i in indexes:
        user = users.get(rows[i].username)
        if user is not None:
            trail.touched(user.id, key=rows[i].key, outcome=outcomes[i].status)
    for i, m in found:
        if outcomes[i].status != ERROR:
            for user_id in m.previous:
                trail.touched(user_id, key=rows[i].key, outcome=UNLINKED)


class StepProgress:
    """Rows done across steps that may run at once: `update(step, rows)` says how many rows of
    the step starting at `step` are done; `progress(done, total)` gets the sum, in order."""

    def __init__(self, progress: Progress | None, total: int, *, done: int = 0) -> None:
        self.progress, self.total, self.before = progress, total, done
        self.steps: dict[int, int] = {}
        self.lock = threading.Lock()

    @property
    def done(self) -> int:
        return self.before + sum(self.steps.values())

    def update(self, step: int, rows: int) -> None:
        with self.lock:
            self.steps[step] = rows
            if self.progress is not None:
                self.progress(self.done, self.total)


T = TypeVar("T")


def in_parallel(steps: list[tuple[int, int]], run: Callable[[int, int], T]) -> list[T]:
    """`run(start, stop)` of each step, in the order of `steps`.

    On PostgreSQL, outside any transaction (each step commits on its own), LINK_WORKERS
    threads run them, each on its own connection: while one waits on the database, another
    works in Python. The steps hold different learners (read_sheet refuses a key or username
    named twice), take their row locks in id order and retry a deadlock (write.py), as two runs
    at once do. Elsewhere (SQLite locks the whole database; inside a transaction the steps are
    savepoints of one connection) one after the other.

    A failing step stops the run: no further step starts, those running finish, and the first
    failing step's exception is raised."""
    workers = min(settings.LINK_WORKERS, len(steps))
    if workers < 2 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return [run(start, stop) for start, stop in steps]
    results: dict[int, T] = {}
    failures: dict[int, BaseException] = {}
    queue = iter(list(enumerate(steps)))
    lock, stopping = threading.Lock(), threading.Event()

    def work(own_connection: bool = True) -> None:
        try:
            while True:
                with lock:
                    taken = None if failures or stopping.is_set() else next(queue, None)
                if taken is None:
                    return
                i, (start, stop) = taken
                try:
                    results[i] = run(start, stop)
                except BaseException as exc:  # raised again by the caller's thread, below
                    with lock:
                        failures[i] = exc
                    return
        finally:
            if own_connection:  # a thread's connection closes with it
                connections.close_all()

    threads = [threading.Thread(target=work, name=f"link-step-{n}") for n in range(1, workers)]
    for thread in threads:
        thread.start()
    try:
        work(own_connection=False)  # this thread works too, on its own connection
    finally:
        stopping.set()  # even when interrupted here (a time limit): no further step starts
        for thread in threads:
            thread.join()
    if failures:
        raise failures[min(failures)]
    return [results[i] for i in range(len(steps))]
