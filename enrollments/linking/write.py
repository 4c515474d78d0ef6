"""Writing the plans of a batch: a constant number of statements, atomic per learner.

The plans of a batch are written together inside a savepoint. If the database refuses them (a
concurrent change), the batch is replayed learner by learner, each in its own savepoint: the
failing learner rolls back alone and gets LINK_FAILED, never the database's text (the cause
goes to the server log, one line).

Two runs at once: each statement writes its rows in id order (so that two runs take the row
locks of a table in the same order), and a deadlock or serialization failure, which rolls back
only the savepoint and its locks, is retried up to WRITE_ATTEMPTS times before it is the
learners' own error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from enrollments.linking.plan import Plan
from enrollments.linking.rows import LinkRow, error_row
from enrollments.models import (
    CourseAccessRole,
    CourseAccessRoleAssignment,
    CourseEnrollment,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from support_tools import bulk_sql
from support_tools.audit import AuditTrail
from support_tools.bulk_sql import AnyOf

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3
# PostgreSQL's deadlock_detected and serialization_failure: another run won, try again.
TRANSIENT = frozenset({"40P01", "40001"})

LINK_FAILED = (
    "Linking {key!r} to {username} failed and was rolled back: nothing was changed for this "
    "learner (the records probably changed meanwhile). Run the row again; if it fails again, "
    "an engineer will find the cause in the server log."
)


class _Vanished(DatabaseError):
    """A record read for the batch was gone when writing: handled like a refused write."""


def write_batch(plans: list[Plan], outcomes: dict[int, LinkRow], trail: AuditTrail) -> None:
    """Write `plans`, then record each written learner's outcome and audit entries."""
    if not plans:
        return
    try:
        _attempt(plans)
        done = plans
    except DatabaseError as exc:
        log.warning("linking batch refused by the database (%s); learner by learner", _line(exc))
        done = [plan for plan in plans if _write_alone(plan, outcomes)]
    for plan in done:
        outcomes[plan.index] = LinkRow(plan.row.key, plan.row.username, plan.status, plan.message)
        trail.changed_many(plan.audit)


def _write_alone(plan: Plan, outcomes: dict[int, LinkRow]) -> bool:
    try:
        _attempt([plan])
    except DatabaseError as exc:
        # One line: the run goes on and reports the row; the traceback only at DEBUG.
        log.error(
            "linking %r to %s failed: %s",
            plan.row.key,
            plan.user.username,
            _line(exc),
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        message = LINK_FAILED.format(key=plan.row.key, username=plan.user.username)
        outcomes[plan.index] = error_row(plan.row, message)
        return False
    return True


def _attempt(plans: list[Plan]) -> None:
    """`_write` in a savepoint, again after a deadlock or serialization failure: rolling the
    savepoint back released its locks, so the other run could go on meanwhile."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _write(plans)
            return
        except DatabaseError as exc:
            if attempt == WRITE_ATTEMPTS or not _transient(exc):
                raise
            log.warning("linking: %s; attempt %d of %d", _line(exc), attempt + 1, WRITE_ATTEMPTS)


def _transient(exc: DatabaseError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in TRANSIENT


def _line(exc: BaseException) -> str:
    """The exception as one log line: its type and the first line of its text."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _write(plans: Iterable[Plan]) -> None:
    """All the writes of `plans` in a constant number of statements, each in id order."""
    plans = list(plans)
    bulk_sql.update_rows(
        CourseEnrollment,
        ["mode", "is_active"],
        sorted(u for p in plans for u in p.course_enrollment_updates),
    )
    bulk_sql.update_rows(
        ProgramEnrollment, ["user"], sorted(u for p in plans for u in p.program_enrollment_users)
    )
    now = timezone.now()
    created = bulk_sql.insert_rows(
        CourseEnrollment,
        ["user", "course_key", "mode", "is_active", "created"],
        sorted((p.user.id, *c, now) for p in plans for c in p.course_enrollment_creates),
        returning=["user", "course_key", "id"],
    )
    _attach(
        [(pce_id, p.user.id, key, pk) for p in plans for pce_id, key, pk in p.course_links],
        {(user_id, key): pk for user_id, key, pk in created},
    )
    bulk_sql.insert_rows(
        CourseAccessRole,
        ["user", "course_key", "role", "org"],
        sorted((p.user.id, *role) for p in plans for role in p.roles),
    )
    assignment_ids = sorted(pk for p in plans for pk in p.assignment_ids)
    if assignment_ids:
        CourseAccessRoleAssignment.objects.filter(pk__in=assignment_ids).delete()


def _attach(
    links: list[tuple[int, int, str, int | None]], created: dict[tuple[int, str], int]
) -> None:
    """Point each program course enrollment (pce id, user id, course key, course enrollment id
    or None) at the user's course enrollment: one read before, or `created` by this write."""
    if not links:
        return
    existing = {pk for *_, pk in links if pk is not None}
    # Read, not locked: one deleted meanwhile would fail the whole step at its foreign key check.
    found = CourseEnrollment.objects.filter(AnyOf(F("pk"), existing)) if existing else None
    if found is not None and found.count() != len(existing):
        raise _Vanished("a course enrollment was deleted while linking")
    bulk_sql.update_rows(
        ProgramCourseEnrollment,
        ["course_enrollment"],
        sorted(
            (pce_id, created[(user_id, key)] if pk is None else pk)
            for pce_id, user_id, key, pk in links
        ),
    )
