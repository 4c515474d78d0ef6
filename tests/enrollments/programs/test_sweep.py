"""The programs sweep's own behaviour (the property test in tests/console/sweeps/ holds it to
the diagnosis): linked learners only, constant queries per batch."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.programs.sweep import find_problems
from tests.console.sweeps import population
from tests.enrollments.factories import (
    CourseAccessRoleAssignmentFactory,
    ProgramCourseEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_unlinked_enrollments_are_left_alone():
    pce = ProgramCourseEnrollmentFactory()  # no user yet: linking's business
    CourseAccessRoleAssignmentFactory(enrollment=pce)
    assert list(find_problems()) == []

    pce.program_enrollment.user = UserFactory(username="ann")
    pce.program_enrollment.save()

    found = [(f.code, f.username, f.fix) for f in find_problems()]
    assert found == [
        ("course_enrollment_missing", "ann", None),
        ("staff_role_waiting", "ann", "link_program_enrollments"),
    ]


def test_a_batch_costs_the_same_queries_for_ten_times_the_learners():
    population.program_learners(random.Random(1), 5)
    with CaptureQueriesContext(connection) as small:
        few = list(find_problems(batch_size=1000))
    population.program_learners(random.Random(2), 45)
    with CaptureQueriesContext(connection) as large:
        many = list(find_problems(batch_size=1000))

    assert len(many) > 4 * len(few) > 0
    assert len(small.captured_queries) == len(large.captured_queries) <= 4


def test_batches_find_what_one_pass_finds():
    population.program_learners(random.Random(3), 30)
    whole = list(find_problems(batch_size=1000))
    assert sorted(find_problems(batch_size=4), key=repr) == sorted(whole, key=repr)
