"""The codes sweep's own rules (the property test in tests/console/sweeps/ holds the rest to
diagnose_code): contracts nearly full, what counts as outstanding, constant queries."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orgs.codes.sweep import CONTRACT_NEARLY_FULL, NEARLY_FULL, find_problems
from tests.console.sweeps import population
from tests.factories import CodeRedemptionFactory, ContractFactory, EnrollmentCodeFactory
from tests.orgs.codes.factories import fill

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def found(**kwargs):
    return [(f.code, f.target) for f in find_problems(**kwargs)]


def a_contract(limit, used, codes):
    contract = ContractFactory(max_learners=limit, name="Spring")
    fill(contract, used)
    for _ in range(codes):
        EnrollmentCodeFactory(contract=contract)
    return contract


@pytest.mark.parametrize(
    ("limit", "used", "codes", "expected"),
    [
        (10, 9, 2, [CONTRACT_NEARLY_FULL]),  # 2 codes out, 1 seat free
        (10, 9, 1, []),  # as many seats as codes: everyone gets in
        (10, 8, 5, []),  # 80 % used: not nearly full yet
        (10, 10, 1, ["contract_full"]),
        (None, 50, 5, []),  # no limit
        (0, 50, 5, []),  # 0 is no limit too
    ],
)
def test_nearly_full_when_the_codes_out_outnumber_the_free_seats(limit, used, codes, expected):
    contract = a_contract(limit, used, codes)

    assert found() == [(code, str(contract)) for code in expected]


def test_the_nearly_full_message_counts_seats_and_codes():
    contract = a_contract(10, 9, 3)
    [finding] = find_problems()
    assert finding.message == NEARLY_FULL.format(contract=contract, used=9, total=10, n=3, free=1)
    assert (finding.severity, finding.fix, finding.subject_dict()) == (
        "warning",
        "add_contract_seats",
        {"contract": contract.pk},
    )


def test_a_contract_problem_needs_an_outstanding_code():
    now = timezone.now()
    ended = ContractFactory(start=now - 60 * DAY, end=now - DAY)
    EnrollmentCodeFactory(contract=ended)  # expired with its contract: its own problem
    used = EnrollmentCodeFactory(contract=ContractFactory(active=False))
    CodeRedemptionFactory(code=used)  # a used one-time code
    assert found() == []

    late = EnrollmentCodeFactory(contract=ended, expiration_date=None)  # still out

    assert sorted(found()) == [
        ("code_dates_mismatch", late.code),
        ("contract_ended", str(ended)),
    ]


def test_a_batch_costs_the_same_queries_for_ten_times_the_contracts():
    population.code_contracts(random.Random(1), 4)
    with CaptureQueriesContext(connection) as small:
        few = list(find_problems(batch_size=1000))
    population.code_contracts(random.Random(2), 36)
    with CaptureQueriesContext(connection) as large:
        many = list(find_problems(batch_size=1000))

    assert len(many) > 3 * len(few) > 0
    assert len(small.captured_queries) == len(large.captured_queries) <= 6


def test_batches_find_what_one_pass_finds():
    population.code_contracts(random.Random(3), 20)
    whole = list(find_problems(batch_size=1000))
    assert sorted(find_problems(batch_size=3), key=repr) == sorted(whole, key=repr)
