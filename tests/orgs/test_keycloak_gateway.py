"""The Keycloak gateway's contract, against the real server (scripts/keycloak.sh)."""

from __future__ import annotations

import socket

import pytest

from orgs import keycloak
from orgs.keycloak import (
    KEYCLOAK_BAD_CREDENTIALS,
    KEYCLOAK_FORBIDDEN,
    KEYCLOAK_NOT_CONFIGURED,
    KeycloakGateway,
)
from support_tools.errors import ErrorKind, SupportError

pytestmark = pytest.mark.keycloak


@pytest.fixture
def gw(kc):
    return keycloak.gateway()


def test_finds_a_user_by_email_case_insensitively(kc, gw):
    user = kc.user(f"Mixed.{kc.tag}@Example.test")

    found = gw.find_user_by_email(f"mixed.{kc.tag}@example.TEST")

    assert found is not None and found.id == user.id and found.username == user.username
    assert gw.find_user_by_email(f"nobody.{kc.tag}@example.test") is None


def test_reads_and_deletes_a_password(kc, gw):
    user = kc.user(f"pw.{kc.tag}@example.test", password=True)

    passwords = gw.password_credentials(user.id)
    assert [c.type for c in passwords] == ["password"]

    gw.delete_credential(user.id, passwords[0].id)

    assert gw.password_credentials(user.id) == []
    assert kc.credential_types(user) == []


def test_organizations_members_and_identity_providers(kc, gw):
    plain, with_idp = kc.org(), kc.org(idp=True)
    user = kc.user(f"member.{kc.tag}@{plain.domain}")

    org = gw.get_organization(plain.id)
    assert (org.id, org.name, org.alias, org.domains) == (
        plain.id,
        plain.name,
        plain.alias,
        (plain.domain,),
    )
    assert gw.get_organization("00000000-0000-4000-8000-00000000abcd") is None
    assert gw.organization_identity_providers(plain.id) == []
    assert gw.organization_identity_providers(with_idp.id) == [with_idp.idp]
    assert gw.user_organizations(user.id) == []

    gw.add_member(plain.id, user.id)

    assert [o.id for o in gw.user_organizations(user.id)] == [plain.id]
    assert kc.organization_ids_of(user) == {plain.id}


def test_finds_organizations_by_exact_name_or_alias(kc, gw):
    org = kc.org(name=f"Exact {kc.tag}")

    assert [o.id for o in gw.find_organizations(f"EXACT {kc.tag}")] == [org.id]
    assert [o.id for o in gw.find_organizations(org.alias.upper())] == [org.id]
    assert gw.find_organizations(f"Exact {kc.tag[:4]}") == []  # a prefix is no match


def test_finds_an_organization_by_an_alias_that_search_does_not_see(kc, gw):
    org = kc.org(name=f"Named {kc.tag}", domain=f"d{kc.tag}.test")  # alias in neither

    assert [o.id for o in gw.find_organizations(org.alias)] == [org.id]


def test_counts_and_ends_sessions(kc, gw):
    user = kc.user(f"sess.{kc.tag}@example.test", password=True)
    kc.sign_in(user)
    kc.sign_in(user)

    assert gw.session_count(user.id) == 2
    gw.end_sessions(user.id)
    assert gw.session_count(user.id) == 0 == kc.session_count(user)


def test_not_configured(settings):
    settings.KEYCLOAK_SERVER_URL = None

    assert keycloak.is_configured() is False
    with pytest.raises(SupportError) as exc:
        keycloak.gateway()
    assert exc.value.message == KEYCLOAK_NOT_CONFIGURED
    assert exc.value.kind == ErrorKind.UNAVAILABLE


def test_unreachable_is_a_domain_error(keycloak_server, closed_port):
    gw = KeycloakGateway(
        server_url=f"http://127.0.0.1:{closed_port}",
        realm=keycloak_server.realm,
        client_id=keycloak_server.client_id,
        client_secret=keycloak_server.client_secret,
        timeout=2,
    )

    with pytest.raises(SupportError) as exc:
        gw.find_user_by_email("ann@acme.test")

    assert exc.value.kind == ErrorKind.UNAVAILABLE
    assert exc.value.message == (
        f"Keycloak at http://127.0.0.1:{closed_port} did not answer when asked to look up the "
        "user ann@acme.test (connection refused or host unreachable)."
    )


def test_a_silent_server_times_out(keycloak_server, settings):
    settings.KEYCLOAK_TIMEOUT_SECONDS = 0.5
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        gw = KeycloakGateway(
            server_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            realm=keycloak_server.realm,
            client_id=keycloak_server.client_id,
            client_secret=keycloak_server.client_secret,
            timeout=0.5,
        )
        with pytest.raises(SupportError) as exc:
            gw.get_organization("00000000-0000-4000-8000-00000000abcd")
    assert "no answer within 0.5 s" in exc.value.message


def test_wrong_secret_is_refused(keycloak_server):
    gw = KeycloakGateway(
        server_url=keycloak_server.url,
        realm=keycloak_server.realm,
        client_id=keycloak_server.client_id,
        client_secret="wrong",
        timeout=5,
    )

    with pytest.raises(SupportError) as exc:
        gw.find_organizations("acme")

    assert exc.value.kind == ErrorKind.UNAVAILABLE
    assert exc.value.message == KEYCLOAK_BAD_CREDENTIALS.format(
        client_id=keycloak_server.client_id,
        realm=keycloak_server.realm,
        what="search organizations named 'acme'",
    )


def test_a_service_account_without_roles_is_refused(kc, keycloak_server):
    client_id, secret = kc.service_client(["view-users"])
    gw = KeycloakGateway(
        server_url=keycloak_server.url,
        realm=keycloak_server.realm,
        client_id=client_id,
        client_secret=secret,
        timeout=5,
    )
    user = kc.user(f"ro.{kc.tag}@example.test", password=True)

    assert gw.find_user_by_email(user.email).id == user.id  # view-users suffices to read users
    with pytest.raises(SupportError) as exc:
        gw.delete_credential(user.id, gw.password_credentials(user.id)[0].id)
    assert exc.value.message == KEYCLOAK_FORBIDDEN.format(
        what="delete the user's password", client_id=client_id
    )
    assert kc.credential_types(user) == ["password"]


def test_the_setup_grants_exactly_the_documented_roles(kc_admin, keycloak_server):
    client_uuid = kc_admin.get_client_id(keycloak_server.client_id)
    account = kc_admin.get_client_service_account_user(client_uuid)
    management = kc_admin.get_client_id("realm-management")

    roles = {r["name"] for r in kc_admin.get_client_roles_of_user(account["id"], management)}

    assert roles == {"view-users", "manage-users", "manage-realm"}
