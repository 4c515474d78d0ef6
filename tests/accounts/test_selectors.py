"""accounts.selectors: resolving users and reading AMC tokens."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.selectors import (
    USER_EMAIL_AMBIGUOUS,
    USER_IDENTIFIER_EMPTY,
    USER_NOT_FOUND,
    has_amc_account,
    live_refresh_token,
    newest_access_token,
    resolve_user,
)
from support_tools.errors import ErrorKind, SupportError
from tests.factories import (
    AccessTokenFactory,
    AmcAccountFactory,
    RefreshTokenFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_resolve_user_by_email_any_case_by_username_or_as_given():
    ann = UserFactory(username="ann", email="Ann@Example.com")
    assert resolve_user("ann@example.COM") == ann
    assert resolve_user(" ann ") == ann
    assert resolve_user(ann) is ann


@pytest.mark.parametrize(
    ("identifier", "message", "kind"),
    [
        ("", USER_IDENTIFIER_EMPTY, ErrorKind.BAD_INPUT),
        ("nobody", USER_NOT_FOUND.format(identifier="nobody"), ErrorKind.NOT_FOUND),
    ],
)
def test_resolve_user_refuses_with_a_sentence(identifier, message, kind):
    with pytest.raises(SupportError) as refused:
        resolve_user(identifier)
    assert (refused.value.message, refused.value.kind) == (message, kind)


def test_an_email_shared_by_two_users_asks_for_the_username():
    UserFactory(username="a1", email="twin@example.com")
    UserFactory(username="a2", email="TWIN@example.com")
    with pytest.raises(SupportError) as refused:
        resolve_user("twin@example.com")
    assert refused.value.message == USER_EMAIL_AMBIGUOUS.format(
        identifier="twin@example.com", usernames="a1, a2"
    )


def test_token_reads(amc_app):
    user = UserFactory()
    now = timezone.now()
    expired = AccessTokenFactory(user=user, application=amc_app, expires=now - dt.timedelta(1))
    assert newest_access_token(user=user, application=amc_app) == expired
    assert newest_access_token(user=user, application=amc_app, now=now) is None
    live = AccessTokenFactory(user=user, application=amc_app, expires=now + dt.timedelta(9))
    assert newest_access_token(user=user, application=amc_app, now=now) == live
    assert live_refresh_token(live) is None
    RefreshTokenFactory(user=user, application=amc_app, access_token=live, revoked=now)
    assert live_refresh_token(live) is None


def test_has_amc_account():
    user = UserFactory()
    assert not has_amc_account(user)
    AmcAccountFactory(user=user)
    assert has_amc_account(user)
