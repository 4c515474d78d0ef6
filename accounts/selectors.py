"""Reads about users and their AMC accounts."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from oauth2_provider.models import AccessToken, Application, RefreshToken

from accounts.models import AmcAccount
from support_tools.errors import ErrorKind, SupportError

User = get_user_model()

IDENTIFIER_MAX = 254
USER_IDENTIFIER_EMPTY = "Give a user: an email address or a username."
USER_NOT_FOUND = "No user has the email address or username {identifier!r}."
USER_EMAIL_AMBIGUOUS = (
    "Several users have the email address {identifier!r} ({usernames}); give the username instead."
)


def resolve_user(identifier: str | AbstractUser) -> AbstractUser:
    """An email (case-insensitive) or a username (exact); a user is returned as it is."""
    if isinstance(identifier, User):
        return identifier
    identifier = (identifier or "").strip()
    if not identifier:
        raise SupportError(USER_IDENTIFIER_EMPTY)
    if len(identifier) > IDENTIFIER_MAX:  # longer than any email or username: none matches
        raise SupportError(
            USER_NOT_FOUND.format(identifier=identifier[:40] + "…"), kind=ErrorKind.NOT_FOUND
        )
    if "@" in identifier:
        matches = list(User.objects.filter(email__iexact=identifier).order_by("pk")[:5])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            usernames = ", ".join(u.username for u in matches)
            raise SupportError(
                USER_EMAIL_AMBIGUOUS.format(identifier=identifier, usernames=usernames)
            )
    user = User.objects.filter(username=identifier).first()
    if user is None:
        raise SupportError(USER_NOT_FOUND.format(identifier=identifier), kind=ErrorKind.NOT_FOUND)
    return user


# --- The AMC's OAuth application and tokens -------------------------------------------------

AMC_CLIENT_ID_UNSET = (
    "The AMC OAuth application is not configured: set AMC_OAUTH_CLIENT_ID to its client id."
)
AMC_APP_MISSING = (
    "No OAuth application has the client id {client_id!r} named by AMC_OAUTH_CLIENT_ID; "
    "create it under Django OAuth Toolkit > Applications or correct the setting."
)


def amc_application() -> Application:
    client_id = settings.AMC_OAUTH_CLIENT_ID
    if not client_id:
        raise SupportError(AMC_CLIENT_ID_UNSET, kind=ErrorKind.CONFLICT)
    app = Application.objects.filter(client_id=client_id).first()
    if app is None:
        raise SupportError(AMC_APP_MISSING.format(client_id=client_id), kind=ErrorKind.CONFLICT)
    return app


def newest_access_token(
    *, user: AbstractUser, application: Application, now: dt.datetime | None = None
) -> AccessToken | None:
    """The newest access token, expired or not; with `now`, the newest unexpired one.
    (django-oauth-toolkit revokes an access token by deleting it.)"""
    tokens = AccessToken.objects.filter(user=user, application=application)
    if now is not None:
        tokens = tokens.filter(expires__gt=now)
    return tokens.order_by("-expires", "-id").first()


def live_refresh_token(access: AccessToken) -> RefreshToken | None:
    """The unrevoked refresh token bound to `access`."""
    return RefreshToken.objects.filter(access_token=access, revoked__isnull=True).first()


def amc_account_of(user: AbstractUser) -> AmcAccount | None:
    return AmcAccount.objects.filter(user=user).first()


def token_authenticates(token: str) -> tuple[bool, int]:
    """Proof that `token` opens the LMS's OAuth2-protected `/api/v1/me`: the request goes
    through the same view and django-oauth-toolkit authentication as a real AMC call."""
    from django.test import RequestFactory
    from django.urls import resolve, reverse

    path = reverse("api-me")
    # A host this deployment answers to: a request for any other is refused (DisallowedHost).
    host = next((h for h in settings.ALLOWED_HOSTS if "*" not in h and h != "."), "localhost")
    request = RequestFactory().get(
        path, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST=host.lstrip(".")
    )
    response = resolve(path).func(request)
    return response.status_code == 200, response.status_code


def has_amc_account(user: AbstractUser) -> bool:
    return AmcAccount.objects.filter(user=user).exists()
