import pytest


@pytest.fixture
def no_keycloak(settings):
    """Keycloak not configured: organizations without an SSO id need none."""
    settings.KEYCLOAK_SERVER_URL = None
    return settings


@pytest.fixture
def org(db):
    """An organization Keycloak does not control."""
    from tests.factories import OrganizationFactory

    return OrganizationFactory(
        short_name="local", name="Local College", email_domains=["local.edu"]
    )


@pytest.fixture
def ann(db):
    from tests.factories import UserFactory

    return UserFactory(username="ann", email="ann@LOCAL.edu")
