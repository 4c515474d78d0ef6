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
    """Every user of `user_ids` gets a state; without the AMC application, no token is read.

    The queries ask for the range of the ids (an index range scan, and no list of thousands of
    parameters to send) and keep the ids asked for."""
    ids = sorted(user_ids)
    if not ids:
        return {}
    wanted = set(ids)
    span = {"user_id__gte": ids[0], "user_id__lte": ids[-1]}
    newest: dict[int, TokenRecord] = {}
    refresh: dict[int, str] = {}
    if application is not None:
        rows = (
            AccessToken.objects.filter(**span, application=application)
            .order_by("user_id", "-expires", "-id")
            .values_list("user_id", "id", "token", "expires")
        )
        for user_id, pk, token, expires in rows:
            if user_id in wanted:
                newest.setdefault(user_id, TokenRecord(pk, token, expires))
        live = RefreshToken.objects.filter(
            access_token__user_id__gte=ids[0],
            access_token__user_id__lte=ids[-1],
            access_token__application=application,
            revoked__isnull=True,
        )
        # the first by primary key wins, as `.first()` would have it
        refresh = dict(live.order_by("-pk").values_list("access_token_id", "token"))
    accounts = {
        row[0]: AmcAccountRecord(*row[1:])
        for row in AmcAccount.objects.filter(**span).values_list(
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
