"""diagnose_org_membership: the checklist of one learner in one organization, read from the
local database and (for Keycloak-controlled organizations) the real Keycloak."""

from __future__ import annotations

import pytest

from orgs.membership import diagnose_org_membership
from orgs.models import UserOrganizationMapping
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.factories import (
    ContractFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)
from tests.orgs.membership.world import Learner, codes, local_org, problem

pytestmark = pytest.mark.django_db


def test_uncontrolled_organization_needs_no_keycloak(no_keycloak, org, ann, system_actor):
    ContractFactory(organization=org, membership_type="managed", name="Managed")

    result = diagnose_org_membership(
        user="ANN@local.edu", organization="Local College", actor=system_actor
    )

    assert codes(result) == ["local_membership_missing", "contract_membership_missing"]
    assert result.as_dict()["keycloak"]["status"] == "not_controlled"
    assert SupportAction.objects.get().outcome == "problems"


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


def test_unknown_user_and_organization(no_keycloak, org, system_actor):
    with pytest.raises(SupportError) as exc:
        diagnose_org_membership(user="nobody@local.edu", organization=org, actor=system_actor)
    assert exc.value.kind == ErrorKind.NOT_FOUND
    UserFactory(username="ann")
    with pytest.raises(SupportError) as exc:
        diagnose_org_membership(user="ann", organization="nowhere", actor=system_actor)
    assert exc.value.kind == ErrorKind.NOT_FOUND


def test_diagnosis_query_count_does_not_grow_with_contracts(
    no_keycloak, org, ann, system_actor, django_assert_max_num_queries
):
    for _ in range(10):
        ContractFactory(organization=org, membership_type="managed")

    with django_assert_max_num_queries(12):
        diagnose_org_membership(user=ann, organization=org, actor=system_actor)


# -- against the real Keycloak ----------------------------------------------------------------


@pytest.fixture
def healthy(kc):
    """A learner who is where they should be: nothing to report."""
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, member=True)
    UserOrganizationMappingFactory(user=learner.user, organization=org)
    contract = ContractFactory(organization=org, membership_type="managed")
    contract.learners.add(learner.user)
    return kc_org, org, learner


@pytest.mark.keycloak
def test_healthy_learner_has_no_problem(healthy, system_actor):
    kc_org, org, learner = healthy

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert result.ok and codes(result) == []
    data = result.as_dict()
    assert data["keycloak"]["member"] is True
    assert data["keycloak"]["organization"]["id"] == kc_org.id
    row = SupportAction.objects.get(action="diagnose_org_membership")
    assert row.outcome == "ok" and row.changes == []


@pytest.mark.keycloak
def test_every_problem_of_a_neglected_learner_is_found(kc, system_actor):
    kc_org = kc.org(idp=True)
    org = local_org(kc_org)
    ContractFactory(organization=org, membership_type="auto", name="Auto")
    ContractFactory(organization=org, membership_type="code", name="Codes")  # not ours to join
    learner = Learner(kc, kc_org, password=True)

    result = diagnose_org_membership(
        user=learner.email.lower(), organization=org.short_name.upper(), actor=system_actor
    )

    assert codes(result) == [
        "password_blocks_idp",
        "keycloak_membership_missing",
        "local_membership_missing",
        "contract_membership_missing",
    ]
    assert problem(result, "password_blocks_idp").fix == "delete_password"
    assert kc_org.idp in problem(result, "password_blocks_idp").message
    missing = problem(result, "keycloak_membership_missing")
    assert missing.fix is None and "next sign-in" in missing.message
    assert "Auto" in problem(result, "contract_membership_missing").message
    assert "Codes" not in problem(result, "contract_membership_missing").message
    assert not result.ok


@pytest.mark.keycloak
def test_not_expected_member_is_a_warning_and_checks_go_on(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, domain="elsewhere.test")

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert codes(result)[:2] == ["not_expected_member", "keycloak_membership_missing"]
    assert problem(result, "not_expected_member").severity == "warning"
    assert "elsewhere.test" in problem(result, "not_expected_member").message


@pytest.mark.keycloak
def test_keycloak_domains_count_as_expected(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    org.email_domains = []
    org.save()
    learner = Learner(kc, kc_org, member=True)

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert "not_expected_member" not in codes(result)


@pytest.mark.keycloak
def test_keycloak_user_missing(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, in_kc=False)

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert "keycloak_user_missing" in codes(result)
    assert learner.email.lower() in problem(result, "keycloak_user_missing").message


@pytest.mark.keycloak
def test_sso_id_not_found_without_a_match_has_no_fix(kc, system_actor):
    kc_org = kc.org()
    org = OrganizationFactory(
        sso_organization_id="00000000-0000-4000-8000-000000000002", email_domains=[kc_org.domain]
    )
    learner = Learner(kc, kc_org)

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert problem(result, "sso_id_not_found").fix is None


@pytest.mark.keycloak
def test_keycloak_refusing_the_client_credentials(kc, settings, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)
    settings.KEYCLOAK_CLIENT_SECRET = "not-the-secret"

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert "refused the credentials" in problem(result, "keycloak_unreachable").message


@pytest.mark.keycloak
def test_keycloak_refusing_a_service_account_without_the_roles(kc, settings, system_actor):
    settings.KEYCLOAK_CLIENT_ID, settings.KEYCLOAK_CLIENT_SECRET = kc.service_client(["view-users"])
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert "lacks a realm-management role" in problem(result, "keycloak_unreachable").message
