"""Fixtures for tests against the real Keycloak that scripts/keycloak.sh starts.

Tests marked `keycloak` use `kc`: it creates uniquely named Keycloak users, organizations,
identity providers and clients through the master admin, and deletes them afterwards, so tests
are independent and re-runnable. Without KEYCLOAK_SERVER_URL in the environment those tests fail
under CI (CI=true) and are skipped locally, saying how to start the server.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from keycloak import KeycloakAdmin

NO_SERVER = (
    'needs the local Keycloak: run `eval "$(scripts/keycloak.sh start)"` first (make test does it)'
)
ENV = (
    "KEYCLOAK_SERVER_URL",
    "KEYCLOAK_REALM",
    "KEYCLOAK_CLIENT_ID",
    "KEYCLOAK_CLIENT_SECRET",
    "KEYCLOAK_ADMIN_USER",
    "KEYCLOAK_ADMIN_PASSWORD",
)


@dataclass(frozen=True)
class KeycloakServer:
    url: str
    realm: str
    client_id: str
    client_secret: str
    admin_user: str
    admin_password: str
    login_client_id: str


@pytest.fixture(scope="session")
def keycloak_server() -> KeycloakServer:
    missing = [name for name in ENV if not os.environ.get(name)]
    if missing:
        message = f"{NO_SERVER}; missing: {', '.join(missing)}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return KeycloakServer(
        url=os.environ["KEYCLOAK_SERVER_URL"],
        realm=os.environ["KEYCLOAK_REALM"],
        client_id=os.environ["KEYCLOAK_CLIENT_ID"],
        client_secret=os.environ["KEYCLOAK_CLIENT_SECRET"],
        admin_user=os.environ["KEYCLOAK_ADMIN_USER"],
        admin_password=os.environ["KEYCLOAK_ADMIN_PASSWORD"],
        login_client_id=os.environ.get("KEYCLOAK_LOGIN_CLIENT_ID", "support-tools-login"),
    )


@pytest.fixture(scope="session")
def kc_admin(keycloak_server: KeycloakServer) -> KeycloakAdmin:
    admin = KeycloakAdmin(
        server_url=keycloak_server.url,
        username=keycloak_server.admin_user,
        password=keycloak_server.admin_password,
        realm_name="master",
        user_realm_name="master",
        timeout=30,
    )
    admin.change_current_realm(keycloak_server.realm)
    return admin


@pytest.fixture
def keycloak_settings(settings, keycloak_server: KeycloakServer):
    """The project's settings pointing at the real server's service account."""
    settings.KEYCLOAK_SERVER_URL = keycloak_server.url
    settings.KEYCLOAK_REALM = keycloak_server.realm
    settings.KEYCLOAK_CLIENT_ID = keycloak_server.client_id
    settings.KEYCLOAK_CLIENT_SECRET = keycloak_server.client_secret
    settings.KEYCLOAK_TIMEOUT_SECONDS = 10
    return settings


@dataclass
class KcOrg:
    id: str
    name: str
    alias: str
    domain: str
    idp: str | None


@dataclass
class KcUser:
    id: str
    username: str
    email: str
    password: str | None


@dataclass
class KeycloakWorld:
    """Builds Keycloak test data through the master admin and reads it back for assertions."""

    server: KeycloakServer
    admin: KeycloakAdmin
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    _orgs: list[str] = field(default_factory=list)
    _users: list[str] = field(default_factory=list)
    _idps: list[str] = field(default_factory=list)
    _clients: list[str] = field(default_factory=list)
    _n: int = 0

    def _next(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self.tag}-{self._n}"

    def org(
        self,
        *,
        idp: bool = False,
        name: str | None = None,
        domain: str | None = None,
        alias: str | None = None,
    ) -> KcOrg:
        alias = alias or self._next("org")
        name = name or f"Org {alias}"
        domain = domain or f"{alias}.test"
        self.admin.create_organization(
            {"name": name, "alias": alias, "enabled": True, "domains": [{"name": domain}]}
        )
        org_id = next(o["id"] for o in self.admin.get_organizations({"search": domain}))
        self._orgs.append(org_id)
        idp_alias = None
        if idp:
            idp_alias = self._next("idp")
            self.admin.create_idp(
                {
                    "alias": idp_alias,
                    "providerId": "oidc",
                    "enabled": True,
                    "config": {
                        "clientId": "upstream",
                        "clientSecret": "upstream",
                        "authorizationUrl": "http://127.0.0.1:9/authorize",
                        "tokenUrl": "http://127.0.0.1:9/token",
                        "clientAuthMethod": "client_secret_post",
                    },
                }
            )
            self._idps.append(idp_alias)
            self.admin.organization_idp_add(org_id, idp_alias)
        return KcOrg(org_id, name, alias, domain, idp_alias)

    def user(self, email: str, *, password: bool = False) -> KcUser:
        username = self._next("user")
        pw = secrets.token_urlsafe(12) if password else None
        payload: dict[str, Any] = {
            "username": username,
            "email": email,
            "emailVerified": True,
            "enabled": True,
            "firstName": "Test",
            "lastName": "Learner",
        }
        if pw:
            payload["credentials"] = [{"type": "password", "value": pw, "temporary": False}]
        user_id = self.admin.create_user(payload)
        self._users.append(user_id)
        return KcUser(user_id, username, email, pw)

    def add_member(self, org: KcOrg, user: KcUser) -> None:
        self.admin.organization_user_add(user.id, org.id)

    def sign_in(self, user: KcUser) -> None:
        """Open a Keycloak session for the user (password grant on the test login client)."""
        response = requests.post(
            f"{self.server.url}/realms/{self.server.realm}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": self.server.login_client_id,
                "username": user.username,
                "password": user.password,
            },
            timeout=10,
        )
        response.raise_for_status()

    def service_client(self, roles: list[str]) -> tuple[str, str]:
        """A confidential client whose service account holds exactly these realm-management
        roles: (client_id, secret)."""
        client_id = self._next("client")
        secret = secrets.token_urlsafe(16)
        self.admin.create_client(
            {
                "clientId": client_id,
                "enabled": True,
                "publicClient": False,
                "serviceAccountsEnabled": True,
                "standardFlowEnabled": False,
                "secret": secret,
            }
        )
        client_uuid = self.admin.get_client_id(client_id)
        self._clients.append(client_uuid)
        account = self.admin.get_client_service_account_user(client_uuid)
        management = self.admin.get_client_id("realm-management")
        if roles:
            self.admin.assign_client_role(
                account["id"],
                management,
                [self.admin.get_client_role(management, r) for r in roles],
            )
        return client_id, secret

    # -- reading back ----------------------------------------------------------------------

    def credential_types(self, user: KcUser) -> list[str]:
        return sorted(c["type"] for c in self.admin.get_credentials(user.id))

    def organization_ids_of(self, user: KcUser) -> set[str]:
        return {o["id"] for o in self.admin.get_user_organizations(user.id)}

    def session_count(self, user: KcUser) -> int:
        return len(self.admin.get_sessions(user.id))

    def cleanup(self) -> None:
        for action, ids in (
            (self.admin.delete_user, self._users),
            (self.admin.delete_organization, self._orgs),
            (self.admin.delete_idp, self._idps),
            (self.admin.delete_client, self._clients),
        ):
            for item in ids:
                with contextlib.suppress(Exception):  # best effort: the server is throwaway
                    action(item)


@pytest.fixture
def kc(keycloak_server: KeycloakServer, kc_admin: KeycloakAdmin, keycloak_settings):
    world = KeycloakWorld(keycloak_server, kc_admin)
    yield world
    world.cleanup()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: Keycloak "down"."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
