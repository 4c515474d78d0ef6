"""diagnose_program_enrollments: does each program course enrollment of a learner hold the
course enrollment that linking sets up? Writes only its audit row.

Per program enrollment of the learner, each program course enrollment must hold a course
enrollment of that learner, active exactly when the program course enrollment is, in the
masters track while it is active; and no course role may still wait on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from accounts.selectors import resolve_user
from enrollments.models import (
    MASTERS,
    CourseAccessRoleAssignment,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from support_tools.actors import Actor
from support_tools.audit import ident, support_action
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from support_tools.results import Diagnosis, Problem, warning

DIAGNOSE_PROGRAM_ENROLLMENTS = ActionSpec(
    "diagnose_program_enrollments", preview="enrollments.view_programenrollment"
)

# Re-linking the learner's key repairs only waiting roles: linking leaves an already linked
# learner's course enrollments as they are (see enrollments/README.md).
FIX_LINK = "link_program_enrollments"

MSG = {
    "course_enrollment_missing": "Program {program}, course {course}: the program course "
    "enrollment holds no course enrollment of {user}; enroll them in the course and attach "
    "that enrollment in the admin.",
    "course_enrollment_state": "Program {program}, course {course}: the program course "
    "enrollment is {status} but {user}'s course enrollment is {state}.",
    "course_enrollment_mode": "Program {program}, course {course}: {user}'s course enrollment "
    "is in the {mode} track, not masters, while the program course enrollment is active.",
    "staff_role_waiting": "Program {program}, course {course}: a {role} role still waits on "
    "{user}'s program course enrollment; linking {key!r} to {user} again grants it.",
    "staff_role_waiting_no_key": "Program {program}, course {course}: a {role} role still "
    "waits on {user}'s program course enrollment, which has no external user key to link "
    "again: grant the role in the admin.",
}


@dataclass(frozen=True)
class CourseState:
    """A program course enrollment and the learner's course enrollment it holds (if any)."""

    course: str
    status: str
    mode: str | None
    active: bool | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "course": self.course,
            "status": self.status,
            "mode": self.mode,
            "active": self.active,
        }


@dataclass(frozen=True)
class ProgramState:
    """One program enrollment of the learner, with the problems found in it."""

    program_uuid: str
    status: str
    external_user_key: str | None
    courses: tuple[CourseState, ...]
    problems: tuple[Problem, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "program_uuid": self.program_uuid,
            "status": self.status,
            "external_user_key": self.external_user_key,
            "courses": [c.as_dict() for c in self.courses],
        }


@dataclass(frozen=True)
class ProgramDiagnosis(Diagnosis):
    user: str
    programs: tuple[ProgramState, ...]

    @property
    def problems(self) -> tuple[Problem, ...]:  # type: ignore[override]
        return tuple(p for program in self.programs for p in program.problems)

    def program_of(self, problem: Problem | dict[str, Any]) -> ProgramState | None:
        """The program a problem (or its JSON) is about: what its fix needs."""
        message = problem["message"] if isinstance(problem, dict) else problem.message
        return next(
            (s for s in self.programs if any(p.message == message for p in s.problems)), None
        )

    def payload(self) -> dict[str, Any]:
        return {"user": self.user, "programs": [p.as_dict() for p in self.programs]}


def diagnose_program_enrollments(*, user: str | Any, actor: Actor) -> ProgramDiagnosis:
    inputs = {"user": ident(user)}
    with support_action(DIAGNOSE_PROGRAM_ENROLLMENTS, actor=actor, inputs=inputs) as trail:
        user_obj = resolve_user(user)
        trail.about(user_obj)
        result = ProgramDiagnosis(
            user=user_obj.username,
            programs=tuple(_check_program(pe, user_obj) for pe in _program_enrollments(user_obj)),
        )
        trail.result = result.as_dict()
        trail.outcome = SupportAction.Outcome.OK if result.ok else SupportAction.Outcome.PROBLEMS
    return result


def _program_enrollments(user: Any) -> list[ProgramEnrollment]:
    """The learner's program enrollments with everything checked, in three queries."""
    courses = (
        ProgramCourseEnrollment.objects.select_related("course_enrollment")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=CourseAccessRoleAssignment.objects.order_by("role", "pk"),
            )
        )
        .order_by("course_key")
    )
    return list(
        ProgramEnrollment.objects.filter(user=user)
        .order_by("program_uuid", "curriculum_uuid", "pk")
        .prefetch_related(Prefetch("program_course_enrollments", queryset=courses))
    )


def _check_program(pe: ProgramEnrollment, user: Any) -> ProgramState:
    courses: list[CourseState] = []
    problems: list[Problem] = []
    for pce in pe.program_course_enrollments.all():
        ce = pce.course_enrollment
        own = ce if ce is not None and ce.user_id == user.pk else None
        courses.append(
            CourseState(
                course=pce.course_key,
                status=pce.status,
                mode=own.mode if own else None,
                active=own.is_active if own else None,
            )
        )
        problems += _check_course(pe, pce, own, user)
        problems += _check_waiting_roles(pe, pce, user)
    return ProgramState(
        program_uuid=str(pe.program_uuid),
        status=pe.status,
        external_user_key=pe.external_user_key,
        courses=tuple(courses),
        problems=tuple(problems),
    )


def _check_course(
    pe: ProgramEnrollment, pce: ProgramCourseEnrollment, own: Any, user: Any
) -> list[Problem]:
    where = {"program": pe.program_uuid, "course": pce.course_key, "user": user.username}
    if own is None:
        return [
            warning("course_enrollment_missing", MSG["course_enrollment_missing"].format(**where))
        ]
    problems = []
    active = pce.status == ProgramCourseEnrollment.Status.ACTIVE
    if active != own.is_active:
        state = "active" if own.is_active else "inactive"
        problems.append(
            warning(
                "course_enrollment_state",
                MSG["course_enrollment_state"].format(status=pce.status, state=state, **where),
            )
        )
    if active and own.mode != MASTERS:
        problems.append(
            warning(
                "course_enrollment_mode",
                MSG["course_enrollment_mode"].format(mode=own.mode, **where),
            )
        )
    return problems


def _check_waiting_roles(
    pe: ProgramEnrollment, pce: ProgramCourseEnrollment, user: Any
) -> list[Problem]:
    where = {"program": pe.program_uuid, "course": pce.course_key, "user": user.username}
    key = pe.external_user_key
    return [
        warning(
            "staff_role_waiting",
            MSG["staff_role_waiting"].format(role=a.role, key=key, **where)
            if key
            else MSG["staff_role_waiting_no_key"].format(role=a.role, **where),
            FIX_LINK if key else None,
        )
        for a in pce.role_assignments.all()
    ]
