"""Linking program enrollments (external user keys) to users: the service of every door.

How it stays fast and atomic per learner:
1. Rows are screened in Python (malformed, duplicate keys, duplicate usernames).
2. Learners go in batches of BATCH_SIZE: everything a batch needs is read in a constant
   number of queries (selectors.read_people, selectors.read_courses).
3. Each learner is decided in Python into a `_Plan`: plain data (ids and values) of its writes.
   Every rule that can refuse a learner is checked here, before anything is written.
4. The plans of a batch are written together, a constant number of statements, inside a
   savepoint. If the database refuses them (a concurrent change), the batch is replayed
   learner by learner, each in its own savepoint: the failing learner rolls back alone.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from enrollments.linking import bulk_sql
from enrollments.linking.selectors import (
    CourseSnapshot,
    PeopleSnapshot,
    UserRow,
    program_exists,
    read_courses,
    read_people,
)
from enrollments.models import (
    AUDIT,
    HONOR,
    MASTERS,
    CourseAccessRole,
    CourseAccessRoleAssignment,
    CourseEnrollment,
    ProgramCourseEnrollment,
    ProgramEnrollment,
    course_org,
)
from support_tools.actors import Actor
from support_tools.audit import AuditTrail, support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.permissions import ActionSpec

log = logging.getLogger(__name__)

ACTION = "link_program_enrollments"
PERMISSION = "run_link_program_enrollments"
# A dry run only reads: it needs view access to program enrollments, not the run permission.
DRY_RUN_PERMISSION = "enrollments.view_programenrollment"
LINK_PROGRAM_ENROLLMENTS = ActionSpec(ACTION, preview=DRY_RUN_PERMISSION, apply=(PERMISSION,))
BATCH_SIZE = 500

LINKED, RELINKED, UNCHANGED, ERROR = "linked", "relinked", "unchanged", "error"
STATUSES = (LINKED, RELINKED, UNCHANGED, ERROR)

# --- Errors of the whole call --------------------------------------------------------------
BAD_PROGRAM_UUID = "{value!r} is not a program UUID (expected e.g. 0b6b7f3e-...-...)."
PROGRAM_NOT_FOUND = "No program enrollment exists in the program {program}: check the program UUID."
NO_ROWS = "No rows to link: give at least one external_user_key,username row."

# --- Errors of one row ---------------------------------------------------------------------
MALFORMED_ROW = "Malformed row: it needs an external user key and a username."
KEY_TOO_LONG = "Malformed row: the external user key is longer than 255 characters."
USERNAME_TOO_LONG = "Malformed row: the username is longer than 150 characters."
DUPLICATE_KEY = (
    "The external user key {key!r} is on {count} rows of the input (keys match "
    "case-insensitively); none of them was linked: keep one row per key."
)
DUPLICATE_USERNAME = (
    "The username {username!r} is on {count} rows with different external user keys; "
    "none of them was linked: a learner has one key per program, keep one row per learner."
)
USER_NOT_FOUND = "No user has the username {username!r}."
USERNAME_CASE = (
    "No user has the username {username!r} (usernames are case-sensitive); did you mean "
    "{suggestions}?"
)
NO_PROGRAM_ENROLLMENT = "No program enrollment has the external user key {key!r} in this program."
AMBIGUOUS_KEY = (
    "Several program enrollments of one curriculum match the key {key!r} case-insensitively "
    "({keys}); an engineer must merge them first."
)
ALREADY_ENROLLED = (
    "{username} is already enrolled in this program under the external user key {other!r}; "
    "a learner holds one key per program: correct the sheet or unlink that key first."
)
NO_MASTERS_MODE = (
    "The course {course_key} has no masters mode: add that course mode, then run this row again."
)
CONFLICTS_WITH_ROW = (
    "Another row of this input changes a course enrollment that linking {username} changes "
    "too; run this row again after the others are done."
)
LINK_FAILED = (
    "Linking {key!r} to {username} failed and was rolled back: nothing was changed for this "
    "learner (the records probably changed meanwhile). Run the row again; if it fails again, "
    "an engineer will find the cause in the server log."
)

# --- Result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    external_user_key: str
    username: str
    status: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "external_user_key": self.external_user_key,
            "username": self.username,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class LinkResult:
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "dry_run": self.dry_run,
            "program_uuid": self.program_uuid,
            "counts": self.counts,
            "results": [r.as_dict() for r in self.rows],
        }


# --- The service ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Input:
    key: str
    username: str
    error: str = ""


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
    rows = [_read_pair(pair) for pair in pairs]
    if not rows:
        raise SupportError(NO_ROWS)
    inputs = {
        "program_uuid": str(program),
        "rows": len(rows),
        "pairs": [[r.key, r.username] for r in rows],
    }
    with support_action(
        LINK_PROGRAM_ENROLLMENTS, actor=actor, inputs=inputs, dry_run=dry_run
    ) as trail:
        if not program_exists(program):
            raise SupportError(PROGRAM_NOT_FOUND.format(program=program), kind=ErrorKind.NOT_FOUND)
        outcomes: dict[int, LinkRow] = {}
        pending = _screen(rows, outcomes)
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


def _read_pair(pair: Any) -> _Input:
    try:
        key, username = pair
    except (TypeError, ValueError):
        return _Input("", "", MALFORMED_ROW)
    key = key.strip() if isinstance(key, str) else ""
    username = username.strip() if isinstance(username, str) else ""
    if not key or not username:
        return _Input(key, username, MALFORMED_ROW)
    if len(key) > 255:
        return _Input(key, username, KEY_TOO_LONG)
    if len(username) > 150:
        return _Input(key, username, USERNAME_TOO_LONG)
    return _Input(key, username)


def _screen(rows: list[_Input], outcomes: dict[int, LinkRow]) -> list[int]:
    """Row errors that need no database; returns the indexes of the rows left to link."""
    for i, row in enumerate(rows):
        if row.error:
            outcomes[i] = _error(row, row.error)
    keys = Counter(r.key.lower() for r in rows if not r.error)
    for i, row in enumerate(rows):
        if i not in outcomes and keys[row.key.lower()] > 1:
            outcomes[i] = _error(
                row, DUPLICATE_KEY.format(key=row.key, count=keys[row.key.lower()])
            )
    keys_of_user: dict[str, set[str]] = defaultdict(set)
    for i, row in enumerate(rows):
        if i not in outcomes:
            keys_of_user[row.username].add(row.key.lower())
    for i, row in enumerate(rows):
        count = len(keys_of_user[row.username])
        if i not in outcomes and count > 1:
            outcomes[i] = _error(row, DUPLICATE_USERNAME.format(username=row.username, count=count))
    return [i for i in range(len(rows)) if i not in outcomes]


def _error(row: _Input, message: str) -> LinkRow:
    return LinkRow(row.key, row.username, ERROR, message)


# --- One batch -----------------------------------------------------------------------------


@dataclass
class _Plan:
    """One learner's writes as plain data, so that they can be written with others or alone."""

    index: int
    row: _Input
    user: UserRow
    status: str = LINKED
    message: str = ""
    program_enrollment_users: list[tuple[int, int]] = field(default_factory=list)
    course_enrollment_updates: list[tuple[int, str, bool]] = field(default_factory=list)
    course_enrollment_creates: list[tuple[str, str, bool]] = field(default_factory=list)
    course_links: list[tuple[int, str]] = field(default_factory=list)  # (pce id, course key)
    roles: list[tuple[str, str, str]] = field(default_factory=list)  # (course key, role, org)
    assignment_ids: list[int] = field(default_factory=list)
    audit: list[tuple[str, str, Any, Any]] = field(default_factory=list)


class _Vanished(DatabaseError):
    """A record read for the batch was gone when writing: handled like a refused write."""


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _link_batch(
    program: uuid.UUID,
    rows: list[_Input],
    batch: list[int],
    outcomes: dict[int, LinkRow],
    trail: AuditTrail,
) -> None:
    people = read_people(
        program_uuid=program,
        keys={rows[i].key.lower() for i in batch},
        usernames={rows[i].username for i in batch},
    )
    to_link: list[tuple[int, UserRow, list[ProgramEnrollment]]] = []
    for i in batch:
        row = rows[i]
        try:
            user, enrollments = _who(row, people)
        except _Refused as refused:
            outcomes[i] = _error(row, refused.message)
            continue
        if not enrollments:
            outcomes[i] = LinkRow(
                row.key, row.username, UNCHANGED, f"Already linked to {user.username}."
            )
            continue
        to_link.append((i, user, enrollments))

    courses = read_courses(
        program_enrollment_ids=[pe.pk for _, _, pes in to_link for pe in pes],
        user_ids=[user.id for _, user, _ in to_link],
    )
    plans: list[_Plan] = []
    touched: dict[Any, int] = {}  # course enrollment -> the row that writes it
    for i, user, enrollments in to_link:
        try:
            plan = _plan(i, rows[i], user, enrollments, courses)
            _claim(plan, touched)
        except _Refused as refused:
            outcomes[i] = _error(rows[i], refused.message)
            continue
        plans.append(plan)
    _write_batch(plans, outcomes, trail)


def _who(row: _Input, people: PeopleSnapshot) -> tuple[UserRow, list[ProgramEnrollment]]:
    """The user and those of the key's program enrollments that are not linked to them yet."""
    user = people.users.get(row.username)
    if user is None:
        variants = people.case_variants.get(row.username.lower())
        if variants:
            suggestions = " or ".join(repr(v) for v in sorted(variants))
            raise _Refused(USERNAME_CASE.format(username=row.username, suggestions=suggestions))
        raise _Refused(USER_NOT_FOUND.format(username=row.username))
    enrollments = people.by_key.get(row.key.lower())
    if not enrollments:
        raise _Refused(NO_PROGRAM_ENROLLMENT.format(key=row.key))
    curricula = Counter(pe.curriculum_uuid for pe in enrollments)
    if any(n > 1 for n in curricula.values()):
        keys = ", ".join(sorted(repr(pe.external_user_key) for pe in enrollments))
        raise _Refused(AMBIGUOUS_KEY.format(key=row.key, keys=keys))
    own = {pe.pk for pe in enrollments}
    for pe in enrollments:
        held = people.held.get((user.id, pe.curriculum_uuid))
        if held is not None and held.pk not in own:
            raise _Refused(
                ALREADY_ENROLLED.format(username=user.username, other=held.external_user_key)
            )
    return user, [pe for pe in enrollments if pe.user_id != user.id]


def _plan(
    index: int,
    row: _Input,
    user: UserRow,
    enrollments: list[ProgramEnrollment],
    courses: CourseSnapshot,
) -> _Plan:
    plan = _Plan(index=index, row=row, user=user)
    course_rows = [
        (pe, pce) for pe in enrollments for pce in courses.by_program_enrollment.get(pe.pk, [])
    ]
    for _, pce in course_rows:
        if MASTERS not in courses.modes.get(pce.course_key, ()):
            raise _Refused(NO_MASTERS_MODE.format(course_key=pce.course_key))

    # Unlink the previous learners: their course enrollments through the program are
    # deactivated, moved to audit where the course offers it, and detached (re-attached below).
    previous: list[str] = []
    deactivated = 0
    for pe in enrollments:
        old_name = pe.user.username if pe.user is not None else None
        if old_name and old_name not in previous:
            previous.append(old_name)
        plan.program_enrollment_users.append((pe.pk, user.id))
        plan.audit.append(
            (f"enrollments.ProgramEnrollment#{pe.pk}", "user", old_name, user.username)
        )
    for pe, pce in course_rows:
        old = pce.course_enrollment
        if old is None or old.user_id == user.id or old.user_id != pe.user_id:
            continue
        mode = AUDIT if AUDIT in courses.modes[pce.course_key] else old.mode
        deactivated += 1
        if (old.mode, old.is_active) != (mode, False):
            plan.course_enrollment_updates.append((old.pk, mode, False))
            _audit_course_enrollment(plan, old, mode, False)

    # Link: the user's enrollment in each course, in masters mode, active as the program says.
    active_in: dict[str, bool] = {}
    for _, pce in course_rows:
        active = pce.status == ProgramCourseEnrollment.Status.ACTIVE
        active_in[pce.course_key] = active_in.get(pce.course_key, False) or active
    created = upgraded = kept = 0
    other_modes: list[str] = []
    for course_key, active in active_in.items():
        current = courses.enrollments.get((user.id, course_key))
        if current is None:
            plan.course_enrollment_creates.append((course_key, MASTERS, active))
            plan.audit.append(
                (
                    "enrollments.CourseEnrollment",
                    "created",
                    None,
                    [user.username, course_key, MASTERS, active],
                )
            )
            created += 1
            continue
        mode = current.mode
        if mode in (AUDIT, HONOR):
            mode = MASTERS
            upgraded += 1
        elif mode == MASTERS:
            kept += 1
        else:
            other_modes.append(f"{course_key} stays in {mode} mode (not masters)")
        if (current.mode, current.is_active) != (mode, active):
            plan.course_enrollment_updates.append((current.pk, mode, active))
            _audit_course_enrollment(plan, current, mode, active)
    for _, pce in course_rows:
        current = courses.enrollments.get((user.id, pce.course_key))
        if current is None or pce.course_enrollment_id != current.pk:
            plan.course_links.append((pce.pk, pce.course_key))

    # Waiting roles become the user's roles.
    granted: list[str] = []
    for _, pce in course_rows:
        for assignment in courses.assignments.get(pce.pk, []):
            role = (pce.course_key, assignment.role, course_org(pce.course_key))
            if (user.id, *role) not in courses.roles and role not in plan.roles:
                plan.roles.append(role)
                plan.audit.append(
                    ("enrollments.CourseAccessRole", "created", None, [user.username, *role])
                )
            plan.assignment_ids.append(assignment.pk)
            granted.append(f"{assignment.role} in {pce.course_key}")

    plan.status = RELINKED if previous else LINKED
    plan.message = _describe(
        user.username, previous, deactivated, created, upgraded, kept, other_modes, granted
    )
    return plan


def _audit_course_enrollment(plan: _Plan, enrollment: Any, mode: str, active: bool) -> None:
    plan.audit.append(
        (
            f"enrollments.CourseEnrollment#{enrollment.pk}",
            "mode, is_active",
            [enrollment.mode, enrollment.is_active],
            [mode, active],
        )
    )


def _describe(
    username: str,
    previous: list[str],
    deactivated: int,
    created: int,
    upgraded: int,
    kept: int,
    other_modes: list[str],
    granted: list[str],
) -> str:
    if previous:
        parts = [f"Relinked from {', '.join(previous)} to {username}"]
        if deactivated:
            parts.append(
                f"{deactivated} course enrollment(s) of {', '.join(previous)} deactivated "
                "(moved to audit where offered) and detached"
            )
    else:
        parts = [f"Linked to {username}"]
    masters = [
        f"{n} {what}"
        for n, what in ((created, "created"), (upgraded, "moved to masters"), (kept, "kept"))
        if n
    ]
    if masters:
        parts.append(f"masters course enrollments: {', '.join(masters)}")
    parts.extend(other_modes)
    if granted:
        parts.append(f"waiting role(s) granted: {', '.join(granted)}")
    return "; ".join(parts) + "."


def _claim(plan: _Plan, touched: dict[Any, int]) -> None:
    """Refuse a plan that writes a course enrollment another plan of the batch writes."""
    mine = [("id", pk) for pk, _, _ in plan.course_enrollment_updates] + [
        ("new", plan.user.id, course_key) for course_key, _, _ in plan.course_enrollment_creates
    ]
    if any(touched.get(key, plan.index) != plan.index for key in mine):
        raise _Refused(CONFLICTS_WITH_ROW.format(username=plan.user.username))
    for key in mine:
        touched[key] = plan.index


# --- Writing -------------------------------------------------------------------------------


def _write_batch(plans: list[_Plan], outcomes: dict[int, LinkRow], trail: AuditTrail) -> None:
    if not plans:
        return
    try:
        with transaction.atomic():
            _write(plans)
        done = plans
    except DatabaseError:
        log.warning("linking batch refused by the database; retrying learner by learner")
        done = []
        for plan in plans:
            try:
                with transaction.atomic():
                    _write([plan])
            except DatabaseError:
                log.exception("linking %r to %s failed", plan.row.key, plan.user.username)
                message = LINK_FAILED.format(key=plan.row.key, username=plan.user.username)
                outcomes[plan.index] = _error(plan.row, message)
                continue
            done.append(plan)
    for plan in done:
        outcomes[plan.index] = LinkRow(plan.row.key, plan.row.username, plan.status, plan.message)
        for obj, field_name, before, after in plan.audit:
            trail.changed(obj, field_name, before, after)


def _write(plans: Iterable[_Plan]) -> None:
    """All the writes of `plans` in a constant number of statements."""
    plans = list(plans)
    bulk_sql.update_rows(
        CourseEnrollment,
        ["mode", "is_active"],
        [u for p in plans for u in p.course_enrollment_updates],
    )
    bulk_sql.update_rows(
        ProgramEnrollment, ["user"], [u for p in plans for u in p.program_enrollment_users]
    )
    now = timezone.now()
    bulk_sql.insert_rows(
        CourseEnrollment,
        ["user", "course_key", "mode", "is_active", "created"],
        [(p.user.id, *c, now) for p in plans for c in p.course_enrollment_creates],
    )
    links = [(pce_id, p.user.id, key) for p in plans for pce_id, key in p.course_links]
    if links:
        ids = dict(
            (((user_id, key), pk))
            for pk, user_id, key in CourseEnrollment.objects.filter(
                user_id__in={u for _, u, _ in links}, course_key__in={k for _, _, k in links}
            ).values_list("pk", "user_id", "course_key")
        )
        if any((user_id, key) not in ids for _, user_id, key in links):
            raise _Vanished("a course enrollment was deleted while linking")
        bulk_sql.update_rows(
            ProgramCourseEnrollment,
            ["course_enrollment"],
            [(pce_id, ids[(user_id, key)]) for pce_id, user_id, key in links],
        )
    bulk_sql.insert_rows(
        CourseAccessRole,
        ["user", "course_key", "role", "org"],
        [(p.user.id, *role) for p in plans for role in p.roles],
    )
    assignment_ids = [pk for p in plans for pk in p.assignment_ids]
    if assignment_ids:
        CourseAccessRoleAssignment.objects.filter(pk__in=assignment_ids).delete()
