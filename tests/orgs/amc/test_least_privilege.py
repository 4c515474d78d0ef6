"""Least privilege: who may be given an AMC token or AMC-admin rights, and with which scopes."""

import pytest
from django.contrib.auth.models import Permission
from oauth2_provider.models import AccessToken

from orgs.amc.services import (
    NOT_AN_ORG_ADMIN,
    STAFF_ACCOUNT_REFUSED,
    ensure_amc_admin,
    ensure_amc_token,
)
from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory(short_name="acme", email_domains=["acme.edu"])


@pytest.mark.parametrize("service", [ensure_amc_token, ensure_amc_admin])
@pytest.mark.parametrize("flags", [{"is_superuser": True, "is_staff": True}, {"is_staff": True}])
def test_a_staff_or_superuser_target_is_refused_and_audited(
    amc_app, org, support_actor, service, flags
):
    boss = UserFactory(username="boss", email="boss@acme.edu", **flags)
    with pytest.raises(SupportError) as refused:
        service(user="boss", organization="acme", actor=support_actor)
    assert refused.value.kind == ErrorKind.PERMISSION
    assert refused.value.message == STAFF_ACCOUNT_REFUSED.format(user="boss")
    assert not AccessToken.objects.filter(user=boss).exists()
    row = SupportAction.objects.get()
    assert (row.outcome, row.subject_user, row.error) == ("failed", boss, refused.value.message)


def test_the_explicit_permission_allows_a_staff_target(amc_app, org, support_user):
    UserFactory(username="boss", email="boss@acme.edu", is_staff=True)
    support_user.user_permissions.add(Permission.objects.get(codename="amc_for_staff_accounts"))
    actor = Actor.for_user(support_user, door="api")
    assert ensure_amc_token(user="boss", organization="acme", actor=actor).changed


def test_a_user_of_another_domain_without_membership_is_refused(amc_app, org, support_actor):
    UserFactory(username="stranger", email="stranger@elsewhere.com")
    with pytest.raises(SupportError) as refused:
        ensure_amc_token(user="stranger", organization="acme", actor=support_actor)
    assert refused.value.kind == ErrorKind.CONFLICT
    assert refused.value.message == NOT_AN_ORG_ADMIN.format(
        user="stranger", org="acme", domain="elsewhere.com", domains="acme.edu"
    )


def test_an_existing_member_of_another_domain_is_allowed(amc_app, org, support_actor):
    guest = UserFactory(username="guest", email="guest@partner.org")
    UserOrganizationMappingFactory(user=guest, organization=org)
    assert ensure_amc_admin(user="guest", organization="acme", actor=support_actor).changed


def test_new_tokens_carry_the_configured_scopes_only(amc_app, org, support_actor, settings):
    UserFactory(username="ann", email="ann@acme.edu")
    ensure_amc_token(user="ann", organization="acme", actor=support_actor)
    assert AccessToken.objects.get(user__username="ann").scope == "read"
    settings.AMC_TOKEN_SCOPES = "read write"
    UserFactory(username="bea", email="bea@acme.edu")
    ensure_amc_token(user="bea", organization="acme", actor=support_actor)
    assert AccessToken.objects.get(user__username="bea").scope == "read write"


def test_the_api_refuses_a_token_for_the_superuser(amc_app, org, client, support_user):
    UserFactory(username="admin", email="admin@acme.edu", is_staff=True, is_superuser=True)
    client.force_login(support_user)
    response = client.post(
        "/api/v1/amc/ensure-token",
        {"user": "admin", "org": "acme"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": STAFF_ACCOUNT_REFUSED.format(user="admin"),
        "kind": "permission",
    }
