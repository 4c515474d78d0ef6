"""Reads of the AMC playbook that other layers (the console) ask for."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser

from accounts.selectors import amc_application, has_amc_account, newest_access_token
from orgs.models import UserOrganizationMapping
from support_tools.errors import SupportError


def is_amc_user(user: AbstractUser) -> bool:
    """Someone the AMC knows: an AMC account, or an AMC-admin organization mapping."""
    return (
        has_amc_account(user)
        or UserOrganizationMapping.objects.filter(user=user, is_amc_admin=True).exists()
    )


@dataclass(frozen=True)
class AmcTraces:
    """What ties a user to the AMC: the console diagnoses the AMC when any of it is there."""

    account: bool
    token: bool
    admin_of: tuple[str, ...]  # organizations where their mapping is AMC-admin
    member_of: tuple[str, ...]  # every organization they have a mapping of

    @property
    def any(self) -> bool:
        return self.account or self.token or bool(self.admin_of)


def amc_traces(user: AbstractUser) -> AmcTraces:
    mappings = list(
        UserOrganizationMapping.objects.filter(user=user)
        .order_by("organization__short_name")
        .values_list("organization__short_name", "is_amc_admin")
    )
    try:
        token = newest_access_token(user=user, application=amc_application()) is not None
    except SupportError:  # no AMC application configured: no token can be an AMC one
        token = False
    return AmcTraces(
        account=has_amc_account(user),
        token=token,
        admin_of=tuple(org for org, admin in mappings if admin),
        member_of=tuple(org for org, _ in mappings),
    )
