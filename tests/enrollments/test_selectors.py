import uuid

import pytest

from enrollments.selectors import external_key_exists, user_ids_with_external_key
from tests.enrollments.factories import ProgramEnrollmentFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_users_of_a_key_match_case_insensitively_in_any_program():
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    ProgramEnrollmentFactory(external_user_key="Uni-0042", user=ann)
    ProgramEnrollmentFactory(external_user_key="UNI-0042", user=bob, program_uuid=uuid.uuid4())
    ProgramEnrollmentFactory(external_user_key="uni-0042", user=ann, program_uuid=uuid.uuid4())
    ProgramEnrollmentFactory(external_user_key="UNI-00421", user=UserFactory(username="carl"))

    assert user_ids_with_external_key(" uni-0042 ") == sorted([ann.pk, bob.pk])
    assert user_ids_with_external_key("UNI-004") == []


def test_an_unlinked_key_gives_no_user_but_exists():
    ProgramEnrollmentFactory(external_user_key="UNI-0500", user=None)

    assert user_ids_with_external_key("uni-0500") == []
    assert external_key_exists("uni-0500") is True
    assert external_key_exists("UNI-0501") is False


@pytest.mark.parametrize("key", ["", "   ", None])
def test_an_empty_key_matches_nothing(key):
    ProgramEnrollmentFactory(external_user_key="", user=UserFactory())
    assert user_ids_with_external_key(key) == []
    assert external_key_exists(key) is False


def test_one_query_each(django_assert_num_queries):
    ProgramEnrollmentFactory(external_user_key="UNI-1", user=UserFactory())
    with django_assert_num_queries(1):
        user_ids_with_external_key("uni-1")
    with django_assert_num_queries(1):
        external_key_exists("uni-1")
