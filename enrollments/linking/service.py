"""Linking program enrollments (external user keys) to users: the service of every door.

How it stays fast and atomic per learner:
1. Rows are screened in Python (rows.py: malformed, duplicate keys, duplicate usernames).
2. Learners go in batches of BATCH_SIZE: everything a batch needs is read in a constant
   number of queries (selectors.read_people, selectors.read_courses).
3. Each learner is decided in Python into a `Plan` (plan.py): plain data of its writes.
   Every rule that can refuse a learner is checked there, before anything is written.
4. The plans of a batch are written together (write.py), a constant number of statements,
   inside a savepoint; if the database refuses them, learner by learner.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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
from support_tools.actors import Actor
from support_tools.audit import AuditTrail, ident, support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.permissions import ActionSpec
from support_tools.results import Repair

ACTION = "link_program_enrollments"
PERMISSION = "run_link_program_enrollments"
# A dry run only reads: it needs view access to program enrollments, not the run permission.
DRY_RUN_PERMISSION = "enrollments.view_programenrollment"
LINK_PROGRAM_ENROLLMENTS = ActionSpec(ACTION, preview=DRY_RUN_PERMISSION, apply=(PERMISSION,))
BATCH_SIZE = 500

BAD_PROGRAM_UUID = "{value!r} is not a program UUID (expected e.g. 0b6b7f3e-...-...)."
PROGRAM_NOT_FOUND = "No program enrollment exists in the program {program}: check the program UUID."
NO_ROWS = "No rows to link: give at least one external_user_key,username row."


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
        found = Counter(r.status for r in self.rows)
        return {status: found.get(status, 0) for status in STATUSES}

    def payload(self) -> dict[str, Any]:
        return {
            "program_uuid": self.program_uuid,
            "counts": self.counts,
            "results": [r.as_dict() for r in self.rows],
        }


def link_program_enrollments(
    *,
    program_uuid: uuid.UUID | str,
    pairs: Sequence[Any],
    actor: Actor,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> LinkResult:
    """Link each (external_user_key, username) pair of `pairs` in the program; one result per
    pair, in order. `progress(done, total)` is called after each batch of learners."""
    program = _program_uuid(program_uuid)
    rows = [read_pair(pair) for pair in pairs]
    if not rows:
        raise SupportError(NO_ROWS)
    inputs = {
        "program_uuid": ident(program),
        "rows": len(rows),
        "pairs": [[r.key, r.username] for r in rows],
    }
    with support_action(
        LINK_PROGRAM_ENROLLMENTS, actor=actor, inputs=inputs, dry_run=dry_run
    ) as trail:
        if not program_exists(program):
            raise SupportError(PROGRAM_NOT_FOUND.format(program=program), kind=ErrorKind.NOT_FOUND)
        outcomes: dict[int, LinkRow] = {}
        pending = screen(rows, outcomes)
        for start in range(0, len(pending), BATCH_SIZE):
            batch = pending[start : start + BATCH_SIZE]
            _link_batch(program, rows, batch, outcomes, trail)
            if progress is not None:
                progress(start + len(batch), len(pending))
        result = LinkResult(
            program_uuid=str(program),
            dry_run=dry_run,
            rows=tuple(outcomes[i] for i in range(len(rows))),
        )
        trail.result = result.as_dict()
    return result


def _program_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise SupportError(BAD_PROGRAM_UUID.format(value=value)) from None


def _link_batch(
    program: uuid.UUID,
    rows: list[LinkInput],
    batch: list[int],
    outcomes: dict[int, LinkRow],
    trail: AuditTrail,
) -> None:
    people = read_people(
        program_uuid=program,
        keys={rows[i].key.lower() for i in batch},
        usernames={rows[i].username for i in batch},
    )
    found: list[tuple[int, Match]] = []
    for i in batch:
        try:
            found.append((i, match(rows[i], people)))
        except Refused as refused:
            outcomes[i] = error_row(rows[i], refused.message)

    courses = read_courses(
        program_enrollment_ids=[pe.pk for _, m in found for pe in m.enrollments],
        user_ids=[m.user.id for _, m in found],
    )
    plans: list[Plan] = []
    touched: dict[Any, int] = {}  # course enrollment -> the row that writes it
    for i, m in found:
        try:
            plan = plan_learner(i, rows[i], m, courses)
            if plan is None:
                already = ALREADY_LINKED.format(username=m.user.username)
                outcomes[i] = LinkRow(rows[i].key, rows[i].username, UNCHANGED, already)
                continue
            claim(plan, touched)
        except Refused as refused:
            outcomes[i] = error_row(rows[i], refused.message)
            continue
        plans.append(plan)
    write_batch(plans, outcomes, trail)
