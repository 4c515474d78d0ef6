"""Reads of the AMC playbook that other layers (the console) ask for."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser

from accounts.selectors import has_amc_account
from orgs.models import UserOrganizationMapping


def is_amc_user(user: AbstractUser) -> bool:
    """Someone the AMC knows: an AMC account, or an AMC-admin organization mapping."""
    return (
        has_amc_account(user)
        or UserOrganizationMapping.objects.filter(user=user, is_amc_admin=True).exists()
    )
