"""PostgreSQL: a link step plans its reads of many keys as index probes (the benchmark measures
the effect: with the planner's default costs each batch of 2,000 keys scanned the whole table,
so a sheet's cost grew with the table it fills), and only for its own transaction."""

import pytest
from django.db import connection, transaction

from enrollments.linking import service
from support_tools import bulk_sql
from tests.enrollments.factories import (
    PROGRAM,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def random_page_cost() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting (the SQLite pass has nothing to set)")


def test_a_link_step_probes_by_index_and_only_in_its_transaction(monkeypatch, support_actor):
    default = random_page_cost()
    seen = []
    real = service.read_people

    def read_people(**kwargs):
        seen.append(random_page_cost())
        return real(**kwargs)

    monkeypatch.setattr(service, "read_people", read_people)
    CourseModeFactory(course_key="course-v1:UNI+C1+2025", mode_slug="masters")
    pe = ProgramEnrollmentFactory(external_user_key="EXT-1", user=None)
    ProgramCourseEnrollmentFactory(program_enrollment=pe, course_key="course-v1:UNI+C1+2025")
    UserFactory(username="bob")

    done = service.link_program_enrollments(
        program_uuid=PROGRAM, pairs=[("EXT-1", "bob")], actor=support_actor
    )

    assert [r.status for r in done.rows] == ["linked"]
    assert seen == [str(bulk_sql.PROBE_RANDOM_PAGE_COST)] != [default]
    assert random_page_cost() == default


def test_outside_a_transaction_nothing_lingers():
    default = random_page_cost()
    with transaction.atomic():
        bulk_sql.prefer_index_probes()
        assert random_page_cost() == str(bulk_sql.PROBE_RANDOM_PAGE_COST)
    assert random_page_cost() == default
