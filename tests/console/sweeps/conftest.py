"""Fixtures of the sweep tests: a Keycloak to sweep (the fake, or the real one for tests marked
`keycloak`), and the sweep's settings."""

import pytest

from tests.orgs.fake_keycloak import FakeKeycloak, FakeWorld
from tests.orgs.keycloak_fixtures import (  # noqa: F401 - the real Keycloak's fixtures
    kc,
    kc_admin,
    keycloak_server,
    keycloak_settings,
)
from tests.support_tools.jobs.conftest import (  # noqa: F401 - the real worker's fixtures
    runners,
    worker,
)


@pytest.fixture
def fake_keycloak(settings):
    fake = FakeKeycloak().start()
    settings.KEYCLOAK_SERVER_URL = fake.url
    settings.KEYCLOAK_REALM = fake.realm
    settings.KEYCLOAK_CLIENT_ID = fake.client_id
    settings.KEYCLOAK_CLIENT_SECRET = fake.client_secret
    settings.KEYCLOAK_TIMEOUT_SECONDS = 5
    yield fake
    fake.stop()


@pytest.fixture
def fake_kc(fake_keycloak):
    """The fake's world: the same set-up calls as the real Keycloak's `kc`."""
    return FakeWorld(fake_keycloak)


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.keycloak)])
def any_kc(request):
    """A Keycloak world, fake or real: tests using it run against both."""
    return request.getfixturevalue("fake_kc" if request.param == "fake" else "kc")


@pytest.fixture
def no_keycloak(settings):
    settings.KEYCLOAK_SERVER_URL = None
    return settings


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The populations make hundreds of users: a fast hasher keeps them quick to build."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
