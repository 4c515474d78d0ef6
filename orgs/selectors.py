"""Reads about organizations and their members."""

from __future__ import annotations

from orgs.models import Organization
from support_tools.errors import ErrorKind, SupportError

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
