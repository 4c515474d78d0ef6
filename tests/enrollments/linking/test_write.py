"""write.py: a refused write is that learner's error, logged in one line; a deadlock or a
serialization failure is retried a bounded number of times.

The database errors of another run (deadlock_detected, serialization_failure) are injected
at the edge, in bulk_sql, the way the driver raises them: PostgreSQL picks a deadlock's
victim itself, so a real one cannot be aimed at a given statement. The real deadlock of two
runs is in test_concurrency.py.
"""

import logging

import pytest
from django.db import IntegrityError, OperationalError

from enrollments.linking.service import link_program_enrollments
from enrollments.linking.write import LINK_FAILED, WRITE_ATTEMPTS
from enrollments.models import ProgramEnrollment
from support_tools import bulk_sql
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    PROGRAM,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
COURSE = "course-v1:UNI+C1+2025"
SHEET = [("EXT-1", "ann"), ("EXT-2", "bob")]


@pytest.fixture(autouse=True)
def program():
    CourseModeFactory(course_key=COURSE, mode_slug="masters")
    for key, name in SHEET:
        ProgramCourseEnrollmentFactory(
            program_enrollment=ProgramEnrollmentFactory(external_user_key=key), course_key=COURSE
        )
        UserFactory(username=name)


class DriverError(Exception):
    """What psycopg raises: Django's DatabaseError wraps it as its __cause__."""

    def __init__(self, sqlstate):
        super().__init__(f"sqlstate {sqlstate}\nDETAIL: a second line")
        self.sqlstate = sqlstate


def failing(monkeypatch, times, error_class=OperationalError, sqlstate="40P01"):
    """The ProgramEnrollment update fails `times` times (all its calls when None)."""
    real = bulk_sql.update_rows
    calls = {"failed": 0}

    def update_rows(model, names, rows):
        if model is ProgramEnrollment and (times is None or calls["failed"] < times):
            calls["failed"] += 1
            error = error_class("deadlock detected\nDETAIL: Process 1 waits for ShareLock")
            error.__cause__ = DriverError(sqlstate)
            raise error
        return real(model, names, rows)

    monkeypatch.setattr(bulk_sql, "update_rows", update_rows)
    return calls


def link(system_actor):
    return link_program_enrollments(program_uuid=PROGRAM, pairs=SHEET, actor=system_actor)


def linked():
    return dict(ProgramEnrollment.objects.values_list("external_user_key", "user__username"))


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_retried(
    monkeypatch, system_actor, caplog, sqlstate
):
    calls = failing(monkeypatch, WRITE_ATTEMPTS - 1, sqlstate=sqlstate)

    result = link(system_actor)

    assert [r.status for r in result.rows] == ["linked", "linked"]
    assert calls["failed"] == WRITE_ATTEMPTS - 1
    assert linked() == dict(SHEET)
    assert all(not r.exc_info for r in caplog.records)


def test_a_deadlock_that_persists_is_each_learners_own_error(monkeypatch, system_actor, caplog):
    failing(monkeypatch, None)

    result = link(system_actor)

    assert [r.message for r in result.rows] == [
        LINK_FAILED.format(key=key, username=name) for key, name in SHEET
    ]
    assert linked() == {"EXT-1": None, "EXT-2": None}
    assert SupportAction.objects.get().outcome == "unchanged"


def test_another_database_error_is_not_retried(monkeypatch, system_actor):
    calls = failing(monkeypatch, None, error_class=IntegrityError, sqlstate="23505")

    result = link(system_actor)

    assert [r.status for r in result.rows] == ["error", "error"]
    assert calls["failed"] == 3  # the batch, then each learner once


def test_a_failing_learner_is_logged_in_one_line_without_traceback(
    monkeypatch, system_actor, caplog
):
    failing(monkeypatch, None, error_class=IntegrityError, sqlstate="23505")

    with caplog.at_level(logging.INFO, logger="enrollments.linking.write"):
        link(system_actor)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"linking {key!r} to {name} failed: IntegrityError: deadlock detected"
        for key, name in SHEET
    ]
    assert all(not r.exc_info and "\n" not in r.getMessage() for r in caplog.records)


def test_the_traceback_is_logged_at_debug_level(monkeypatch, system_actor, caplog):
    failing(monkeypatch, None, error_class=IntegrityError, sqlstate="23505")

    with caplog.at_level(logging.DEBUG, logger="enrollments.linking.write"):
        link(system_actor)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all(r.exc_info for r in errors)


def test_a_course_enrollment_deleted_while_linking_fails_that_learner_alone(
    monkeypatch, system_actor
):
    """Ann's course enrollment is read with her batch, then deleted before the batch writes
    (another run, an engineer): her link fails, whole; Bob's goes on."""
    from enrollments.linking import service
    from enrollments.models import CourseEnrollment

    ann_enrollment = CourseEnrollment.objects.create(
        user=UserFactory._meta.model.objects.get(username="ann"), course_key=COURSE, mode="audit"
    )
    real = service.write_batch

    def deleted_first(*args, **kwargs):
        CourseEnrollment.objects.filter(pk=ann_enrollment.pk).delete()
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "write_batch", deleted_first)
    result = link(system_actor)

    assert [r.status for r in result.rows] == ["error", "linked"]
    assert result.rows[0].message == LINK_FAILED.format(key="EXT-1", username="ann")
    assert linked() == {"EXT-1": None, "EXT-2": "bob"}
