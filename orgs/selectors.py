"""Reads about organizations and their members."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser
from django.db.models import Q

from orgs.models import CodeRedemption, Organization
from support_tools.errors import ErrorKind, SupportError

IDENTIFIER_MAX = 255
ORG_IDENTIFIER_EMPTY = "Give an organization: its short name or its name."
ORG_NOT_FOUND = "No organization has the short name or name {identifier!r}."
ORG_NAME_AMBIGUOUS = (
    "Several organizations are named {identifier!r} ({short_names}); give the short name instead."
)


def resolve_organization(identifier: str | Organization) -> Organization:
    """A short name or a name, case-insensitively; the short name wins. An organization is
    returned as it is."""
    if isinstance(identifier, Organization):
        return identifier
    identifier = (identifier or "").strip()
    if not identifier:
        raise SupportError(ORG_IDENTIFIER_EMPTY)
    if len(identifier) > IDENTIFIER_MAX:  # longer than any name: no query can match it
        raise SupportError(
            ORG_NOT_FOUND.format(identifier=identifier[:40] + "…"), kind=ErrorKind.NOT_FOUND
        )
    org = Organization.objects.filter(short_name__iexact=identifier).first()
    if org is not None:
        return org
    matches = list(Organization.objects.filter(name__iexact=identifier).order_by("pk")[:5])
    if len(matches) > 1:
        short_names = ", ".join(o.short_name for o in matches)
        raise SupportError(
            ORG_NAME_AMBIGUOUS.format(identifier=identifier, short_names=short_names)
        )
    if not matches:
        raise SupportError(ORG_NOT_FOUND.format(identifier=identifier), kind=ErrorKind.NOT_FOUND)
    return matches[0]


def organizations_to_check(user: AbstractUser) -> list[Organization]:
    """The organizations a learner is in, or belongs in by contract or email domain: the ones
    whose membership the console checks."""
    email = user.email or ""
    domain = email.rsplit("@", 1)[-1].lower() if "@" in email else None
    by_domain = [
        pk
        for pk, domains in Organization.objects.exclude(email_domains=[]).values_list(
            "pk", "email_domains"
        )
        if domain and domain in {d.lower() for d in domains or []}
    ]
    return list(
        Organization.objects.filter(
            Q(user_mappings__user=user) | Q(contracts__learners=user) | Q(pk__in=by_domain)
        )
        .distinct()
        .order_by("short_name")
    )


@dataclass(frozen=True)
class Redemption:
    code: str
    redeemed_on: dt.datetime


def redemptions_of(user: AbstractUser, *, limit: int) -> list[Redemption]:
    """The learner's newest code redemptions."""
    rows = (
        CodeRedemption.objects.filter(user=user)
        .order_by("-redeemed_on")
        .values_list("code__code", "redeemed_on")[:limit]
    )
    return [Redemption(code, when) for code, when in rows]
