import uuid

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import USER_NOT_FOUND
from enrollments.linking.service import link_program_enrollments
from enrollments.models import CourseAccessRole, CourseEnrollment
from enrollments.programs.diagnosis import MSG, diagnose_program_enrollments
from support_tools.actors import Actor
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    PROGRAM,
    CourseAccessRoleAssignmentFactory,
    CourseEnrollmentFactory,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

C1, C2 = "course-v1:UNI+C1+2025", "course-v1:UNI+C2+2025"


@pytest.fixture
def lea():
    return UserFactory(username="lea", email="lea@example.com")


def program_of(user, key="UNI-1", **kwargs):
    return ProgramEnrollmentFactory(user=user, external_user_key=key, **kwargs)


def course(pe, course_key, status="active", *, user=None, mode="masters", active=None):
    """A program course enrollment holding a course enrollment of `user` (None: holds none)."""
    ce = None
    if user is not None:
        is_active = (status == "active") if active is None else active
        ce = CourseEnrollmentFactory(
            user=user, course_key=course_key, mode=mode, is_active=is_active
        )
    return ProgramCourseEnrollmentFactory(
        program_enrollment=pe, course_key=course_key, status=status, course_enrollment=ce
    )


def problems(diagnosis):
    return [(p.code, p.severity, p.fix) for p in diagnosis.problems]


def where(course_key, **kwargs):
    return {"program": PROGRAM, "course": course_key, "user": "lea", **kwargs}


def test_a_learner_linked_as_linking_leaves_them_is_ok(lea, system_actor):
    pe = program_of(lea)
    course(pe, C1, user=lea)
    course(pe, C2, "inactive", user=lea, mode="audit")  # inactive: its mode does not matter

    diagnosis = diagnose_program_enrollments(user="LEA@example.com", actor=system_actor)

    assert diagnosis.ok and diagnosis.problems == ()
    assert diagnosis.as_dict() == {
        "ok": True,
        "user": "lea",
        "programs": [
            {
                "program_uuid": str(PROGRAM),
                "status": "enrolled",
                "external_user_key": "UNI-1",
                "courses": [
                    {"course": C1, "status": "active", "mode": "masters", "active": True},
                    {"course": C2, "status": "inactive", "mode": "audit", "active": False},
                ],
            }
        ],
        "problems": [],
    }
    row = SupportAction.objects.get()
    assert (row.action, row.outcome, row.subject_user, row.changes) == (
        "diagnose_program_enrollments",
        "ok",
        lea,
        [],
    )
    assert row.inputs == {"user": "LEA@example.com"} and row.result == diagnosis.as_dict()


def test_a_learner_without_programs_is_ok(lea, system_actor):
    ProgramEnrollmentFactory(external_user_key="UNI-UNLINKED")
    diagnosis = diagnose_program_enrollments(user=lea, actor=system_actor)
    assert diagnosis.ok and diagnosis.as_dict()["programs"] == []
    assert SupportAction.objects.get().inputs == {"user": "lea"}


def test_course_enrollment_missing_when_none_or_another_learners(lea, system_actor):
    pe = program_of(lea)
    course(pe, C1)
    course(pe, C2, user=UserFactory(username="someone-else"))

    diagnosis = diagnose_program_enrollments(user=lea, actor=system_actor)

    assert problems(diagnosis) == [("course_enrollment_missing", "warning", None)] * 2
    assert [p.message for p in diagnosis.problems] == [
        MSG["course_enrollment_missing"].format(**where(C1)),
        MSG["course_enrollment_missing"].format(**where(C2)),
    ]
    assert f"Program {PROGRAM}, course {C1}:" in diagnosis.problems[0].message
    courses = diagnosis.as_dict()["programs"][0]["courses"]
    assert [(c["mode"], c["active"]) for c in courses] == [(None, None), (None, None)]
    # Warnings only: the learner is not blocked, as for every diagnosis.
    assert diagnosis.ok is True
    assert SupportAction.objects.get().outcome == "ok"


def test_course_enrollment_state_both_ways(lea, system_actor):
    pe = program_of(lea)
    course(pe, C1, "active", user=lea, active=False)
    course(pe, C2, "inactive", user=lea, active=True)

    diagnosis = diagnose_program_enrollments(user=lea, actor=system_actor)

    assert problems(diagnosis) == [("course_enrollment_state", "warning", None)] * 2
    assert [p.message for p in diagnosis.problems] == [
        MSG["course_enrollment_state"].format(status="active", state="inactive", **where(C1)),
        MSG["course_enrollment_state"].format(status="inactive", state="active", **where(C2)),
    ]


@pytest.mark.parametrize("mode", ["audit", "verified"])
def test_course_enrollment_mode_while_the_program_course_is_active(lea, system_actor, mode):
    pe = program_of(lea)
    course(pe, C1, user=lea, mode=mode)
    course(pe, C2, user=lea, mode=mode, active=False)

    diagnosis = diagnose_program_enrollments(user=lea, actor=system_actor)

    assert [p.code for p in diagnosis.problems] == [
        "course_enrollment_mode",
        "course_enrollment_state",
        "course_enrollment_mode",
    ]
    assert diagnosis.problems[0].message == MSG["course_enrollment_mode"].format(
        mode=mode, **where(C1)
    )
    assert {p.fix for p in diagnosis.problems} == {None}


def test_staff_role_waiting_is_fixed_by_linking_the_key_again(lea, system_actor):
    pe = program_of(lea)
    CourseAccessRoleAssignmentFactory(enrollment=course(pe, C1, user=lea), role="staff")

    diagnosis = diagnose_program_enrollments(user=lea, actor=system_actor)

    assert problems(diagnosis) == [("staff_role_waiting", "warning", "link_program_enrollments")]
    assert diagnosis.problems[0].message == MSG["staff_role_waiting"].format(
        role="staff", key="UNI-1", **where(C1)
    )
    assert diagnosis.program_of(diagnosis.problems[0]).external_user_key == "UNI-1"

    CourseModeFactory(course_key=C1, mode_slug="masters")
    link_program_enrollments(program_uuid=PROGRAM, pairs=[("UNI-1", "lea")], actor=system_actor)

    assert diagnose_program_enrollments(user=lea, actor=system_actor).problems == ()
    assert CourseAccessRole.objects.filter(user=lea, course_key=C1, role="staff").exists()


def test_staff_role_waiting_without_a_key_has_no_fix(lea, system_actor):
    pe = program_of(lea, key=None)
    CourseAccessRoleAssignmentFactory(enrollment=course(pe, C1, user=lea))

    diagnosis = diagnose_program_enrollments(user=lea, actor=system_actor)

    assert problems(diagnosis) == [("staff_role_waiting", "warning", None)]
    assert diagnosis.problems[0].message == MSG["staff_role_waiting_no_key"].format(
        role="staff", **where(C1)
    )


def test_linking_again_does_not_repair_course_enrollments_so_no_fix_is_offered(lea, system_actor):
    pe = program_of(lea)
    course(pe, C1)
    course(pe, C2, user=lea, mode="audit", active=False)
    for key in (C1, C2):
        CourseModeFactory(course_key=key, mode_slug="masters")
    before = diagnose_program_enrollments(user=lea, actor=system_actor)

    relinked = link_program_enrollments(
        program_uuid=PROGRAM, pairs=[("UNI-1", "lea")], actor=system_actor
    )

    assert relinked.rows[0].status == "unchanged"
    after = diagnose_program_enrollments(user=lea, actor=system_actor)
    assert problems(after) == problems(before)
    assert {p.fix for p in after.problems} == {None}


def test_problems_name_their_program_among_several(lea, system_actor):
    other = uuid.UUID("99999999-2222-3333-4444-555555555555")
    course(program_of(lea), C1, user=lea)
    course(program_of(lea, key="UNI-2", program_uuid=other), C2)

    diagnosis = diagnose_program_enrollments(user=lea, actor=system_actor)

    (problem,) = diagnosis.problems
    assert str(other) in problem.message and C2 in problem.message
    assert diagnosis.program_of(problem.as_dict()).program_uuid == str(other)
    assert [p["program_uuid"] for p in diagnosis.as_dict()["programs"]] == sorted(
        [str(PROGRAM), str(other)]
    )


def test_diagnosis_writes_nothing_but_its_audit_row(lea, system_actor):
    pe = program_of(lea)
    assignment = CourseAccessRoleAssignmentFactory(
        enrollment=course(pe, C1, user=lea, mode="audit")
    )

    diagnose_program_enrollments(user=lea, actor=system_actor)

    assert CourseEnrollment.objects.get(user=lea).mode == "audit"
    assignment.refresh_from_db()
    assert not CourseAccessRole.objects.exists()
    assert SupportAction.objects.count() == 1


def test_the_number_of_queries_does_not_grow_with_programs(lea, system_actor):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            diagnose_program_enrollments(user=lea, actor=system_actor)
        return len(ctx.captured_queries)

    pe = program_of(lea)
    CourseAccessRoleAssignmentFactory(enrollment=course(pe, C1, user=lea))
    one = queries()
    for n in range(4):
        other = program_of(lea, key=f"UNI-X{n}", program_uuid=uuid.uuid4())
        held = course(other, f"course-v1:UNI+X{n}+2025", user=lea)
        CourseAccessRoleAssignmentFactory(enrollment=held)
        course(other, C2)
    assert queries() == one


def test_staff_without_view_access_to_program_enrollments_are_refused(lea):
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_user"))

    with pytest.raises(SupportError) as refused:
        diagnose_program_enrollments(user=lea, actor=Actor.for_user(clerk, door="api"))

    assert refused.value.kind == ErrorKind.PERMISSION
    assert refused.value.message == PERMISSION_DENIED.format(action="diagnose_program_enrollments")
    assert SupportAction.objects.get().outcome == "failed"


def test_a_viewer_may_diagnose(lea, viewer_user):
    diagnosis = diagnose_program_enrollments(
        user=lea, actor=Actor.for_user(viewer_user, door="api")
    )
    assert diagnosis.ok


def test_an_unknown_user_is_not_found(system_actor):
    with pytest.raises(SupportError) as missing:
        diagnose_program_enrollments(user="nobody@example.com", actor=system_actor)

    assert missing.value.kind == ErrorKind.NOT_FOUND
    assert missing.value.message == USER_NOT_FOUND.format(identifier="nobody@example.com")
    row = SupportAction.objects.get()
    assert row.outcome == "failed" and row.inputs == {"user": "nobody@example.com"}
