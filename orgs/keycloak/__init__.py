"""The Keycloak gateway: the only module that talks to Keycloak.

It signs in as the service account of a confidential client (client-credentials grant) from the
settings KEYCLOAK_SERVER_URL, KEYCLOAK_REALM, KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET, and
calls the admin REST API with requests. Keycloak is distrusted:

- every gateway call (one method call: its token request and every page it reads) finishes or
  fails within KEYCLOAK_TIMEOUT_SECONDS, connecting and reading the whole answer included;
- nothing is retried behind the caller's back;
- an answer that is not what Keycloak gives (not JSON, the wrong shape, an unexpected status)
  is refused like a Keycloak that is down.

Every failure becomes `SupportError(kind=UNAVAILABLE)` with a sentence a support person can act
on. The service account's realm-management roles are listed in orgs/README-keycloak.md.

python-keycloak is not used here: it retries the token request and, after a 401, every admin
call, raises TypeError on a non-JSON answer, and offers no deadline on reading an answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from orgs.keycloak.answers import (
    Credential,
    KeycloakOrganization,
    KeycloakUser,
    MalformedAnswer,
    _flag,
    _list,
    _object,
    _seg,
    _text,
)
from orgs.keycloak.messages import (  # noqa: F401 - the gateway's sentences, public
    KEYCLOAK_BAD_CREDENTIALS,
    KEYCLOAK_FAILED,
    KEYCLOAK_FORBIDDEN,
    KEYCLOAK_MALFORMED,
    KEYCLOAK_NOT_CONFIGURED,
    KEYCLOAK_UNREACHABLE,
    WHY_BAD_URL,
    WHY_BROKEN,
    WHY_DEADLINE,
    WHY_NOT_JSON,
    WHY_NOT_KEYCLOAK_404,
    WHY_REFUSED,
    WHY_REPEATED_MEMBERS,
    WHY_REPEATED_PAGE,
    WHY_TLS,
    WHY_TOO_BIG,
    WHY_UNEXPECTED_STATUS,
    WHY_WRONG_TYPE,
)
from orgs.keycloak.transport import (
    MAX_ANSWER_BYTES,  # noqa: F401
    _Call,
    _session,
)
from support_tools.errors import ErrorKind, SupportError

PASSWORD = "password"
ORG_PAGE_SIZE = 100
ORG_SCAN_LIMIT = ORG_PAGE_SIZE  # the old name; the scan now pages through every organization
MEMBER_PAGE_SIZE = 100


def is_configured() -> bool:
    return all(
        getattr(settings, name, None)
        for name in (
            "KEYCLOAK_SERVER_URL",
            "KEYCLOAK_REALM",
            "KEYCLOAK_CLIENT_ID",
            "KEYCLOAK_CLIENT_SECRET",
        )
    )


def gateway() -> KeycloakGateway:
    """The gateway of the configured realm; SupportError(UNAVAILABLE) when not configured."""
    if not is_configured():
        raise SupportError(KEYCLOAK_NOT_CONFIGURED, kind=ErrorKind.UNAVAILABLE)
    return KeycloakGateway(
        server_url=settings.KEYCLOAK_SERVER_URL,
        realm=settings.KEYCLOAK_REALM,
        client_id=settings.KEYCLOAK_CLIENT_ID,
        client_secret=settings.KEYCLOAK_CLIENT_SECRET,
        timeout=settings.KEYCLOAK_TIMEOUT_SECONDS,
    )


def _user(data: Any) -> KeycloakUser:
    user = _object(data, "a user")
    return KeycloakUser(
        id=_text(user, "id", "a user", required=True),
        username=_text(user, "username", "a user"),
        email=_text(user, "email", "a user"),
        enabled=_flag(user, "enabled", "a user"),
    )


class KeycloakGateway:
    """One service-account session; build one per support action with `gateway()`.

    Not thread-safe: one gateway serves one support action at a time."""

    def __init__(
        self, *, server_url: str, realm: str, client_id: str, client_secret: str, timeout: float
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.realm = realm
        self.client_id = client_id
        self.timeout = float(timeout)
        self._client_secret = client_secret
        self._session = _session()
        self._token: str | None = None
        self._token_renew_at = 0.0

    # -- reads -------------------------------------------------------------------------------

    def find_user_by_email(self, email: str) -> KeycloakUser | None:
        wanted = email.strip().lower()
        with self._call(f"look up the user {wanted}") as call:
            users = _list(
                call.get("users", {"email": wanted, "exact": "true", "max": 5}), "the users"
            )
            for data in users:
                user = _object(data, "a user")
                if _text(user, "email", "a user").lower() == wanted:
                    return _user(user)
        return None

    def credentials(self, user_id: str) -> list[Credential]:
        with self._call("read the user's credentials") as call:
            data = _list(call.get(f"users/{_seg(user_id)}/credentials"), "the credentials")
            return [
                Credential(
                    id=_text(c, "id", "a credential", required=True),
                    type=_text(c, "type", "a credential"),
                )
                for c in (_object(item, "a credential") for item in data)
            ]

    def password_credentials(self, user_id: str) -> list[Credential]:
        return [c for c in self.credentials(user_id) if c.type == PASSWORD]

    def user_organizations(self, user_id: str) -> list[KeycloakOrganization]:
        with self._call("list the user's organizations") as call:
            data = call.get(f"organizations/members/{_seg(user_id)}/organizations")
            return [KeycloakOrganization.from_api(o) for o in _list(data, "the organizations")]

    def get_organization(self, organization_id: str) -> KeycloakOrganization | None:
        """None when Keycloak has no organization with this id."""
        with self._call(f"read the organization {organization_id}") as call:
            data = call.get(f"organizations/{_seg(organization_id)}", missing_ok=True)
            return None if data is None else KeycloakOrganization.from_api(data)

    def organization_identity_providers(self, organization_id: str) -> list[str]:
        with self._call("list the organization's identity providers") as call:
            data = call.get(f"organizations/{_seg(organization_id)}/identity-providers")
            return sorted(
                _text(_object(i, "an identity provider"), "alias", "an identity provider", True)
                for i in _list(data, "the identity providers")
            )

    def find_organizations(self, *names: str) -> list[KeycloakOrganization]:
        """Every organization whose name or alias equals one of `names`, case-insensitively.

        Keycloak's search sees names (exact only case-sensitively) and domains but not aliases,
        so the realm's organizations are read page by page, all of them, and compared here."""
        wanted = {n.strip().lower() for n in names if n and n.strip()}
        if not wanted:
            return []
        shown = " or ".join(repr(n) for n in dict.fromkeys(n.strip() for n in names if n))
        found: dict[str, KeycloakOrganization] = {}
        seen: set[str] = set()
        with self._call(f"search organizations named {shown}") as call:
            first = 0
            while True:
                page = _list(
                    call.get(
                        "organizations",
                        {"first": first, "max": ORG_PAGE_SIZE, "briefRepresentation": "false"},
                    ),
                    "the organizations",
                )
                orgs = [KeycloakOrganization.from_api(o) for o in page]
                ids = {o.id for o in orgs}
                # a server that ignores `first` would otherwise keep this loop going
                if len(orgs) > ORG_PAGE_SIZE or (orgs and ids <= seen):
                    raise MalformedAnswer(WHY_REPEATED_PAGE)
                seen |= ids
                found.update(
                    (o.id, o) for o in orgs if o.name.lower() in wanted or o.alias.lower() in wanted
                )
                if len(orgs) < ORG_PAGE_SIZE:
                    break
                first += ORG_PAGE_SIZE
        return sorted(found.values(), key=lambda o: (o.name, o.id))

    def organization_members(self, organization_id: str) -> Iterator[list[KeycloakUser]]:
        """The organization's members, page by page: each page is one gateway call with its own
        deadline, so a large organization is read without one deadline for all of it. The pages
        come lazily; a failure raises where the next page was asked for."""
        first = 0
        seen: set[str] = set()
        while True:
            with self._call("list the organization's members") as call:
                page = _list(
                    call.get(
                        f"organizations/{_seg(organization_id)}/members",
                        {"first": first, "max": MEMBER_PAGE_SIZE},
                    ),
                    "the members",
                )
                members = [_user(item) for item in page]
                ids = {m.id for m in members}
                # a server that ignores `first` would otherwise keep this loop going
                if len(members) > MEMBER_PAGE_SIZE or (members and ids <= seen):
                    raise MalformedAnswer(WHY_REPEATED_MEMBERS)
            seen |= ids
            yield members
            if len(members) < MEMBER_PAGE_SIZE:
                return
            first += MEMBER_PAGE_SIZE

    def session_count(self, user_id: str) -> int:
        with self._call("list the user's sessions") as call:
            sessions = _list(call.get(f"users/{_seg(user_id)}/sessions"), "the sessions")
            for item in sessions:
                _object(item, "a session")
            return len(sessions)

    # -- writes: only the status Keycloak gives on success counts as done ----------------------

    def delete_credential(self, user_id: str, credential_id: str) -> None:
        with self._call("delete the user's password") as call:
            call.send(
                "DELETE", f"users/{_seg(user_id)}/credentials/{_seg(credential_id)}", expect=204
            )

    def add_member(self, organization_id: str, user_id: str) -> None:
        with self._call("add the user to the organization") as call:
            call.send(
                "POST",
                f"organizations/{_seg(organization_id)}/members",
                body=json.dumps(user_id),
                expect=201,
            )

    def end_sessions(self, user_id: str) -> None:
        with self._call("end the user's sessions") as call:
            call.send("POST", f"users/{_seg(user_id)}/logout", expect=204)

    # -- the one place that turns Keycloak's failures into sentences ---------------------------

    @contextmanager
    def _call(self, what: str) -> Iterator[_Call]:
        call = _Call(self, what)
        try:
            yield call
        except MalformedAnswer as exc:
            raise self._error(KEYCLOAK_MALFORMED, what, why=str(exc)) from None
        finally:
            call.watch.stop()

    def _error(self, template: str, what: str, **fields: Any) -> SupportError:
        return SupportError(
            template.format(
                url=self.server_url,
                what=what,
                client_id=self.client_id,
                realm=self.realm,
                **fields,
            ),
            kind=ErrorKind.UNAVAILABLE,
        )

    def _admin_url(self, path: str) -> str:
        return f"{self.server_url}/admin/realms/{_seg(self.realm)}/{path}"

    def _token_url(self) -> str:
        return f"{self.server_url}/realms/{_seg(self.realm)}/protocol/openid-connect/token"
