"""The membership sweep's own behaviour (the property test in tests/console/sweeps/ holds its
findings to the diagnosis): Keycloak not configured, down, slow or failing for one organization
gives a clear partial result; bounded concurrency; a deadline for the whole sweep; paging;
constant local queries; Keycloak's calls counted."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs import keycloak
from orgs.keycloak import KEYCLOAK_NOT_CONFIGURED, KEYCLOAK_UNREACHABLE, WHY_REFUSED
from orgs.membership.checks import MSG
from orgs.membership.sweep import find_problems
from orgs.membership.sweep_keycloak import SWEEP_DEADLINE_PASSED
from support_tools.sweeps import SweepStats
from tests.factories import ContractFactory, UserOrganizationMappingFactory
from tests.orgs.fake_keycloak import FakeKeycloak, FakeWorld, Fault
from tests.orgs.membership.world import Learner, local_org

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fake(settings):
    server = FakeKeycloak().start()
    settings.KEYCLOAK_SERVER_URL = server.url
    settings.KEYCLOAK_REALM = server.realm
    settings.KEYCLOAK_CLIENT_ID = server.client_id
    settings.KEYCLOAK_CLIENT_SECRET = server.client_secret
    settings.KEYCLOAK_TIMEOUT_SECONDS = 5
    yield server
    server.stop()


@pytest.fixture
def world(fake):
    return FakeWorld(fake)


def an_org_with(world, n, *, member=True, managed=True):
    """A Keycloak-controlled organization with `n` learners, active locally; in its managed
    contract or not."""
    kc_org = world.org()
    org = local_org(kc_org)
    contract = ContractFactory(organization=org, membership_type="managed") if managed else None
    learners = [Learner(world, kc_org, member=member) for _ in range(n)]
    for learner in learners:
        UserOrganizationMappingFactory(user=learner.user, organization=org)
        if contract is not None:
            contract.learners.add(learner.user)
    return org, learners


def codes_of(findings):
    return sorted((f.code, f.target, f.username) for f in findings)


def test_a_healthy_organization_has_nothing_to_report_and_its_calls_are_counted(world, fake):
    an_org_with(world, 3)
    fake.requests.clear()
    stats = SweepStats()

    assert list(find_problems(stats=stats)) == []
    assert stats.counts["keycloak_calls"] == len(fake.seen("admin")) == 3  # org, idps, members
    assert stats.counts["organizations_checked"] == 1 and stats.counts["learners"] == 3


def test_keycloak_not_configured_is_said_per_organization_and_the_local_side_still_checked(
    settings, world
):
    org, learners = an_org_with(world, 2, managed=False)
    ContractFactory(organization=org, membership_type="auto", name="Auto")
    settings.KEYCLOAK_SERVER_URL = None

    found = list(find_problems())

    assert codes_of(found) == sorted(
        [("keycloak_not_configured", org.short_name, None)]
        + [("contract_membership_missing", org.short_name, lr.user.username) for lr in learners]
    )
    assert found[0].message == MSG["keycloak_not_configured"].format(
        org=org.short_name, detail=KEYCLOAK_NOT_CONFIGURED
    )


def test_keycloak_down_leaves_each_organization_unchecked_with_the_reason(world, fake):
    org, _ = an_org_with(world, 2)
    fake.fault(Fault.DOWN)
    stats = SweepStats()

    found = list(find_problems(stats=stats))

    [finding] = found
    assert (finding.code, finding.target, finding.user_id) == (
        "keycloak_unreachable",
        org.short_name,
        None,
    )
    why = KEYCLOAK_UNREACHABLE.format(
        url=fake.url, what=f"read the organization {org.sso_organization_id}", why=WHY_REFUSED
    )
    assert finding.message == MSG["keycloak_unreachable"].format(org=org.short_name, detail=why)
    assert stats.counts == {"keycloak_calls": 1, "organizations_not_checked": 1, "learners": 2}
    assert stats.notes == [f"{org.short_name}: {why}"]


def test_one_organization_failing_leaves_the_others_checked(world, fake, monkeypatch):
    monkeypatch.setattr(keycloak, "MEMBER_PAGE_SIZE", 2)
    fine, _ = an_org_with(world, 1, member=False)  # one short page: read whole
    broken, _ = an_org_with(world, 3)  # three members: a second page, which repeats
    fake.fault(Fault.IGNORE_FIRST)

    found = list(find_problems(workers=2))

    assert codes_of(found) == sorted(
        [
            ("keycloak_unreachable", broken.short_name, None),
            ("keep_until_seen_off", fine.short_name, fine.user_mappings.get().user.username),
            (
                "keycloak_membership_missing",
                fine.short_name,
                fine.user_mappings.get().user.username,
            ),
        ]
    )


def test_the_whole_sweep_has_one_deadline_and_at_most_workers_calls_at_once(world, fake):
    orgs = [an_org_with(world, 1)[0] for _ in range(5)]
    fake.fault(Fault.HUNG, on="admin")
    fake.requests.clear()

    started = time.monotonic()
    found = list(find_problems(deadline_seconds=1, workers=2))
    elapsed = time.monotonic() - started

    assert elapsed < 3, f"{elapsed:.2f} s"
    assert len(fake.seen("admin")) == 2  # two workers, each waiting on its first call
    deadline = SWEEP_DEADLINE_PASSED.format(seconds=1)
    assert {(f.code, f.target) for f in found} == {
        ("keycloak_unreachable", org.short_name) for org in orgs
    }
    assert all(f.message.endswith(deadline) for f in found)


def test_members_are_read_page_by_page(world, monkeypatch):
    monkeypatch.setattr(keycloak, "MEMBER_PAGE_SIZE", 2)
    org, learners = an_org_with(world, 5)
    for learner in learners[:2]:
        learner.user.organization_mappings.all().delete()  # members, but not here

    found = list(find_problems())

    assert codes_of(found) == sorted(
        ("local_membership_missing", org.short_name, lr.user.username) for lr in learners[:2]
    )


def test_local_queries_do_not_grow_with_the_learners(world):
    def sweep_of(n):
        org, learners = an_org_with(world, n)
        for learner in learners[: n // 3]:
            learner.user.organization_mappings.all().delete()  # members only in Keycloak
        with CaptureQueriesContext(connection) as ctx:
            found = list(find_problems(batch_size=1000))
        org.delete()
        return len(ctx.captured_queries), found

    small, few = sweep_of(3)
    large, many = sweep_of(30)

    assert len(many) == 10 * len(few) == 10
    assert small == large <= 10
