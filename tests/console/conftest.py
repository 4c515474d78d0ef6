import pytest

from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory


@pytest.fixture
def mat(amc_app):
    """An AMC admin of acme with no token yet: the AMC section is red."""
    org = OrganizationFactory(short_name="acme")
    mat = UserFactory(username="mat", email="Mat@Example.com")
    UserOrganizationMappingFactory(user=mat, organization=org, is_amc_admin=True)
    return mat
