"""Bulk reads of the AMC's tokens, for platform-wide sweeps (orgs/amc/sweep.py): what
`newest_access_token`, `live_refresh_token` and `amc_account_of` give for one user, for a batch
of users in three queries whatever its size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from oauth2_provider.models import AccessToken, Application, RefreshToken

from accounts.models import AmcAccount


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    token: str
    expires: dt.datetime


@dataclass(frozen=True, slots=True)
class AmcAccountRecord:
    access_token: str
    refresh_token: str
    token_expires_at: dt.datetime | None
    token_type: str


@dataclass(frozen=True, slots=True)
class AmcTokenState:
    """One user's AMC tokens as the AMC diagnosis reads them."""

    newest: TokenRecord | None  # the newest access token of the AMC application, expired or not
    live_refresh: str | None  # the unrevoked refresh token bound to `newest`
    account: AmcAccountRecord | None


def amc_token_states(
    user_ids: Iterable[int], *, application: Application | None
) -> dict[int, AmcTokenState]:
    """Every user of `user_ids` gets a state; without the AMC application, no token is read."""
    ids = list(user_ids)
    newest: dict[int, TokenRecord] = {}
    if application is not None:
        rows = (
            AccessToken.objects.filter(user_id__in=ids, application=application)
            .order_by("user_id", "-expires", "-id")
            .values_list("user_id", "id", "token", "expires")
        )
        for user_id, pk, token, expires in rows:
            newest.setdefault(user_id, TokenRecord(pk, token, expires))
    refresh: dict[int, str] = {}
    if newest:
        rows = (
            RefreshToken.objects.filter(
                access_token_id__in=[t.id for t in newest.values()], revoked__isnull=True
            )
            .order_by("-pk")  # the first by pk wins, as `.first()` would have it
            .values_list("access_token_id", "token")
        )
        refresh = dict(rows)
    accounts = {
        row[0]: AmcAccountRecord(*row[1:])
        for row in AmcAccount.objects.filter(user_id__in=ids).values_list(
            "user_id", "access_token", "refresh_token", "token_expires_at", "token_type"
        )
    }
    return {
        user_id: AmcTokenState(
            newest=newest.get(user_id),
            live_refresh=refresh.get(newest[user_id].id) if user_id in newest else None,
            account=accounts.get(user_id),
        )
        for user_id in ids
    }
