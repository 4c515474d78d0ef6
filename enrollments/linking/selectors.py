"""Reads of the enrollments app. The linking reads are bulk: a constant number of queries
for a whole batch of learners, whatever its size."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models.functions import Lower

from enrollments.models import (
    CourseAccessRole,
    CourseAccessRoleAssignment,
    CourseEnrollment,
    CourseMode,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)

User = get_user_model()


def program_exists(program_uuid: uuid.UUID) -> bool:
    return ProgramEnrollment.objects.filter(program_uuid=program_uuid).exists()


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str


@dataclass
class PeopleSnapshot:
    """Users named by a batch and the program enrollments of its keys."""

    users: dict[str, UserRow] = field(default_factory=dict)  # exact username -> user
    case_variants: dict[str, list[str]] = field(default_factory=dict)  # lower name -> usernames
    by_key: dict[str, list[ProgramEnrollment]] = field(default_factory=dict)  # lower key -> PEs
    # (user id, curriculum uuid) -> the program enrollment that user already holds in the program
    held: dict[tuple[int, uuid.UUID], ProgramEnrollment] = field(default_factory=dict)


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
    for pk, name in User.objects.filter(username__in=list(usernames)).values_list("pk", "username"):
        snap.users[name] = UserRow(pk, name)
    missing = {name.lower() for name in usernames if name not in snap.users}
    if missing:
        variants = (
            User.objects.annotate(name_ci=Lower("username"))
            .filter(name_ci__in=missing)
            .values_list("username", flat=True)
        )
        for name in variants:
            snap.case_variants.setdefault(name.lower(), []).append(name)

    enrollments = (
        ProgramEnrollment.objects.annotate(key_ci=Lower("external_user_key"))
        .filter(program_uuid=program_uuid, key_ci__in=list(keys))
        .select_related("user")
        .order_by("pk")
    )
    if lock:
        enrollments = enrollments.select_for_update(of=("self",))
    for pe in enrollments:
        snap.by_key.setdefault(pe.key_ci, []).append(pe)

    user_ids = [u.id for u in snap.users.values()]
    if user_ids:
        for pe in ProgramEnrollment.objects.filter(program_uuid=program_uuid, user_id__in=user_ids):
            snap.held[(pe.user_id, pe.curriculum_uuid)] = pe
    return snap


@dataclass
class CourseSnapshot:
    """The course side of the program enrollments being linked, and of their new users."""

    by_program_enrollment: dict[int, list[ProgramCourseEnrollment]] = field(
        default_factory=lambda: defaultdict(list)
    )
    modes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    enrollments: dict[tuple[int, str], CourseEnrollment] = field(default_factory=dict)
    assignments: dict[int, list[CourseAccessRoleAssignment]] = field(
        default_factory=lambda: defaultdict(list)
    )
    roles: set[tuple[int, str, str, str]] = field(default_factory=set)


def read_courses(
    *, program_enrollment_ids: Collection[int], user_ids: Collection[int]
) -> CourseSnapshot:
    snap = CourseSnapshot()
    if not program_enrollment_ids:
        return snap
    pces = (
        ProgramCourseEnrollment.objects.filter(
            program_enrollment_id__in=list(program_enrollment_ids)
        )
        .select_related("course_enrollment")
        .order_by("pk")
    )
    course_keys: set[str] = set()
    for pce in pces:
        snap.by_program_enrollment[pce.program_enrollment_id].append(pce)
        course_keys.add(pce.course_key)
    if not course_keys:
        return snap
    keys = sorted(course_keys)
    for course_key, slug in CourseMode.objects.filter(course_key__in=keys).values_list(
        "course_key", "mode_slug"
    ):
        snap.modes[course_key].add(slug)
    user_ids = list(user_ids)
    if user_ids:
        for ce in CourseEnrollment.objects.filter(user_id__in=user_ids, course_key__in=keys):
            snap.enrollments[(ce.user_id, ce.course_key)] = ce
        snap.roles = set(
            CourseAccessRole.objects.filter(user_id__in=user_ids, course_key__in=keys).values_list(
                "user_id", "course_key", "role", "org"
            )
        )
    pce_ids = [pce.pk for pces_of in snap.by_program_enrollment.values() for pce in pces_of]
    for assignment in CourseAccessRoleAssignment.objects.filter(enrollment_id__in=pce_ids).order_by(
        "pk"
    ):
        snap.assignments[assignment.enrollment_id].append(assignment)
    return snap
