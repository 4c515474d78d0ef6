"""Demo data of the enrollments app: a master's program whose registrar keys wait to be
linked."""

from __future__ import annotations

from typing import Any

from accounts.demo import demo_user as _user
from enrollments.models import (
    CourseAccessRoleAssignment,
    CourseMode,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)

DEMO_PROGRAM = "8d2a6c1e-0b3f-4c5d-9e7f-a1b2c3d4e5f6"
DEMO_CURRICULUM = "8d2a6c1e-0b3f-4c5d-9e7f-000000000001"


def seed_programs() -> None:
    """A master's program whose registrar keys wait to be linked (README has the CSV)."""
    courses = ["course-v1:ACME+DS101+2026", "course-v1:ACME+ML201+2026"]
    for course in courses:
        for mode in ("audit", "masters"):
            CourseMode.objects.get_or_create(course_key=course, mode_slug=mode)
    # A course of the program without a masters mode: linking its learners is a row error.
    CourseMode.objects.get_or_create(course_key="course-v1:ACME+NOMA+2026", mode_slug="audit")

    def enrol(key: str, *, courses: list[str], user: Any = None) -> ProgramEnrollment:
        pe, _ = ProgramEnrollment.objects.get_or_create(
            external_user_key=key,
            program_uuid=DEMO_PROGRAM,
            curriculum_uuid=DEMO_CURRICULUM,
            defaults={"status": "enrolled", "user": user},
        )
        for course in courses:
            ProgramCourseEnrollment.objects.get_or_create(
                program_enrollment=pe, course_key=course, defaults={"status": "active"}
            )
        return pe

    for n in range(1, 4):
        _user(f"student{n}", f"student{n}@acme.example.edu")
        enrol(f"ACME-{n:04d}", courses=courses)
    wrong = _user("wrong-student", "wrong-student@acme.example.edu")
    _user("right-student", "right-student@acme.example.edu")
    enrol("ACME-0099", courses=courses, user=wrong)  # linked to the wrong account: relink
    ta = enrol("ACME-TA01", courses=courses[:1])
    _user("teaching-assistant", "ta@acme.example.edu")
    CourseAccessRoleAssignment.objects.get_or_create(
        enrollment=ta.program_course_enrollments.get(), role="staff"
    )
    enrol("ACME-0500", courses=["course-v1:ACME+NOMA+2026"])
    _user("student500", "student500@acme.example.edu")
