"""Demo data of the accounts app: demo users and the AMC's OAuth application and tokens.
The other apps' demo modules build on these (see console/demo.py for the order)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from oauth2_provider.models import AccessToken, Application, RefreshToken

from accounts.models import AmcAccount

User = get_user_model()

DEMO_PASSWORD = "demo"
AMC_DEMO_CLIENT_ID = "amc-demo-client"


def demo_user(username: str, email: str, **extra: Any) -> Any:
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, **extra}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def amc_demo_application() -> Application:
    app, _ = Application.objects.get_or_create(
        client_id=AMC_DEMO_CLIENT_ID,
        defaults={
            "name": "AMC",
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_PASSWORD,
        },
    )
    return app


def demo_tokens(user: Any, *, expires: dt.datetime, record: bool, stale: bool = False) -> None:
    """An AMC token pair for `user`; `record` puts it on their AMC account (`stale`: a
    hand-copied token that is not the LMS's)."""
    app = amc_demo_application()
    if AccessToken.objects.filter(user=user, application=app).exists():
        return
    access = AccessToken.objects.create(
        user=user,
        application=app,
        token=f"demo-{user.username}-access-token-0001",
        expires=expires,
        scope="read write",
    )
    refresh = RefreshToken.objects.create(
        user=user,
        application=app,
        token=f"demo-{user.username}-refresh-token-0001",
        access_token=access,
    )
    if record:
        AmcAccount.objects.get_or_create(
            user=user,
            defaults={
                "access_token": "hand-copied-stale-token" if stale else access.token,
                "refresh_token": refresh.token,
                "token_expires_at": expires,
            },
        )
