"""Writes: the AMC's OAuth tokens and the AMC account that records them.

These functions run inside the caller's `support_action` (see orgs.amc.services, which owns the
playbook): they take its audit trail and never open an audit row of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken
from oauthlib.common import generate_token

from accounts.models import AmcAccount
from accounts.selectors import amc_application, newest_usable_access_token
from support_tools.audit import AuditTrail
from support_tools.secrets import mask_token

User = get_user_model()

AMC_TOKEN_SCOPE = "read write"


@dataclass(frozen=True)
class AmcTokens:
    access_token: AccessToken
    refresh_token: RefreshToken
    access_created: bool
    refresh_created: bool
    account_updated: bool


def lock_user(user) -> None:  # noqa: ANN001
    """Serialise every AMC repair of one user: concurrent runs queue on this row."""
    User.objects.select_for_update().filter(pk=user.pk).first()


def ensure_amc_tokens(*, user, trail: AuditTrail, now: dt.datetime | None = None) -> AmcTokens:  # noqa: ANN001
    """Keep the newest usable access token (never an expired one) or create one; make sure an
    unrevoked refresh token is bound to it; record both on the user's AmcAccount.

    The caller holds the user's lock (`lock_user`) inside its transaction.
    """
    now = now or timezone.now()
    application: Application = amc_application()

    access = newest_usable_access_token(user=user, application=application, now=now)
    access_created = access is None
    if access is None:
        expires = now + dt.timedelta(days=settings.AMC_TOKEN_LIFETIME_DAYS)
        access = AccessToken.objects.create(
            user=user,
            application=application,
            token=generate_token(),
            expires=expires,
            scope=AMC_TOKEN_SCOPE,
        )
        trail.created(access, {"token": _masked(access.token), "expires": expires})

    refresh = RefreshToken.objects.filter(access_token=access, revoked__isnull=True).first()
    refresh_created = refresh is None
    if refresh is None:
        # A revoked refresh token may still hold the one-to-one link: free it first.
        RefreshToken.objects.filter(access_token=access).update(access_token=None)
        refresh = RefreshToken.objects.create(
            user=user, application=application, token=generate_token(), access_token=access
        )
        trail.created(refresh, {"token": _masked(refresh.token), "access_token": access.pk})

    account_updated = _record_on_amc_account(user=user, access=access, refresh=refresh, trail=trail)
    return AmcTokens(access, refresh, access_created, refresh_created, account_updated)


def _record_on_amc_account(
    *,
    user,
    access: AccessToken,
    refresh: RefreshToken,
    trail: AuditTrail,  # noqa: ANN001
) -> bool:
    account = AmcAccount.objects.select_for_update().filter(user=user).first()
    wanted = {
        "access_token": access.token,
        "refresh_token": refresh.token,
        "token_expires_at": access.expires,
        "token_type": "Bearer",
    }
    if account is None:
        account = AmcAccount.objects.create(user=user, **wanted)
        trail.created(
            account,
            {
                **wanted,
                "access_token": _masked(access.token),
                "refresh_token": _masked(refresh.token),
            },
        )
        return True
    differing = [f for f, v in wanted.items() if getattr(account, f) != v]
    for field in differing:
        before = getattr(account, field)
        setattr(account, field, wanted[field])
        trail.changed(account, field, before, wanted[field], secret=field.endswith("_token"))
    if differing:
        account.save(update_fields=[*differing, "updated_at"])
    return bool(differing)


def _masked(token: str) -> str | None:
    return mask_token(token)
