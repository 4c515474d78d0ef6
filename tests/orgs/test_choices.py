"""The organization a page asks for: the learner's own, AMC-admin and active ones first."""

import pytest

from orgs.choices import learner_organizations, organization_field
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db


def test_the_learners_organizations_admin_ones_first_and_a_named_one_added():
    lea = UserFactory(username="lea", email="lea@beta.example")
    alpha = OrganizationFactory(short_name="alpha")
    zeta = OrganizationFactory(short_name="zeta")
    OrganizationFactory(short_name="beta", email_domains=["beta.example"])
    OrganizationFactory(short_name="other", name="Other Org")
    UserOrganizationMappingFactory(user=lea, organization=alpha)
    UserOrganizationMappingFactory(user=lea, organization=zeta, is_amc_admin=True)
    names = [o.short_name for o in learner_organizations(lea.pk)]
    assert names == ["zeta", "alpha", "beta"]
    assert "other" in [o.short_name for o in learner_organizations(lea.pk, named="OTHER")]


def test_the_field_accepts_the_short_name_or_the_name_in_any_case():
    lea = UserFactory(username="lea")
    org = OrganizationFactory(short_name="acme", name="Acme University")
    UserOrganizationMappingFactory(user=lea, organization=org)
    field = organization_field(lea.pk)
    assert field.clean("ACME") == org and field.clean("acme university") == org
