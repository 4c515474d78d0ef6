"""accounts.bulk: a batch's AMC token states, as the one-user selectors give them."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.bulk import amc_token_states
from accounts.selectors import amc_account_of, live_refresh_token, newest_access_token
from tests.factories import (
    AccessTokenFactory,
    AmcAccountFactory,
    RefreshTokenFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_states_match_the_one_user_selectors_in_three_queries(amc_app):
    now = timezone.now()
    ann, bob, cy, dee = (UserFactory() for _ in range(4))
    old = AccessTokenFactory(user=ann, application=amc_app, expires=now + dt.timedelta(days=1))
    new = AccessTokenFactory(user=ann, application=amc_app, expires=now + dt.timedelta(days=9))
    RefreshTokenFactory(access_token=new)
    RefreshTokenFactory(access_token=old)
    revoked = AccessTokenFactory(user=bob, application=amc_app)
    RefreshTokenFactory(access_token=revoked, revoked=now)
    AccessTokenFactory(user=cy)  # another application's
    AmcAccountFactory(user=bob, access_token="a", refresh_token="r", token_type="bearer")

    with CaptureQueriesContext(connection) as ctx:
        states = amc_token_states([ann.pk, bob.pk, cy.pk, dee.pk], application=amc_app)

    assert len(ctx.captured_queries) == 3
    for user in (ann, bob, cy, dee):
        state = states[user.pk]
        newest = newest_access_token(user=user, application=amc_app)
        assert (state.newest.id if state.newest else None) == (newest.pk if newest else None)
        live = live_refresh_token(newest) if newest else None
        assert state.live_refresh == (live.token if live else None)
        account = amc_account_of(user)
        assert (state.account.token_type if state.account else None) == (
            account.token_type if account else None
        )


def test_without_the_application_no_token_is_read(amc_app):
    ann = UserFactory()
    AccessTokenFactory(user=ann, application=amc_app)
    states = amc_token_states([ann.pk], application=None)
    assert states[ann.pk].newest is None and states[ann.pk].account is None
