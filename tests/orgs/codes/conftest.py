"""Fixtures of the enrollment-code tests: a redeemable code, its contract full, its dates off."""

import pytest

from tests.orgs.codes.factories import CODE, DAY, fill, valid_code


@pytest.fixture
def code():
    return valid_code(CODE)


@pytest.fixture
def full(code):
    contract = code.contract
    contract.max_learners = 2
    contract.save()
    fill(contract, 2)
    return contract


@pytest.fixture
def drifted(code):
    code.expiration_date = code.contract.end - 5 * DAY
    code.save()
    return code
