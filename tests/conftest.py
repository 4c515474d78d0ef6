import os

import pytest
from django.conf import global_settings
from django.contrib.auth.models import Group

from support_tools.actors import Actor
from support_tools.permissions import SUPPORT_GROUP, SUPPORT_LEADS_GROUP
from tests.factories import ApplicationFactory, UserFactory

os.environ.setdefault("SUPPORT_TOOLS_INSECURE_DEV", "1")


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (concurrency) are skipped on SQLite runs; make test runs both."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip = pytest.mark.skip(reason="needs PostgreSQL: run by the PostgreSQL pass of make test")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Users made by tests hash their password with MD5 (Django's advice for tests): PBKDF2's
    million iterations cost about half a second per user here, most of the suite's time. The
    default hashers stay listed, so a hash made the production way still checks; processes that
    tests start (manage.py, gunicorn, workers) hash as production does."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *global_settings.PASSWORD_HASHERS,
    ]


@pytest.fixture
def system_actor():
    return Actor.system("tests")


@pytest.fixture
def amc_app(settings, db):
    settings.AMC_OAUTH_CLIENT_ID = "amc-client"
    return ApplicationFactory(client_id="amc-client")


@pytest.fixture
def support_user(db):
    user = UserFactory(username="support-sam", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    return user


@pytest.fixture
def lead_user(db):
    user = UserFactory(username="support-lead", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT_LEADS_GROUP))
    return user


@pytest.fixture
def viewer_user(db):
    """Staff with view access only: may diagnose, may not repair."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="viewer-val", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def support_actor(support_user):
    return Actor.for_user(support_user, door="admin")
