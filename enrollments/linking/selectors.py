"""The bulk reads of linking: a constant number of queries for a whole batch of learners.

Each query is driven by an index on what the batch names (its keys, its users, its program
enrollments' ids), never by a join or a filter that the planner may answer with a scan of a
whole table: linking writes into the tables it reads, so a scan would cost more with every
batch (superlinear). Lists go as one parameter each (`AnyOf`), and rows come back as plain
tuples (`NamedTuple`s), not model instances: a batch reads thousands of them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.db.models.functions import Lower

from enrollments.models import (
    CourseAccessRole,
    CourseAccessRoleAssignment,
    CourseEnrollment,
    CourseMode,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from support_tools.bulk_sql import AnyOf, fetch

User = get_user_model()


def program_exists(program_uuid: uuid.UUID) -> bool:
    return ProgramEnrollment.objects.filter(program_uuid=program_uuid).exists()


class UserRow(NamedTuple):
    id: int
    username: str


class EnrollmentRow(NamedTuple):
    """A program enrollment."""

    pk: int
    user_id: int | None
    external_user_key: str | None
    curriculum_uuid: uuid.UUID


class ProgramCourseRow(NamedTuple):
    """A program course enrollment."""

    pk: int
    program_enrollment_id: int
    course_key: str
    course_enrollment_id: int | None
    status: str


class CourseEnrollmentRow(NamedTuple):
    pk: int
    user_id: int
    course_key: str
    mode: str
    is_active: bool


class AssignmentRow(NamedTuple):
    """A course role waiting on a program course enrollment."""

    pk: int
    enrollment_id: int
    role: str


@dataclass
class PeopleSnapshot:
    """Users named by a batch and the program enrollments of its keys."""

    users: dict[str, UserRow] = field(default_factory=dict)  # exact username -> user
    case_variants: dict[str, list[str]] = field(default_factory=dict)  # lower name -> usernames
    by_key: dict[str, list[EnrollmentRow]] = field(default_factory=dict)  # lower key -> PEs
    # (user id, curriculum uuid) -> the program enrollment that user already holds in the program
    held: dict[tuple[int, uuid.UUID], EnrollmentRow] = field(default_factory=dict)
    usernames: dict[int, str] = field(default_factory=dict)  # id -> username, holders included


def read_people(
    *,
    program_uuid: uuid.UUID,
    keys: Collection[str],
    usernames: Collection[str],
    lock: bool = True,
) -> PeopleSnapshot:
    """`keys` are lower-cased external user keys. The program enrollments are locked
    (select_for_update) so that two runs on the same learners serialize."""
    snap = PeopleSnapshot()
    enrollments = (
        ProgramEnrollment.objects.annotate(key_ci=Lower("external_user_key"))
        .filter(AnyOf(F("key_ci"), keys), program_uuid=program_uuid)
        .order_by("pk")
    )
    if lock:
        enrollments = enrollments.select_for_update()
    holders: set[int] = set()
    for *values, key_ci in fetch(
        enrollments.values_list("pk", "user_id", "external_user_key", "curriculum_uuid", "key_ci")
    ):
        pe = EnrollmentRow(*values)
        snap.by_key.setdefault(key_ci, []).append(pe)
        if pe.user_id is not None:
            holders.add(pe.user_id)

    names = list(usernames)
    found = User.objects.filter(Q(AnyOf(F("username"), names)) | Q(AnyOf(F("pk"), holders)))
    for pk, name in fetch(found.values_list("pk", "username")):
        snap.usernames[pk] = name
    wanted = set(names)
    snap.users = {name: UserRow(pk, name) for pk, name in snap.usernames.items() if name in wanted}
    missing = {name.lower() for name in names if name not in snap.users}
    if missing:
        variants = (
            User.objects.annotate(name_ci=Lower("username"))
            .filter(name_ci__in=missing)
            .values_list("username", flat=True)
        )
        for name in variants:
            snap.case_variants.setdefault(name.lower(), []).append(name)

    user_ids = [u.id for u in snap.users.values()]
    if user_ids:
        for values in fetch(
            ProgramEnrollment.objects.filter(
                AnyOf(F("user_id"), user_ids), program_uuid=program_uuid
            ).values_list("pk", "user_id", "external_user_key", "curriculum_uuid")
        ):
            pe = EnrollmentRow(*values)
            snap.held[(pe.user_id, pe.curriculum_uuid)] = pe
    return snap


@dataclass
class CourseSnapshot:
    """The course side of the program enrollments being linked, and of their new users."""

    by_program_enrollment: dict[int, list[ProgramCourseRow]] = field(
        default_factory=lambda: defaultdict(list)
    )
    modes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # (user id, course key) -> the course enrollment of a user the batch links
    enrollments: dict[tuple[int, str], CourseEnrollmentRow] = field(default_factory=dict)
    # id -> a course enrollment attached to one of the program course enrollments
    attached: dict[int, CourseEnrollmentRow] = field(default_factory=dict)
    assignments: dict[int, list[AssignmentRow]] = field(default_factory=lambda: defaultdict(list))
    roles: set[tuple[int, str, str, str]] = field(default_factory=set)


def read_courses(
    *, program_enrollment_ids: Collection[int], user_ids: Collection[int]
) -> CourseSnapshot:
    snap = CourseSnapshot()
    if not program_enrollment_ids:
        return snap
    pces = (
        ProgramCourseEnrollment.objects.filter(
            AnyOf(F("program_enrollment_id"), program_enrollment_ids)
        )
        .order_by("pk")
        .values_list("pk", "program_enrollment_id", "course_key", "course_enrollment_id", "status")
    )
    course_keys: set[str] = set()
    attached: set[int] = set()
    for values in fetch(pces):
        pce = ProgramCourseRow(*values)
        snap.by_program_enrollment[pce.program_enrollment_id].append(pce)
        course_keys.add(pce.course_key)
        if pce.course_enrollment_id is not None:
            attached.add(pce.course_enrollment_id)
    if not course_keys:
        return snap
    for course_key, slug in CourseMode.objects.filter(
        course_key__in=sorted(course_keys)
    ).values_list("course_key", "mode_slug"):
        snap.modes[course_key].add(slug)
    users = set(user_ids)
    # By user and by id only: a filter on the course keys could make the planner read every
    # enrollment of those courses, a set that linking makes grow.
    for values in fetch(
        CourseEnrollment.objects.filter(
            Q(AnyOf(F("user_id"), users)) | Q(AnyOf(F("pk"), attached))
        ).values_list("pk", "user_id", "course_key", "mode", "is_active")
    ):
        ce = CourseEnrollmentRow(*values)
        if ce.pk in attached:
            snap.attached[ce.pk] = ce
        if ce.user_id in users and ce.course_key in course_keys:
            snap.enrollments[(ce.user_id, ce.course_key)] = ce
    if users:
        snap.roles = {
            role
            for role in CourseAccessRole.objects.filter(AnyOf(F("user_id"), users)).values_list(
                "user_id", "course_key", "role", "org"
            )
            if role[1] in course_keys
        }
    pce_ids = [pce.pk for pces_of in snap.by_program_enrollment.values() for pce in pces_of]
    for values in fetch(
        CourseAccessRoleAssignment.objects.filter(AnyOf(F("enrollment_id"), pce_ids))
        .order_by("pk")
        .values_list("pk", "enrollment_id", "role")
    ):
        assignment = AssignmentRow(*values)
        snap.assignments[assignment.enrollment_id].append(assignment)
    return snap
