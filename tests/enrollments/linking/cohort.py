"""A small program for the tests of big sheets (jobs, their doors, the browser): learners to
link, one key held by another account (a relink), and a row naming nobody (an error)."""

import threading

from enrollments.linking import jobs as link_jobs
from enrollments.models import CourseEnrollment, ProgramEnrollment
from tests.enrollments.factories import (
    PROGRAM,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

COURSES = ("course-v1:UNI+J1+2025", "course-v1:UNI+J2+2025")
RELINKED_ROW = 1  # its key is held by "old1" before the run


def cohort(n: int, *, program=PROGRAM) -> list[tuple[str, str]]:
    """n learners with a program enrollment in two courses each; returns the sheet: their
    n rows, then a row whose username does not exist."""
    for course in COURSES:
        CourseModeFactory(course_key=course, mode_slug="audit")
        CourseModeFactory(course_key=course, mode_slug="masters")
    sheet = []
    for i in range(n):
        holder = UserFactory(username=f"old{i}") if i == RELINKED_ROW else None
        pe = ProgramEnrollmentFactory(
            external_user_key=f"UNI-{i}", user=holder, program_uuid=program
        )
        for course in COURSES:
            attached = (
                CourseEnrollment.objects.create(user=holder, course_key=course, mode="masters")
                if holder
                else None
            )
            ProgramCourseEnrollmentFactory(
                program_enrollment=pe, course_key=course, course_enrollment=attached
            )
        UserFactory(username=f"learner{i}")
        sheet.append((f"UNI-{i}", f"learner{i}"))
    return [*sheet, ("UNI-404", "nobody")]


def fully_linked(i: int) -> bool:
    """Learner i holds the key, with a masters course enrollment attached in each course."""
    pe = ProgramEnrollment.objects.get(external_user_key=f"UNI-{i}")
    if pe.user is None or pe.user.username != f"learner{i}":
        return False
    pces = list(pe.program_course_enrollments.select_related("course_enrollment"))
    return len(pces) == len(COURSES) and all(
        p.course_enrollment is not None
        and p.course_enrollment.user_id == pe.user_id
        and p.course_enrollment.mode == "masters"
        for p in pces
    )


def untouched(i: int) -> bool:
    """Learner i has nothing of the link: no key, no course enrollment."""
    pe = ProgramEnrollment.objects.get(external_user_key=f"UNI-{i}")
    holder = "old1" if i == RELINKED_ROW else None
    return (
        pe.user.username if pe.user else None
    ) == holder and not CourseEnrollment.objects.filter(user__username=f"learner{i}").exists()


class HeldStep:
    """Holds the job before its step `at` (1-based, counted as steps start) and every step
    after it until released: the test reads the state while the job is between steps, also
    when the job runs steps at once (each thread waits before its next step)."""

    def __init__(self, monkeypatch, at):
        self.real, self.at, self.calls = link_jobs.link_step, at, 0
        self.lock = threading.Lock()
        self.reached, self.released = threading.Event(), threading.Event()
        monkeypatch.setattr(link_jobs, "link_step", self)

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.calls += 1
            held = self.calls >= self.at
        if held:
            self.reached.set()
            assert self.released.wait(timeout=60)
        return self.real(*args, **kwargs)
