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


@pytest.fixture
def stopped_part_way(kc, settings):
    """A learner whose whole repair Keycloak stops part-way: the service account may add members
    (manage-realm) but not end sessions (manage-users). Returns (kc_org, org, learner)."""
    from tests.orgs.membership.world import Learner, local_org

    settings.KEYCLOAK_CLIENT_ID, settings.KEYCLOAK_CLIENT_SECRET = kc.service_client(
        ["view-users", "manage-realm"]
    )
    kc_org = kc.org()
    learner = Learner(kc, kc_org, password=True)
    kc.sign_in(learner.kc_user)
    return kc_org, local_org(kc_org), learner
