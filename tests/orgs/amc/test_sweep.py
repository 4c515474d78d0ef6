"""The AMC sweep's own behaviour (the property test in tests/console/sweeps/ holds it to the
diagnosis): batches of a constant number of queries, the application missing said once."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import AMC_CLIENT_ID_UNSET
from orgs.amc.sweep import APP_MISSING_TARGET, find_problems
from tests.console.sweeps import population
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def queries_of(**kwargs) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as ctx:
        found = list(find_problems(**kwargs))
    return len(ctx.captured_queries), found


def test_a_batch_costs_the_same_queries_for_ten_times_the_admins(amc_app):
    population.amc_admins(random.Random(5), 6, amc_app)
    small, found_small = queries_of(batch_size=1000)
    population.amc_admins(random.Random(6), 54, amc_app)
    large, found_large = queries_of(batch_size=1000)

    assert len(found_large) > 5 * len(found_small) > 0
    assert small == large <= 10


def test_batches_find_what_one_pass_finds(amc_app, django_assert_max_num_queries):
    population.amc_admins(random.Random(7), 25, amc_app)
    whole = list(find_problems(batch_size=1000))

    with django_assert_max_num_queries(9 * 9 + 2):  # 9 batches of 3 admins
        batched = list(find_problems(batch_size=3))

    assert sorted(batched, key=repr) == sorted(whole, key=repr)


def test_without_the_amc_application_only_the_accounts_are_checked(settings):
    settings.AMC_OAUTH_CLIENT_ID = None
    assert list(find_problems()) == []  # no AMC admin: nothing to say
    org = OrganizationFactory(short_name="acme")
    for name in ("ann", "bob"):
        UserOrganizationMappingFactory(
            user=UserFactory(username=name), organization=org, is_amc_admin=True
        )

    found = list(find_problems(batch_size=1))

    assert [(f.code, f.target, f.username) for f in found] == [
        ("amc_app_missing", APP_MISSING_TARGET, None),
        ("site_mapping_missing", "acme", "ann"),
        ("amc_account_missing", "acme", "ann"),
        ("site_mapping_missing", "acme", "bob"),
        ("amc_account_missing", "acme", "bob"),
    ]
    assert found[0].message == AMC_CLIENT_ID_UNSET


def test_inactive_or_non_admin_mappings_are_not_swept(amc_app):
    org = OrganizationFactory()
    UserOrganizationMappingFactory(organization=org, is_amc_admin=True, is_active=False)
    UserOrganizationMappingFactory(organization=org, is_amc_admin=False)
    assert list(find_problems()) == []
