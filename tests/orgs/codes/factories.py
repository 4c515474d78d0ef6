"""Scenario helpers for the enrollment-code tests, on top of the shared factories."""

import datetime as dt
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from tests.factories import (
    CodeRedemptionFactory,
    ContractFactory,
    EnrollmentCodeFactory,
    OrganizationFactory,
    UserFactory,
)

DAY = dt.timedelta(days=1)
CODE = "3f2b8c4e-1d7a-4b9e-8c21-5a6f0e9d7b13"


def valid_code(code=CODE, **contract_kwargs):
    """A code that can be redeemed now: active org, running contract with free seats, aligned
    dates, never used."""
    contract = ContractFactory(
        organization=OrganizationFactory(short_name="acme", name="Acme University"),
        name="Spring",
        **contract_kwargs,
    )
    return EnrollmentCodeFactory(code=code, contract=contract)


def redeem(code, user=None, *, days_ago=3):
    return CodeRedemptionFactory(
        code=code,
        user=user or UserFactory(),
        redeemed_on=timezone.now() - days_ago * DAY,
    )


def fill(contract, count):
    contract.learners.add(*[UserFactory() for _ in range(count)])


def run_command(*args):
    """A management command's stdout, run in this process (errors raise CommandError)."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
