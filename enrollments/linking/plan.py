"""Per-learner decisions of linking: whom a row names, and the writes that link them.

Every rule that can refuse a learner is checked here, before anything is written. A decision is
plain data (a `Plan` of ids and values) so that write.py can write many learners together, or
one alone when the database refuses the batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from enrollments.linking.rows import LINKED, RELINKED, LinkInput
from enrollments.linking.selectors import (
    CourseEnrollmentRow,
    CourseSnapshot,
    EnrollmentRow,
    PeopleSnapshot,
    ProgramCourseRow,
    UserRow,
)
from enrollments.models import AUDIT, HONOR, MASTERS, ProgramCourseEnrollment, course_org

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
ALREADY_LINKED = "Already linked to {username}."

CourseRow = tuple[EnrollmentRow, ProgramCourseRow]


class Refused(Exception):
    """A learner that cannot be linked: the row's error, the other rows proceed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Match:
    """The user a row names and the key's program enrollments, split into those to link and
    those already linked to that user."""

    user: UserRow
    to_link: list[EnrollmentRow]
    linked: list[EnrollmentRow]
    previous: dict[int, str] = field(default_factory=dict)  # user id -> username, of to_link

    @property
    def enrollments(self) -> list[EnrollmentRow]:
        return self.to_link + self.linked


@dataclass
class Plan:
    """One learner's writes as plain data, so that they can be written with others or alone."""

    index: int
    row: LinkInput
    user: UserRow
    status: str = LINKED
    message: str = ""
    program_enrollment_users: list[tuple[int, int]] = field(default_factory=list)
    course_enrollment_updates: list[tuple[int, str, bool]] = field(default_factory=list)
    course_enrollment_creates: list[tuple[str, str, bool]] = field(default_factory=list)
    # (pce id, course key, the user's course enrollment id, None when created by this plan)
    course_links: list[tuple[int, str, int | None]] = field(default_factory=list)
    roles: list[tuple[str, str, str]] = field(default_factory=list)  # (course key, role, org)
    assignment_ids: list[int] = field(default_factory=list)
    audit: list[tuple[str, str, Any, Any]] = field(default_factory=list)


@dataclass
class _Story:
    """What the row's message tells about a plan."""

    already_linked: bool = False
    previous: list[str] = field(default_factory=list)
    deactivated: int = 0
    created: int = 0
    upgraded: int = 0
    kept: int = 0
    other_modes: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)


# --- Whom the row names ----------------------------------------------------------------------


def match(row: LinkInput, people: PeopleSnapshot) -> Match:
    """The row's user and key, or `Refused`."""
    user = _user(row, people)
    enrollments = _enrollments_of_key(row, people)
    own = {pe.pk for pe in enrollments}
    for pe in enrollments:
        held = people.held.get((user.id, pe.curriculum_uuid))
        if held is not None and held.pk not in own:
            raise Refused(
                ALREADY_ENROLLED.format(username=user.username, other=held.external_user_key)
            )
    to_link = [pe for pe in enrollments if pe.user_id != user.id]
    return Match(
        user,
        to_link=to_link,
        linked=[pe for pe in enrollments if pe.user_id == user.id],
        previous={
            pe.user_id: people.usernames.get(pe.user_id, f"user #{pe.user_id}")
            for pe in to_link
            if pe.user_id is not None
        },
    )


def _user(row: LinkInput, people: PeopleSnapshot) -> UserRow:
    user = people.users.get(row.username)
    if user is not None:
        return user
    variants = people.case_variants.get(row.username.lower())
    if variants:
        suggestions = " or ".join(repr(v) for v in sorted(variants))
        raise Refused(USERNAME_CASE.format(username=row.username, suggestions=suggestions))
    raise Refused(USER_NOT_FOUND.format(username=row.username))


def _enrollments_of_key(row: LinkInput, people: PeopleSnapshot) -> list[EnrollmentRow]:
    enrollments = people.by_key.get(row.key.lower())
    if not enrollments:
        raise Refused(NO_PROGRAM_ENROLLMENT.format(key=row.key))
    # One enrollment (nearly every row) needs no count.
    curricula = Counter(pe.curriculum_uuid for pe in enrollments) if len(enrollments) > 1 else {}
    if any(n > 1 for n in curricula.values()):
        keys = ", ".join(sorted(repr(pe.external_user_key) for pe in enrollments))
        raise Refused(AMBIGUOUS_KEY.format(key=row.key, keys=keys))
    return enrollments


# --- The plan of one learner -----------------------------------------------------------------


def plan_learner(
    index: int, row: LinkInput, found: Match, courses: CourseSnapshot, *, dry_run: bool = False
) -> Plan | None:
    """The writes that link the row's learner; None when there is nothing to write (the row is
    `unchanged`). `Refused` when a course cannot take the learner."""
    if found.to_link:
        return _plan_link(index, row, found, courses, dry_run)
    return _plan_waiting_roles(index, row, found, courses, dry_run)


def _plan_link(
    index: int, row: LinkInput, found: Match, courses: CourseSnapshot, dry_run: bool
) -> Plan:
    """Link the key's enrollments to the user: unlink their previous learner, enroll the user
    in masters, grant the roles waiting on any of the key's enrollments."""
    plan = Plan(index=index, row=row, user=found.user)
    story = _Story()
    course_rows = _course_rows(found.to_link, courses)
    _require_masters_modes(course_rows, courses)
    _relink_program_enrollments(plan, story, found)
    _deactivate_previous_course_enrollments(plan, story, course_rows, courses)
    _enroll_in_masters(plan, story, course_rows, courses)
    _attach_course_enrollments(plan, course_rows, courses)
    _grant_waiting_roles(plan, story, course_rows + _course_rows(found.linked, courses), courses)
    plan.status = RELINKED if story.previous else LINKED
    plan.message = _describe(found.user.username, story, would=dry_run)
    return plan


def _plan_waiting_roles(
    index: int, row: LinkInput, found: Match, courses: CourseSnapshot, dry_run: bool
) -> Plan | None:
    """An already linked learner: only roles that wait on their program course enrollments
    (added after the link) are left to grant. Their course enrollments are not touched: a
    re-run sheet must not undo what support changed since (a course deactivated on purpose)."""
    plan = Plan(index=index, row=row, user=found.user)
    story = _Story(already_linked=True)
    _grant_waiting_roles(plan, story, _course_rows(found.linked, courses), courses)
    if not plan.assignment_ids:
        return None
    plan.message = _describe(found.user.username, story, would=dry_run)
    return plan


def _course_rows(enrollments: list[EnrollmentRow], courses: CourseSnapshot) -> list[CourseRow]:
    return [(pe, pce) for pe in enrollments for pce in courses.by_program_enrollment.get(pe.pk, [])]


def _require_masters_modes(course_rows: list[CourseRow], courses: CourseSnapshot) -> None:
    for _, pce in course_rows:
        if MASTERS not in courses.modes.get(pce.course_key, ()):
            raise Refused(NO_MASTERS_MODE.format(course_key=pce.course_key))


def _relink_program_enrollments(plan: Plan, story: _Story, found: Match) -> None:
    for pe in found.to_link:
        old_name = found.previous.get(pe.user_id) if pe.user_id is not None else None
        if old_name and old_name not in story.previous:
            story.previous.append(old_name)
        plan.program_enrollment_users.append((pe.pk, plan.user.id))
        plan.audit.append(
            (f"enrollments.ProgramEnrollment#{pe.pk}", "user", old_name, plan.user.username)
        )


def _deactivate_previous_course_enrollments(
    plan: Plan, story: _Story, course_rows: list[CourseRow], courses: CourseSnapshot
) -> None:
    """The previous learner's course enrollments through the program are deactivated, moved to
    audit where the course offers it, and detached (the new user's are attached instead)."""
    for pe, pce in course_rows:
        old = courses.attached.get(pce.course_enrollment_id)
        if old is None or old.user_id == plan.user.id or old.user_id != pe.user_id:
            continue
        mode = AUDIT if AUDIT in courses.modes[pce.course_key] else old.mode
        story.deactivated += 1
        if (old.mode, old.is_active) != (mode, False):
            plan.course_enrollment_updates.append((old.pk, mode, False))
            _audit_course_enrollment(plan, old, mode, False)


def _enroll_in_masters(
    plan: Plan, story: _Story, course_rows: list[CourseRow], courses: CourseSnapshot
) -> None:
    """The user's enrollment in each program course, in masters mode, active exactly when a
    program course enrollment of that course is active."""
    for course_key, active in _active_courses(course_rows).items():
        current = courses.enrollments.get((plan.user.id, course_key))
        if current is None:
            # Counted in the audit row, not listed: the program course enrollment points at
            # it, and it is the bulk of a sheet's writes (three per learner).
            plan.course_enrollment_creates.append((course_key, MASTERS, active))
            story.created += 1
            continue
        mode = _masters_mode(current.mode, course_key, story)
        if (current.mode, current.is_active) != (mode, active):
            plan.course_enrollment_updates.append((current.pk, mode, active))
            _audit_course_enrollment(plan, current, mode, active)


def _active_courses(course_rows: list[CourseRow]) -> dict[str, bool]:
    active_in: dict[str, bool] = {}
    for _, pce in course_rows:
        active = pce.status == ProgramCourseEnrollment.Status.ACTIVE
        active_in[pce.course_key] = active_in.get(pce.course_key, False) or active
    return active_in


def _masters_mode(mode: str, course_key: str, story: _Story) -> str:
    """Audit and honor move to masters; masters stays; a paid mode is kept, and said."""
    if mode in (AUDIT, HONOR):
        story.upgraded += 1
        return MASTERS
    if mode == MASTERS:
        story.kept += 1
    else:
        story.other_modes.append(f"{course_key} stays in {mode} mode (not masters)")
    return mode


def _attach_course_enrollments(
    plan: Plan, course_rows: list[CourseRow], courses: CourseSnapshot
) -> None:
    for _, pce in course_rows:
        current = courses.enrollments.get((plan.user.id, pce.course_key))
        if current is None or pce.course_enrollment_id != current.pk:
            plan.course_links.append((pce.pk, pce.course_key, current.pk if current else None))


def _grant_waiting_roles(
    plan: Plan, story: _Story, course_rows: list[CourseRow], courses: CourseSnapshot
) -> None:
    """Waiting roles become the user's roles (once each); the waiting rows are deleted."""
    for _, pce in course_rows:
        for assignment in courses.assignments.get(pce.pk, []):
            role = (pce.course_key, assignment.role, course_org(pce.course_key))
            if (plan.user.id, *role) not in courses.roles and role not in plan.roles:
                plan.roles.append(role)
                plan.audit.append(
                    ("enrollments.CourseAccessRole", "created", None, [plan.user.username, *role])
                )
            plan.assignment_ids.append(assignment.pk)
            story.granted.append(f"{assignment.role} in {pce.course_key}")


def _audit_course_enrollment(
    plan: Plan, enrollment: CourseEnrollmentRow, mode: str, active: bool
) -> None:
    plan.audit.append(
        (
            f"enrollments.CourseEnrollment#{enrollment.pk}",
            "mode, is_active",
            [enrollment.mode, enrollment.is_active],
            [mode, active],
        )
    )


def _describe(username: str, story: _Story, *, would: bool) -> str:
    """The row's sentence: what was done, or on a dry run what would be (nothing was)."""
    done = _WOULD if would else _DONE
    if story.previous:
        previous = ", ".join(story.previous)
        parts = [done["relinked"].format(previous=previous, username=username)]
        if story.deactivated:
            parts.append(
                f"{story.deactivated} course enrollment(s) of {previous} "
                + done["deactivated"]
                + " (moved to audit where offered) and detached"
            )
    elif story.already_linked:
        parts = [f"Already linked to {username}"]
    else:
        parts = [done["linked"].format(username=username)]
    masters = [
        f"{n} {done[what]}"
        for n, what in (
            (story.created, "created"),
            (story.upgraded, "upgraded"),
            (story.kept, "kept"),
        )
        if n
    ]
    if masters:
        parts.append(f"masters course enrollments: {', '.join(masters)}")
    parts.extend(story.other_modes)
    if story.granted:
        parts.append(f"waiting role(s) {done['granted']}: {', '.join(story.granted)}")
    return "; ".join(parts) + "."


_DONE = {
    "relinked": "Relinked from {previous} to {username}",
    "linked": "Linked to {username}",
    "deactivated": "deactivated",
    "created": "created",
    "upgraded": "moved to masters",
    "kept": "kept",
    "granted": "granted",
}
_WOULD = {
    "relinked": "Would relink from {previous} to {username}",
    "linked": "Would link to {username}",
    "deactivated": "would be deactivated",
    "created": "would be created",
    "upgraded": "would move to masters",
    "kept": "kept",
    "granted": "to grant",
}


def claim(plan: Plan, touched: dict[Any, int]) -> None:
    """Refuse a plan that writes a course enrollment another plan of the batch writes."""
    mine = [("id", pk) for pk, _, _ in plan.course_enrollment_updates] + [
        ("new", plan.user.id, course_key) for course_key, _, _ in plan.course_enrollment_creates
    ]
    if any(touched.get(key, plan.index) != plan.index for key in mine):
        raise Refused(CONFLICTS_WITH_ROW.format(username=plan.user.username))
    for key in mine:
        touched[key] = plan.index
