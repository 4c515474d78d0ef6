"""The checklist, on states built by hand: problems_of is pure."""

from __future__ import annotations

import datetime as dt

import pytest

from orgs.keycloak import Credential
from orgs.membership.checks import problems_of
from orgs.membership.inspect import KeycloakStatus
from orgs.models import Organization, UserOrganizationMapping
from tests.orgs.membership.world import a_state

WHEN = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def test_a_learner_in_order_has_no_problem():
    assert problems_of(a_state()) == []


@pytest.mark.django_db
def test_checks_read_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        problems_of(a_state(kc_member=False, relogin_since=WHEN))


def test_a_password_blocks_the_identity_provider_which_will_add_the_member():
    problems = problems_of(
        a_state(
            identity_providers=("acme-idp",),
            passwords=(Credential(id="pw", type="password"),),
            kc_member=False,
            mapping=UserOrganizationMapping(is_active=True, keep_until_seen=True),
        )
    )

    assert codes(problems) == ["password_blocks_idp", "keycloak_membership_missing"]
    assert [p.fix for p in problems] == ["delete_password", None]


def test_relogin_required_until_a_sign_in_in_keycloak_controlled_organizations_only():
    (relogin,) = problems_of(a_state(relogin_since=WHEN))
    assert relogin.code == "relogin_required" and relogin.severity == "warning"
    assert relogin.fix == "end_sessions" and "2026-03-01 12:00 UTC" in relogin.message

    signed_in = a_state(relogin_since=WHEN)
    signed_in.user.last_login = WHEN + dt.timedelta(seconds=1)
    assert problems_of(signed_in) == []

    uncontrolled = Organization(pk=2, short_name="local", sso_organization_id=None)
    assert (
        problems_of(
            a_state(
                organization=uncontrolled,
                keycloak_status=KeycloakStatus.NOT_CONTROLLED,
                relogin_since=WHEN,
            )
        )
        == []
    )
