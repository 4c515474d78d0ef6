"""API tokens for engineers: django-rest-knox tokens, stored as digests, always expiring.

The whole token exists once, in the result handed back to the door that asked for it (the
`create_api_token` command prints it); the audit row and every log keep its last four
characters only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from knox.models import AuthToken

from support_tools.actors import Actor
from support_tools.audit import ident, support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.permissions import ActionSpec
from support_tools.results import format_when
from support_tools.secrets import mask_token

CREATE_API_TOKEN = ActionSpec(
    "create_api_token", preview="knox.view_authtoken", apply=("knox.add_authtoken",)
)
MAX_DAYS = 365

NO_SUCH_USER = "No user has the email address or username {user!r}."
SEVERAL_USERS = "Several users have the email address {user!r}; give the username instead."
NOT_STAFF = "{user} is not an active staff account; API tokens are for active staff only."
BAD_DAYS = "A token lasts from 1 to {max} days, not {days}."


@dataclass(frozen=True)
class NewApiToken:
    user: str
    token: str  # whole: shown once, never stored
    expires: dt.datetime

    @property
    def token_end(self) -> str | None:
        return mask_token(self.token)

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user, "token": self.token, "expires": self.expires.isoformat()}

    def masked(self) -> dict[str, Any]:
        return {**self.as_dict(), "token": self.token_end}


def find_staff_user(text: str) -> Any:
    """An email (case-insensitive) or a username, as in every command."""
    users = list(get_user_model().objects.filter(Q(username=text) | Q(email__iexact=text))[:3])
    exact = [u for u in users if u.get_username() == text]
    if exact:
        return exact[0]
    if not users:
        raise SupportError(NO_SUCH_USER.format(user=text), kind=ErrorKind.NOT_FOUND)
    if len(users) > 1:
        raise SupportError(SEVERAL_USERS.format(user=text))
    return users[0]


def create_api_token(*, user: Any, expires_days: int, actor: Actor) -> NewApiToken:
    """A new token for an active staff user, expiring in `expires_days`. Each call makes a new
    token (a token is a credential, not a state to converge on); old ones run out or are
    deleted in the admin."""
    with support_action(
        CREATE_API_TOKEN,
        actor=actor,
        inputs={"user": ident(user), "expires_days": expires_days},
    ) as trail:
        if not 1 <= expires_days <= MAX_DAYS:
            raise SupportError(BAD_DAYS.format(max=MAX_DAYS, days=expires_days))
        trail.about(user)
        if not (user.is_active and user.is_staff):
            raise SupportError(NOT_STAFF.format(user=user.get_username()), kind=ErrorKind.CONFLICT)
        instance, token = AuthToken.objects.create(
            user=user, expiry=dt.timedelta(days=expires_days)
        )
        result = NewApiToken(user=user.get_username(), token=token, expires=instance.expiry)
        trail.created(
            "knox.AuthToken",
            {"token": result.token_end, "expires": format_when(instance.expiry)},
        )
        trail.result = result.masked()
    return result
