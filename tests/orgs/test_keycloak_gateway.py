"""The Keycloak gateway's contract, against the real server (scripts/keycloak.sh) and against the
fake (fake_keycloak.py): the same tests, so the fake stays faithful. Then the fake's faults:
every way of misbehaving, for every gateway call, ends in SupportError(UNAVAILABLE) with a
sentence, within the deadline, after one request."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from types import SimpleNamespace

import pytest

from orgs import keycloak
from orgs.keycloak import (
    KEYCLOAK_BAD_CREDENTIALS,
    KEYCLOAK_FAILED,
    KEYCLOAK_FORBIDDEN,
    KEYCLOAK_MALFORMED,
    KEYCLOAK_NOT_CONFIGURED,
    KEYCLOAK_UNREACHABLE,
    WHY_DEADLINE,
    WHY_NOT_JSON,
    WHY_NOT_KEYCLOAK_404,
    WHY_REFUSED,
    WHY_REPEATED_MEMBERS,
    WHY_REPEATED_PAGE,
    WHY_UNEXPECTED_STATUS,
    KeycloakGateway,
)
from orgs.membership import diagnose_org_membership
from support_tools.errors import ErrorKind, SupportError
from tests.factories import OrganizationFactory, UserFactory
from tests.orgs.fake_keycloak import FakeKeycloak, FakeWorld, Fault

NO_SUCH_ORG = "00000000-0000-4000-8000-00000000abcd"


@pytest.fixture
def fake():
    server = FakeKeycloak().start()
    yield server
    server.stop()


@pytest.fixture(params=[pytest.param("real", marks=pytest.mark.keycloak), "fake"])
def world(request, settings):
    """A Keycloak to run a contract test against, with the settings pointing at it."""
    if request.param == "real":
        return request.getfixturevalue("kc")
    fake = request.getfixturevalue("fake")
    settings.KEYCLOAK_SERVER_URL = fake.url
    settings.KEYCLOAK_REALM = fake.realm
    settings.KEYCLOAK_CLIENT_ID = fake.client_id
    settings.KEYCLOAK_CLIENT_SECRET = fake.client_secret
    settings.KEYCLOAK_TIMEOUT_SECONDS = 10
    return FakeWorld(fake)


@pytest.fixture
def gw(world):
    return keycloak.gateway()


def gateway_as(world, client_id: str, secret: str) -> KeycloakGateway:
    return KeycloakGateway(
        server_url=world.server.url,
        realm=world.server.realm,
        client_id=client_id,
        client_secret=secret,
        timeout=5,
    )


# -- the contract: the real Keycloak and the fake alike -------------------------------------------


def test_finds_a_user_by_email_case_insensitively(world, gw):
    user = world.user(f"Mixed.{world.tag}@Example.test")

    found = gw.find_user_by_email(f"mixed.{world.tag}@example.TEST")

    assert found is not None and found.id == user.id and found.username == user.username
    assert found.email == f"mixed.{world.tag}@example.test" and found.enabled is True
    assert gw.find_user_by_email(f"nobody.{world.tag}@example.test") is None
    assert gw.find_user_by_email(f"mixed.{world.tag}@example.tes") is None  # exact, no prefix


def test_reads_and_deletes_a_password(world, gw):
    user = world.user(f"pw.{world.tag}@example.test", password=True)
    bare = world.user(f"bare.{world.tag}@example.test")

    passwords = gw.password_credentials(user.id)
    assert [c.type for c in passwords] == ["password"]
    assert gw.credentials(bare.id) == []

    gw.delete_credential(user.id, passwords[0].id)

    assert gw.password_credentials(user.id) == []
    assert world.credential_types(user) == []


def test_organizations_members_and_identity_providers(world, gw):
    plain, with_idp = world.org(), world.org(idp=True)
    user = world.user(f"member.{world.tag}@{plain.domain}")

    org = gw.get_organization(plain.id)
    assert (org.id, org.name, org.alias, org.domains, org.enabled) == (
        plain.id,
        plain.name,
        plain.alias,
        (plain.domain,),
        True,
    )
    assert gw.get_organization(NO_SUCH_ORG) is None
    assert gw.get_organization("not-a-uuid") is None
    assert gw.organization_identity_providers(plain.id) == []
    assert gw.organization_identity_providers(with_idp.id) == [with_idp.idp]
    assert gw.user_organizations(user.id) == []

    gw.add_member(plain.id, user.id)

    assert [o.id for o in gw.user_organizations(user.id)] == [plain.id]
    assert world.organization_ids_of(user) == {plain.id}


def test_adding_a_member_twice_is_refused_by_keycloak(world, gw):
    org = world.org()
    user = world.user(f"twice.{world.tag}@{org.domain}")
    gw.add_member(org.id, user.id)

    with pytest.raises(SupportError) as exc:
        gw.add_member(org.id, user.id)

    assert exc.value.kind == ErrorKind.UNAVAILABLE
    assert exc.value.message == KEYCLOAK_FAILED.format(
        status=409, what="add the user to the organization"
    )


def test_an_unknown_user_or_organization_is_an_http_404(world, gw):
    with pytest.raises(SupportError) as exc:
        gw.organization_identity_providers(NO_SUCH_ORG)
    assert exc.value.message == KEYCLOAK_FAILED.format(
        status=404, what="list the organization's identity providers"
    )
    with pytest.raises(SupportError) as exc:
        gw.session_count(NO_SUCH_ORG)
    assert exc.value.message == KEYCLOAK_FAILED.format(status=404, what="list the user's sessions")


def test_finds_organizations_by_exact_name_or_alias(world, gw):
    org = world.org(name=f"Exact {world.tag}")

    assert [o.id for o in gw.find_organizations(f"EXACT {world.tag}")] == [org.id]
    assert [o.id for o in gw.find_organizations(org.alias.upper())] == [org.id]
    assert gw.find_organizations(f"Exact {world.tag[:4]}") == []  # a prefix is no match
    assert gw.find_organizations("", "  ") == []


def test_finds_an_organization_by_an_alias_that_search_does_not_see(world, gw):
    org = world.org(name=f"Named {world.tag}", domain=f"d{world.tag}.test")  # alias in neither

    assert [o.id for o in gw.find_organizations(org.alias)] == [org.id]


def test_finds_every_organization_matching_by_name_or_alias(world, gw):
    """The local organization "Twin" (short name twin-…): Keycloak has one organization named
    like it and another whose alias is its short name. Both are candidates."""
    short_name = f"twin-{world.tag}"
    by_name = world.org(name=f"Twin {world.tag}")
    # Keycloak's search sees names and domains: this alias is in neither
    by_alias = world.org(name=f"Other {world.tag}", alias=short_name, domain=f"o{world.tag}.test")
    world.org(name=f"Twin {world.tag} Annex")  # neither

    found = gw.find_organizations(f"Twin {world.tag}", short_name)

    assert sorted(o.id for o in found) == sorted([by_name.id, by_alias.id])


def test_pages_through_all_organizations(world, gw, monkeypatch):
    monkeypatch.setattr(keycloak, "ORG_PAGE_SIZE", 2)
    for n in range(3):
        world.org(name=f"Zz page {world.tag} {n}")
    last = world.org(name=f"Zz page {world.tag} 9", alias=f"zz-last-{world.tag}")

    assert [o.id for o in gw.find_organizations(last.alias)] == [last.id]


def test_lists_an_organization_s_members_page_by_page(world, gw, monkeypatch):
    monkeypatch.setattr(keycloak, "MEMBER_PAGE_SIZE", 2)
    org, other = world.org(), world.org()
    members = [world.user(f"m{n}.{world.tag}@{org.domain}") for n in range(5)]
    for member in members:
        world.add_member(org, member)
    world.add_member(other, world.user(f"elsewhere.{world.tag}@{other.domain}"))

    pages = list(gw.organization_members(org.id))

    assert [len(page) for page in pages] == [2, 2, 1]
    listed = {(u.id, u.email, u.username, u.enabled) for page in pages for u in page}
    assert listed == {(m.id, m.email.lower(), m.username, True) for m in members}
    assert [list(p) for p in gw.organization_members(world.org().id)] == [[]]


def test_members_of_an_unknown_organization_are_an_http_404(world, gw):
    with pytest.raises(SupportError) as exc:
        list(gw.organization_members(NO_SUCH_ORG))
    assert exc.value.message == KEYCLOAK_FAILED.format(
        status=404, what="list the organization's members"
    )


@pytest.mark.django_db
def test_two_candidates_leave_sso_id_not_found_without_a_fix(world, system_actor):
    short_name = f"twin-{world.tag}"
    by_name = world.org(name=f"Twin {world.tag}")
    # Keycloak's search sees names and domains: this alias is in neither
    by_alias = world.org(name=f"Other {world.tag}", alias=short_name, domain=f"o{world.tag}.test")
    org = OrganizationFactory(
        name=f"Twin {world.tag}",
        short_name=short_name,
        sso_organization_id=uuid.uuid4(),
        email_domains=[by_name.domain],
    )
    learner = UserFactory(email=f"learner.{world.tag}@{by_name.domain}")

    result = diagnose_org_membership(user=learner, organization=org, actor=system_actor)

    problem = next(p for p in result.problems if p.code == "sso_id_not_found")
    assert problem.fix is None
    assert by_name.id in problem.message and by_alias.id in problem.message


def test_counts_and_ends_sessions(world, gw):
    user = world.user(f"sess.{world.tag}@example.test", password=True)
    world.sign_in(user)
    world.sign_in(user)

    assert gw.session_count(user.id) == 2
    gw.end_sessions(user.id)
    assert gw.session_count(user.id) == 0 == world.session_count(user)


def test_wrong_secret_is_refused(world):
    gw = gateway_as(world, world.server.client_id, "wrong")

    with pytest.raises(SupportError) as exc:
        gw.find_organizations("acme")

    assert exc.value.kind == ErrorKind.UNAVAILABLE
    assert exc.value.message == KEYCLOAK_BAD_CREDENTIALS.format(
        client_id=world.server.client_id,
        realm=world.server.realm,
        what="search organizations named 'acme'",
    )


def test_a_service_account_without_roles_is_refused(world):
    client_id, secret = world.service_client(["view-users"])
    gw = gateway_as(world, client_id, secret)
    user = world.user(f"ro.{world.tag}@example.test", password=True)

    assert gw.find_user_by_email(user.email).id == user.id  # view-users suffices to read users
    with pytest.raises(SupportError) as exc:
        gw.delete_credential(user.id, gw.password_credentials(user.id)[0].id)
    assert exc.value.message == KEYCLOAK_FORBIDDEN.format(
        what="delete the user's password", client_id=client_id
    )
    with pytest.raises(SupportError) as exc:
        gw.get_organization(NO_SUCH_ORG)
    assert exc.value.message == KEYCLOAK_FORBIDDEN.format(
        what=f"read the organization {NO_SUCH_ORG}", client_id=client_id
    )
    assert world.credential_types(user) == ["password"]


# -- the real Keycloak only ----------------------------------------------------------------------


@pytest.mark.keycloak
def test_the_setup_grants_exactly_the_documented_roles(kc_admin, keycloak_server):
    client_uuid = kc_admin.get_client_id(keycloak_server.client_id)
    account = kc_admin.get_client_service_account_user(client_uuid)
    management = kc_admin.get_client_id("realm-management")

    roles = {r["name"] for r in kc_admin.get_client_roles_of_user(account["id"], management)}

    assert roles == {"view-users", "manage-users", "manage-realm"}


# -- without any Keycloak ----------------------------------------------------------------------


def test_not_configured(settings):
    settings.KEYCLOAK_SERVER_URL = None

    assert keycloak.is_configured() is False
    with pytest.raises(SupportError) as exc:
        keycloak.gateway()
    assert exc.value.message == KEYCLOAK_NOT_CONFIGURED
    assert exc.value.kind == ErrorKind.UNAVAILABLE


def local_gateway(url: str, timeout: float = 2) -> KeycloakGateway:
    return KeycloakGateway(
        server_url=url, realm="r", client_id="c", client_secret="s", timeout=timeout
    )


def test_unreachable_is_a_domain_error(closed_port):
    gw = local_gateway(f"http://127.0.0.1:{closed_port}")

    with pytest.raises(SupportError) as exc:
        gw.find_user_by_email("ann@acme.test")

    assert exc.value.kind == ErrorKind.UNAVAILABLE
    assert exc.value.message == (
        f"Keycloak at http://127.0.0.1:{closed_port} did not answer when asked to look up the "
        "user ann@acme.test (connection refused or host unreachable)."
    )


def test_a_silent_server_times_out():
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        gw = local_gateway(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(SupportError) as exc:
            gw.get_organization(NO_SUCH_ORG)
        elapsed = time.monotonic() - started
    assert "no answer within 0.5 s" in exc.value.message
    assert elapsed < 0.5 * 2


# -- the fake's faults ---------------------------------------------------------------------------

TIMEOUT = 0.5
TRICKLE_EVERY = 0.1  # well under TIMEOUT: no single read ever times out


def fake_gateway(fake, timeout: float = TIMEOUT) -> KeycloakGateway:
    return KeycloakGateway(
        server_url=fake.url,
        realm=fake.realm,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        timeout=timeout,
    )


@pytest.fixture
def seeded(fake):
    """A user with a password and a session, a member of an organization with an identity
    provider, and another organization to add them to."""
    user_id = fake.add_user("ann", "ann@acme.test", password=True)
    fake.open_session(user_id)
    org_id = fake.add_org("Acme University", "acme", "acme.test")
    fake.add_org_idp(org_id, "acme-idp")
    fake.add_member(org_id, user_id)
    other_id = fake.add_org("Beta College", "beta", "beta.test")
    return SimpleNamespace(
        user_id=user_id,
        email="ann@acme.test",
        password_id=fake.users[user_id].credentials[0]["id"],
        org_id=org_id,
        other_id=other_id,
    )


# name: (the call, what its sentences say it was asked to do, the status of a write's success)
CALLS = {
    "find_user_by_email": (
        lambda gw, s: gw.find_user_by_email(s.email),
        "look up the user ann@acme.test",
        None,
    ),
    "credentials": (lambda gw, s: gw.credentials(s.user_id), "read the user's credentials", None),
    "password_credentials": (
        lambda gw, s: gw.password_credentials(s.user_id),
        "read the user's credentials",
        None,
    ),
    "user_organizations": (
        lambda gw, s: gw.user_organizations(s.user_id),
        "list the user's organizations",
        None,
    ),
    "get_organization": (
        lambda gw, s: gw.get_organization(s.org_id),
        "read the organization {org_id}",
        None,
    ),
    "organization_identity_providers": (
        lambda gw, s: gw.organization_identity_providers(s.org_id),
        "list the organization's identity providers",
        None,
    ),
    "find_organizations": (
        lambda gw, s: gw.find_organizations("Acme University", "acme"),
        "search organizations named 'Acme University' or 'acme'",
        None,
    ),
    "organization_members": (
        lambda gw, s: list(gw.organization_members(s.org_id)),
        "list the organization's members",
        None,
    ),
    "session_count": (lambda gw, s: gw.session_count(s.user_id), "list the user's sessions", None),
    "delete_credential": (
        lambda gw, s: gw.delete_credential(s.user_id, s.password_id),
        "delete the user's password",
        204,
    ),
    "add_member": (
        lambda gw, s: gw.add_member(s.other_id, s.user_id),
        "add the user to the organization",
        201,
    ),
    "end_sessions": (lambda gw, s: gw.end_sessions(s.user_id), "end the user's sessions", 204),
}
FAULTS = [
    Fault.DOWN,
    Fault.HUNG,
    Fault.TRICKLE,
    Fault.TRICKLE_BODY,
    Fault.HTTP_500,
    Fault.HTML_200,
    Fault.WRONG_SHAPE,
]


def expected_message(fake, mode: Fault, what: str, success: int | None, on: str) -> str:
    """The sentence, or for a wrong shape the sentence up to its `why`."""
    if mode == Fault.DOWN:
        return KEYCLOAK_UNREACHABLE.format(url=fake.url, what=what, why=WHY_REFUSED)
    if mode in (Fault.HUNG, Fault.TRICKLE, Fault.TRICKLE_BODY):
        why = WHY_DEADLINE.format(timeout=TIMEOUT)
        return KEYCLOAK_UNREACHABLE.format(url=fake.url, what=what, why=why)
    if mode == Fault.HTTP_500:
        return KEYCLOAK_FAILED.format(status=500, what=what)
    if mode == Fault.HTML_200:
        why = (
            WHY_UNEXPECTED_STATUS.format(status=200, expected=f"HTTP {success}")
            if success and on == "admin"
            else WHY_NOT_JSON.format(content_type="text/html;charset=utf-8")
        )
        return KEYCLOAK_MALFORMED.format(url=fake.url, what=what, why=why)
    return KEYCLOAK_MALFORMED.format(url=fake.url, what=what, why="").removesuffix("().")


def run_faulty(fake, seeded, caplog, name: str, mode: Fault, on: str, **fault) -> SupportError:
    call, what, success = CALLS[name]
    what = what.format(org_id=seeded.org_id)
    gw = fake_gateway(fake)
    if on == "admin":
        gw.find_user_by_email(seeded.email)  # the token is in hand: the fault hits the call
    fake.requests.clear()
    fake.fault(mode, on=on, **fault)

    started = time.monotonic()
    with pytest.raises(SupportError) as exc:
        call(gw, seeded)
    elapsed = time.monotonic() - started

    assert exc.value.kind == ErrorKind.UNAVAILABLE
    expected = expected_message(fake, mode, what, success, on)
    if mode in (Fault.WRONG_SHAPE, Fault.MISSING_ID, Fault.WRONG_TYPES):  # `why` says how
        assert exc.value.message.startswith(expected) and exc.value.message.endswith(").")
    else:
        assert exc.value.message == expected
    assert elapsed < TIMEOUT * 2, f"{elapsed:.2f} s"
    # one request, no retry, nothing printed (urllib3 logs a warning when it retries)
    asked = 0 if mode == Fault.DOWN else 1
    assert (len(fake.seen("token")), len(fake.seen("admin"))) == (
        (asked, 0) if on == "token" else (0, asked)
    )
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    return exc.value


@pytest.mark.parametrize("mode", FAULTS)
@pytest.mark.parametrize("name", CALLS)
def test_every_call_survives_every_fault_of_the_admin_api(fake, seeded, caplog, name, mode):
    run_faulty(fake, seeded, caplog, name, mode, "admin", interval=TRICKLE_EVERY)


@pytest.mark.parametrize("mode", FAULTS)
@pytest.mark.parametrize("name", ["find_user_by_email", "add_member"])
def test_a_faulty_token_endpoint_fails_the_call(fake, seeded, caplog, name, mode):
    run_faulty(fake, seeded, caplog, name, mode, "token", interval=TRICKLE_EVERY)


@pytest.mark.parametrize("mode", [Fault.MISSING_ID, Fault.WRONG_TYPES])
@pytest.mark.parametrize(
    "name",
    [
        "find_user_by_email",
        "credentials",
        "user_organizations",
        "get_organization",
        "organization_identity_providers",
        "find_organizations",
        "organization_members",
    ],
)
def test_answers_missing_an_id_or_of_the_wrong_types_are_refused(fake, seeded, caplog, name, mode):
    error = run_faulty(fake, seeded, caplog, name, mode, "admin")
    assert "gave an answer that is not what it should be" in error.message


@pytest.mark.parametrize("mode", [Fault.MISSING_ID, Fault.WRONG_TYPES])
def test_a_token_answer_without_a_usable_token_is_refused(fake, seeded, caplog, mode):
    run_faulty(fake, seeded, caplog, "find_user_by_email", mode, "token")


def test_a_trickle_of_one_byte_every_half_second_ends_at_the_deadline(fake, seeded):
    """The probe's case: a 2 s timeout against a reply trickling one byte every 0.5 s."""
    gw = fake_gateway(fake, timeout=2)
    fake.fault(Fault.TRICKLE, interval=0.5)

    started = time.monotonic()
    with pytest.raises(SupportError) as exc:
        gw.find_user_by_email(seeded.email)
    elapsed = time.monotonic() - started

    assert "no answer within 2 s" in exc.value.message
    assert elapsed < 2 + 0.5, f"{elapsed:.2f} s"
    assert len(fake.seen("token")) == 1  # not retried


def test_a_proxy_404_page_is_not_a_missing_organization(fake, seeded, caplog):
    gw = fake_gateway(fake)
    gw.find_user_by_email(seeded.email)
    fake.fault(Fault.HTML_404, on="admin")

    with pytest.raises(SupportError) as exc:
        gw.get_organization(seeded.org_id)

    assert exc.value.message == KEYCLOAK_MALFORMED.format(
        url=fake.url,
        what=f"read the organization {seeded.org_id}",
        why=WHY_NOT_KEYCLOAK_404.format(content_type="text/html;charset=utf-8"),
    )


def test_a_listing_that_ignores_paging_is_refused(fake, seeded, monkeypatch):
    monkeypatch.setattr(keycloak, "ORG_PAGE_SIZE", 1)
    gw = fake_gateway(fake)
    fake.fault(Fault.IGNORE_FIRST)

    with pytest.raises(SupportError) as exc:
        gw.find_organizations("Zeta")

    assert exc.value.message == KEYCLOAK_MALFORMED.format(
        url=fake.url, what="search organizations named 'Zeta'", why=WHY_REPEATED_PAGE
    )
    assert len(fake.seen("admin")) == 2


def test_a_member_listing_that_ignores_paging_is_refused(fake, seeded, monkeypatch):
    monkeypatch.setattr(keycloak, "MEMBER_PAGE_SIZE", 1)
    fake.add_member(seeded.org_id, fake.add_user("bob", "bob@acme.test"))
    gw = fake_gateway(fake)
    fake.fault(Fault.IGNORE_FIRST)

    with pytest.raises(SupportError) as exc:
        list(gw.organization_members(seeded.org_id))

    assert exc.value.message == KEYCLOAK_MALFORMED.format(
        url=fake.url, what="list the organization's members", why=WHY_REPEATED_MEMBERS
    )
    assert len(fake.seen("admin")) == 2


def test_the_token_is_reused_then_renewed_and_a_refused_one_is_not_retried(fake, seeded):
    gw = fake_gateway(fake)

    gw.find_user_by_email(seeded.email)
    gw.session_count(seeded.user_id)
    assert len(fake.seen("token")) == 1
    gw._token_renew_at = 0  # as when the token's lifetime has run out
    gw.session_count(seeded.user_id)
    assert len(fake.seen("token")) == 2

    fake.revoke_tokens()  # Keycloak restarted, say: the token in hand is refused
    fake.requests.clear()
    with pytest.raises(SupportError) as exc:
        gw.session_count(seeded.user_id)
    assert exc.value.message == KEYCLOAK_BAD_CREDENTIALS.format(
        client_id=fake.client_id, realm=fake.realm, what="list the user's sessions"
    )
    assert (len(fake.seen("token")), len(fake.seen("admin"))) == (0, 1)
