"""The org-membership playbook where Keycloak plays no part, or is not configured."""

from __future__ import annotations

import pytest

from orgs.keycloak import KEYCLOAK_NOT_CONFIGURED
from orgs.membership import (
    UNKNOWN_FIX,
    diagnose_org_membership,
    parse_fixes,
    repair_org_membership,
)
from orgs.models import UserOrganizationMapping
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.factories import (
    ContractFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_keycloak(settings):
    settings.KEYCLOAK_SERVER_URL = None
    return settings


@pytest.fixture
def org():
    return OrganizationFactory(
        short_name="local", name="Local College", email_domains=["local.edu"]
    )


@pytest.fixture
def ann():
    return UserFactory(username="ann", email="ann@LOCAL.edu")


def codes(result):
    return [p.code for p in result.problems]


def test_uncontrolled_organization_needs_no_keycloak(no_keycloak, org, ann, system_actor):
    ContractFactory(organization=org, membership_type="managed", name="Managed")

    result = diagnose_org_membership(
        user="ANN@local.edu", organization="Local College", actor=system_actor
    )

    assert codes(result) == ["local_membership_missing", "contract_membership_missing"]
    assert result.as_dict()["keycloak"]["status"] == "not_controlled"
    assert SupportAction.objects.get().outcome == "problems"


def test_inactive_membership_is_reported_and_reactivated(no_keycloak, org, ann, system_actor):
    mapping = UserOrganizationMappingFactory(user=ann, organization=org, is_active=False)

    result = diagnose_org_membership(user=ann, organization=org, actor=system_actor)
    assert codes(result) == ["local_membership_missing"]
    assert "inactive" in result.problems[0].message

    repair = repair_org_membership(user=ann, organization=org, actor=system_actor)

    mapping.refresh_from_db()
    assert mapping.is_active and not mapping.keep_until_seen  # not controlled: nothing to keep
    assert {o.fix: o.status for o in repair.outcomes}["create_local_membership"] == "done"


def test_controlled_organization_without_keycloak_settings(no_keycloak, ann, system_actor):
    org = OrganizationFactory(
        sso_organization_id="00000000-0000-4000-8000-0000000000aa", email_domains=["local.edu"]
    )

    result = diagnose_org_membership(user=ann, organization=org, actor=system_actor)

    assert codes(result) == ["keycloak_not_configured", "local_membership_missing"]
    assert "Keycloak is not configured here" in result.problems[0].message
    assert not result.ok

    repair = repair_org_membership(user=ann, organization=org, actor=system_actor)

    outcome = {o.fix: o for o in repair.outcomes}
    assert outcome["add_keycloak_membership"].status == "skipped"
    assert outcome["add_keycloak_membership"].message == "Keycloak is not configured here"
    mapping = UserOrganizationMapping.objects.get(user=ann, organization=org)
    assert mapping.keep_until_seen  # so the next login keeps it until Keycloak reports it
    assert KEYCLOAK_NOT_CONFIGURED.startswith("Keycloak is not configured")


def test_not_expected_member_when_no_domain_matches(no_keycloak, org, system_actor):
    bob = UserFactory(username="bob", email="bob@elsewhere.org")
    UserOrganizationMappingFactory(user=bob, organization=org)

    result = diagnose_org_membership(user=bob, organization=org, actor=system_actor)

    assert codes(result) == ["not_expected_member"]
    assert result.ok  # a warning only


def test_diagnosis_writes_only_its_audit_row(no_keycloak, org, ann, system_actor):
    ContractFactory(organization=org, membership_type="auto")

    diagnose_org_membership(user=ann, organization=org, actor=system_actor)

    assert not UserOrganizationMapping.objects.exists()
    assert not ann.contracts.exists()
    assert SupportAction.objects.count() == 1


def test_second_local_repair_changes_nothing(no_keycloak, org, ann, system_actor):
    ContractFactory(organization=org, membership_type="managed")

    first = repair_org_membership(user=ann, organization=org, actor=system_actor)
    second = repair_org_membership(user=ann, organization=org, actor=system_actor)

    assert first.changed and not second.changed
    assert ann.contracts.count() == 1


def test_unknown_fix_is_bad_input(no_keycloak, org, ann, system_actor):
    with pytest.raises(SupportError) as exc:
        repair_org_membership(user=ann, organization=org, fixes=["reboot"], actor=system_actor)

    assert exc.value.kind == ErrorKind.BAD_INPUT
    assert exc.value.message.startswith(UNKNOWN_FIX.split("{")[0])
    assert parse_fixes(["end_sessions", "delete_password"]) == ["delete_password", "end_sessions"]


def test_unknown_user_and_organization(no_keycloak, org, system_actor):
    with pytest.raises(SupportError) as exc:
        diagnose_org_membership(user="nobody@local.edu", organization=org, actor=system_actor)
    assert exc.value.kind == ErrorKind.NOT_FOUND
    UserFactory(username="ann")
    with pytest.raises(SupportError) as exc:
        repair_org_membership(user="ann", organization="nowhere", actor=system_actor)
    assert exc.value.kind == ErrorKind.NOT_FOUND


def test_diagnosis_query_count_does_not_grow_with_contracts(
    no_keycloak, org, ann, system_actor, django_assert_max_num_queries
):
    for _ in range(10):
        ContractFactory(organization=org, membership_type="managed")

    with django_assert_max_num_queries(12):
        diagnose_org_membership(user=ann, organization=org, actor=system_actor)
