"""accounts.services: the AMC token pair and the AMC account that records it."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import AmcAccount
from accounts.selectors import AMC_CLIENT_ID_UNSET
from accounts.services import ensure_amc_tokens
from support_tools.errors import ErrorKind, SupportError
from tests.factories import AccessTokenFactory, RefreshTokenFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_creates_the_pair_and_the_account_then_changes_nothing(amc_app):
    user = UserFactory()
    first = ensure_amc_tokens(user=user)
    assert first.access_created and first.refresh_created and first.account_updated
    account = AmcAccount.objects.get(user=user)
    assert account.access_token == first.access_token.token
    assert account.refresh_token == first.refresh_token.token
    # The changes hold tokens by their last four characters only.
    shown = str([c.entry for c in first.changes])
    assert first.access_token.token not in shown and first.refresh_token.token not in shown

    second = ensure_amc_tokens(user=user)
    assert second.changes == ()
    assert not (second.access_created or second.refresh_created or second.account_updated)
    assert second.access_token.pk == first.access_token.pk


def test_an_expired_token_is_never_kept(amc_app):
    user = UserFactory()
    old = AccessTokenFactory(
        user=user, application=amc_app, expires=timezone.now() - dt.timedelta(days=1)
    )
    RefreshTokenFactory(user=user, application=amc_app, access_token=old)
    tokens = ensure_amc_tokens(user=user)
    assert tokens.access_created and tokens.access_token.pk != old.pk


def test_a_stale_account_is_updated_field_by_field(amc_app):
    user = UserFactory()
    tokens = ensure_amc_tokens(user=user)
    AmcAccount.objects.filter(user=user).update(access_token="hand-copied", token_type="bearer")
    again = ensure_amc_tokens(user=user)
    fields = sorted(c.entry["field"] for c in again.changes)
    assert fields == ["access_token", "token_type"] and again.account_updated
    change = next(c.entry for c in again.changes if c.entry["field"] == "access_token")
    assert change["after"] == "…" + tokens.access_token.token[-4:]


def test_without_the_amc_application_it_refuses(settings):
    settings.AMC_OAUTH_CLIENT_ID = None
    with pytest.raises(SupportError) as refused:
        ensure_amc_tokens(user=UserFactory())
    assert refused.value.message == AMC_CLIENT_ID_UNSET
    assert refused.value.kind == ErrorKind.CONFLICT
