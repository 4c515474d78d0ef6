"""The programs playbook's platform-wide selector: every linked learner's program course
enrollments checked as `diagnose_program_enrollments` checks one learner's.

In batches of linked program enrollments (keyset on the primary key), three queries each: the
batch's bounds, the program course enrollments that *may* have a problem (a superset, chosen
in SQL: no course enrollment, another user's, the wrong state or track, or a waiting role), and
their waiting roles. The diagnosis's own checks then decide on exactly those rows, so the
sweep says what the diagnosis says, word for word.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, F, OuterRef, Prefetch, Q

from enrollments.models import (
    MASTERS,
    CourseAccessRoleAssignment,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from enrollments.programs.diagnosis import _check_course, _check_waiting_roles
from support_tools.sweeps import DEFAULT_BATCH_SIZE, Finding, SweepStats, keyset_batches

PLAYBOOK = "programs"
SWEEP_CODES = frozenset(
    {
        "course_enrollment_missing",
        "course_enrollment_state",
        "course_enrollment_mode",
        "staff_role_waiting",
    }
)
ACTIVE = ProgramCourseEnrollment.Status.ACTIVE
# Large batches: PostgreSQL answers a batch's query by hashing the course enrollments once,
# whatever the batch's size, so fewer batches cost less (ten of them for 100,000 learners).
BATCH_SIZE = 10 * DEFAULT_BATCH_SIZE


def find_problems(
    *, batch_size: int = BATCH_SIZE, stats: SweepStats | None = None
) -> Iterator[Finding]:
    stats = stats if stats is not None else SweepStats()
    for ids in keyset_batches(_linked_after, batch_size):
        stats.add("program_enrollments", len(ids))
        yield from _check_batch(ids[0], ids[-1])


def size() -> int:
    """What a sweep of this playbook checks: the linked program enrollments."""
    return ProgramEnrollment.objects.filter(user__isnull=False).count()


def _linked_after(last: int, n: int) -> list[int]:
    return list(
        ProgramEnrollment.objects.filter(user__isnull=False, pk__gt=last)
        .order_by("pk")
        .values_list("pk", flat=True)[:n]
    )


def _suspects() -> Q:
    ce = "course_enrollment__"
    waiting = Exists(CourseAccessRoleAssignment.objects.filter(enrollment=OuterRef("pk")))
    return (
        Q(course_enrollment__isnull=True)
        | ~Q(**{f"{ce}user_id": F("program_enrollment__user_id")})
        | Q(status=ACTIVE, **{f"{ce}is_active": False})
        | (~Q(status=ACTIVE) & Q(**{f"{ce}is_active": True}))
        | (Q(status=ACTIVE) & ~Q(**{f"{ce}mode": MASTERS}))
        | Q(waiting)
    )


def _check_batch(first: int, last: int) -> Iterator[Finding]:
    roles = CourseAccessRoleAssignment.objects.order_by("role", "pk")
    rows = (
        ProgramCourseEnrollment.objects.filter(
            program_enrollment_id__gte=first,
            program_enrollment_id__lte=last,
            program_enrollment__user__isnull=False,
        )
        .filter(_suspects())
        .select_related("program_enrollment__user", "course_enrollment")
        .prefetch_related(Prefetch("role_assignments", queryset=roles))
        .order_by("program_enrollment_id", "course_key")
    )
    for pce in rows:
        pe = pce.program_enrollment
        user = pe.user
        ce = pce.course_enrollment
        own = ce if ce is not None and ce.user_id == user.pk else None
        target = f"program {pe.program_uuid}, course {pce.course_key}"
        for problem in [*_check_course(pe, pce, own, user), *_check_waiting_roles(pe, pce, user)]:
            yield Finding.of(
                PLAYBOOK,
                problem,
                target=target,
                user_id=user.pk,
                username=user.username,
                program_uuid=str(pe.program_uuid),
                external_user_key=pe.external_user_key,
            )
