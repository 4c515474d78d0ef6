"""bulk_sql: one statement per call on both databases, and what it gives back."""

import uuid

import pytest
from django.utils import timezone

from enrollments.models import CourseEnrollment, ProgramEnrollment
from support_tools import bulk_sql
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def test_insert_rows_returns_the_fields_asked_of_each_row_inserted(django_assert_num_queries):
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    course = "course-v1:A+B+C"
    rows = [(ann.pk, course, "masters", True, NOW), (bob.pk, course, "audit", False, NOW)]

    with django_assert_num_queries(1):
        back = bulk_sql.insert_rows(
            CourseEnrollment,
            ["user", "course_key", "mode", "is_active", "created"],
            rows,
            returning=["user", "mode", "id"],
        )

    stored = dict(CourseEnrollment.objects.values_list("pk", "user_id"))
    assert sorted((u, mode) for u, mode, _ in back) == [(ann.pk, "masters"), (bob.pk, "audit")]
    assert {pk: user for user, _, pk in back} == stored
    assert bulk_sql.insert_rows(CourseEnrollment, ["user"], [], returning=["id"]) == []
    fields = ["user", "course_key", "mode", "is_active", "created"]
    assert bulk_sql.insert_rows(CourseEnrollment, fields, [(ann.pk, "x", "audit", True, NOW)]) == []
    assert CourseEnrollment.objects.count() == 3


def test_fetch_gives_the_rows_values_list_gives(django_assert_num_queries):
    program = uuid.uuid4()
    ann = UserFactory(username="ann")
    ProgramEnrollment.objects.create(
        user=ann, external_user_key="K-1", program_uuid=program, curriculum_uuid=program
    )
    ProgramEnrollment.objects.create(
        external_user_key="K-2", program_uuid=program, curriculum_uuid=program
    )
    query = ProgramEnrollment.objects.order_by("pk").values_list(
        "pk", "user_id", "external_user_key", "curriculum_uuid"
    )

    with django_assert_num_queries(1):
        rows = bulk_sql.fetch(query)

    assert rows == list(query)
    assert [type(v) for v in rows[0][1:]] == [int, str, uuid.UUID]
    assert rows[1][1] is None
