"""Writes: the AMC's OAuth tokens and the AMC account that records them.

`ensure_amc_tokens` is one step of the AMC playbook (orgs.amc): it runs inside the playbook's
transaction, takes the user's row lock itself, and returns what it changed; the playbook records
those changes in its own audit row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken
from oauthlib.common import generate_token

from accounts.models import AmcAccount
from accounts.selectors import amc_application, live_refresh_token, newest_access_token
from support_tools.audit import Change, apply_fields, created
from support_tools.secrets import mask_token

User = get_user_model()

TOKEN_FIELDS = frozenset({"access_token", "refresh_token"})


@dataclass(frozen=True)
class AmcTokens:
    access_token: AccessToken
    refresh_token: RefreshToken
    access_created: bool
    refresh_created: bool
    account_updated: bool
    changes: tuple[Change, ...]


def lock_user(user: AbstractUser) -> None:
    """Serialise every AMC repair of one user: concurrent runs queue on this row."""
    User.objects.select_for_update().filter(pk=user.pk).first()


def ensure_amc_tokens(*, user: AbstractUser, now: dt.datetime | None = None) -> AmcTokens:
    """Keep the newest usable access token (never an expired one) or create one; make sure an
    unrevoked refresh token is bound to it; record both on the user's AmcAccount."""
    now = now or timezone.now()
    lock_user(user)
    application: Application = amc_application()
    changes: list[Change] = []

    access = newest_access_token(user=user, application=application, now=now)
    access_created = access is None
    if access is None:
        expires = now + dt.timedelta(days=settings.AMC_TOKEN_LIFETIME_DAYS)
        access = AccessToken.objects.create(
            user=user,
            application=application,
            token=generate_token(),
            expires=expires,
            scope=settings.AMC_TOKEN_SCOPES,
        )
        changes.append(created(access, {"token": mask_token(access.token), "expires": expires}))

    refresh = live_refresh_token(access)
    refresh_created = refresh is None
    if refresh is None:
        # A revoked refresh token may still hold the one-to-one link: free it first.
        RefreshToken.objects.filter(access_token=access).update(access_token=None)
        refresh = RefreshToken.objects.create(
            user=user,
            application=application,
            token=generate_token(),
            access_token=access,
            # A family of its own: replay protection covers the AMC's refresh chain.
            token_family=uuid.uuid4(),
        )
        changes.append(
            created(refresh, {"token": mask_token(refresh.token), "access_token": access.pk})
        )

    account_changes = _record_on_amc_account(user=user, access=access, refresh=refresh)
    changes.extend(account_changes)
    return AmcTokens(
        access, refresh, access_created, refresh_created, bool(account_changes), tuple(changes)
    )


def _record_on_amc_account(
    *, user: AbstractUser, access: AccessToken, refresh: RefreshToken
) -> tuple[Change, ...]:
    wanted = {
        "access_token": access.token,
        "refresh_token": refresh.token,
        "token_expires_at": access.expires,
        "token_type": "Bearer",
    }
    account = AmcAccount.objects.select_for_update().filter(user=user).first()
    if account is None:
        account = AmcAccount.objects.create(user=user, **wanted)
        shown = {f: mask_token(v) if f in TOKEN_FIELDS else v for f, v in wanted.items()}
        return (created(account, shown),)
    return apply_fields(account, wanted, secret=TOKEN_FIELDS)
