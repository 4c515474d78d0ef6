"""Finding the learner: email, username, external key; the limit said; bad input refused."""

import pytest

from console.search import (
    KEY_NOT_LINKED,
    SEARCH_EMPTY,
    SEARCH_MORE,
    find_learners,
    search_learners,
)
from support_tools.errors import SupportError
from support_tools.text import TEXT_CONTROL
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROGRAM = "6f1e4f5a-0000-4000-8000-000000000001"
CURRICULUM = "6f1e4f5a-0000-4000-8000-000000000002"


def _enrollment(key, user=None):
    from enrollments.models import ProgramEnrollment

    return ProgramEnrollment.objects.create(
        user=user,
        external_user_key=key,
        program_uuid=PROGRAM,
        curriculum_uuid=CURRICULUM,
        status="enrolled",
    )


def test_find_learners_by_email_username_or_part(mat):
    UserFactory(username="matilda", email="matilda@example.com")
    assert find_learners("mat@example.COM") == [mat]
    assert find_learners("mat") == [mat]
    assert {u.username for u in find_learners("example.com")} >= {"mat", "matilda"}
    with pytest.raises(SupportError, match=SEARCH_EMPTY):
        find_learners("  ")


def test_find_learners_by_external_user_key(mat):
    _enrollment("REG-0042", mat)
    assert find_learners("reg-0042") == [mat]


def test_the_list_stops_at_the_limit_and_says_so(db):
    for n in range(4):
        UserFactory(username=f"pat{n}", email=f"pat{n}@uni.example")
    found = search_learners("uni.example", limit=3)
    assert len(found.users) == 3 and found.more
    assert found.notes == [SEARCH_MORE.format(limit=3, query="uni.example")]
    assert not search_learners("uni.example", limit=4).more


def test_an_external_key_not_linked_yet_is_named_as_such(db):
    _enrollment("ACME-0500")
    found = search_learners(" acme-0500 ")
    assert found.users == () and found.unlinked_key
    assert found.notes == [KEY_NOT_LINKED.format(query="acme-0500")]
    assert not search_learners("ACME-0501").unlinked_key


def test_a_control_character_is_refused_with_a_sentence(db):
    UserFactory(username="anyone")
    with pytest.raises(SupportError) as caught:
        search_learners("\x00")
    assert caught.value.message == TEXT_CONTROL.format(field="Search", char="U+0000")
