"""Fixtures of the orgs tests: the real Keycloak's (see keycloak_fixtures.py)."""

from tests.orgs.keycloak_fixtures import (  # noqa: F401 - fixtures made visible to tests/orgs
    closed_port,
    kc,
    kc_admin,
    keycloak_server,
    keycloak_settings,
)
