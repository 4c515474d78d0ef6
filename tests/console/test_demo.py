"""The demo data: idempotent, and showing each playbook's broken cases."""

import pytest
from django.core.management import call_command
from django.db import connection

from orgs.amc import diagnose_amc_user
from support_tools.actors import Actor

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_shows_broken_cases(settings):
    call_command("seed_demo")
    tables = connection.introspection.table_names()
    counts = {t: _count(t) for t in tables if not t.startswith(("django_session", "sqlite_"))}
    call_command("seed_demo")
    assert counts == {t: _count(t) for t in counts}
    settings.AMC_OAUTH_CLIENT_ID = "amc-demo-client"
    actor = Actor.system("t")
    assert diagnose_amc_user(user="amc-ok", actor=actor).ok
    assert not diagnose_amc_user(user="amc-expired", actor=actor).ok
    assert not diagnose_amc_user(user="amc-stale", actor=actor).ok


def _count(table):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - table names from Django
        return cursor.fetchone()[0]
