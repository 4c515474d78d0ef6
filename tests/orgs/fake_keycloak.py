"""A Keycloak stand-in on loopback, for the endpoints orgs/keycloak.py uses, that can misbehave.

It answers like Keycloak 26.4 (statuses, bodies and error bodies measured against the real
server) for the service account's token, users, credentials, sessions, organizations, their
identity providers and members, with the realm-management roles each endpoint needs. The
contract tests in test_keycloak_gateway.py run against it and against the real server, which is
what keeps it faithful.

`fault(mode, on=...)` makes it misbehave: see `Fault`. `requests` records what it was asked.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.orgs.keycloak_fixtures import KcOrg, KcUser

REALM = "support-tools"
CLIENT_ID = "support-tools"
ROLES = ("view-users", "manage-users", "manage-realm")
JSON_OK = "application/json;charset=UTF-8"  # what Keycloak labels its 200s with
JSON_ERROR = "application/json"
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
    b"<body><form action='/login'>Our single sign-on is down for maintenance.</form></body></html>"
)


class Fault(StrEnum):
    DOWN = "down"  # nothing listens: connection refused
    HUNG = "hung"  # reads the request, never answers
    TRICKLE = "trickle"  # the whole reply, status line included, one byte every `interval`
    TRICKLE_BODY = "trickle_body"  # the headers at once, then the body one byte at a time
    HTTP_500 = "http_500"
    HTML_200 = "html_200"  # a proxy's login or maintenance page
    HTML_404 = "html_404"  # a proxy's "not found" page: not Keycloak saying "no such thing"
    WRONG_SHAPE = "wrong_shape"  # an object where a list belongs and the reverse; 200 + JSON
    # instead of an empty 201/204
    MISSING_ID = "missing_id"  # objects without their "id" (and the token without access_token)
    WRONG_TYPES = "wrong_types"  # text becomes a number, true/false becomes text
    IGNORE_FIRST = "ignore_first"  # paging: every page is the first one


@dataclass
class _User:
    id: str
    username: str
    email: str
    enabled: bool = True
    credentials: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Org:
    id: str
    name: str
    alias: str
    domains: list[str]
    idps: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]


class FakeKeycloak:
    """Start with `start()`, end with `stop()`; `url`, `realm`, `client_id`, `client_secret`."""

    def __init__(self, *, realm: str = REALM) -> None:
        self.realm = realm
        self.client_id = CLIENT_ID
        self.client_secret = secrets.token_urlsafe(16)
        self.token_lifetime = 300
        self.clients: dict[str, tuple[str, frozenset[str]]] = {
            self.client_id: (self.client_secret, frozenset(ROLES))
        }
        self.users: dict[str, _User] = {}
        self.orgs: dict[str, _Org] = {}
        self.tokens: dict[str, str] = {}  # token -> client id
        self.requests: list[Seen] = []
        self.fault_mode: Fault | None = None
        self.fault_on = "any"
        self.interval = 0.5
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- life ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeKeycloak:
        fake = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self):  # noqa: ANN202 - keep every connection, to cut them
                sock, address = super().get_request()
                with fake._lock:
                    fake._connections.add(sock)
                return sock, address

            def shutdown_request(self, request):  # noqa: ANN001
                with fake._lock:
                    fake._connections.discard(request)
                super().shutdown_request(request)

        self._server = Server(("127.0.0.1", self.port), _handler(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._go_down()

    def _go_down(self) -> None:
        """Stop listening and cut every open connection: a pooled one would still be served."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for sock in list(self._connections):
                with contextlib.suppress(OSError):  # already gone
                    sock.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def fault(self, mode: Fault | None, *, on: str = "any", interval: float = 0.5) -> None:
        """Misbehave from now on: `on` is "token", "admin" or "any" (DOWN is always "any")."""
        assert on in ("token", "admin", "any")
        self.fault_mode, self.fault_on, self.interval = mode, on, interval
        if mode == Fault.DOWN:
            self._go_down()

    def seen(self, kind: str) -> list[Seen]:
        """The requests received on the token endpoint ("token") or the admin API ("admin")."""
        return [r for r in self.requests if _kind_of(r.path) == kind]

    # -- data ------------------------------------------------------------------------------

    def add_client(self, roles: list[str]) -> tuple[str, str]:
        client_id, secret = f"client-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
        self.clients[client_id] = (secret, frozenset(roles))
        return client_id, secret

    def add_user(self, username: str, email: str, *, password: bool = False) -> str:
        user = _User(str(uuid.uuid4()), username, email.strip().lower())
        if password:
            user.credentials.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "password",
                    "createdDate": _now_ms(),
                    "credentialData": '{"hashIterations":5,"algorithm":"argon2"}',
                }
            )
        self.users[user.id] = user
        return user.id

    def add_org(self, name: str, alias: str, domain: str) -> str:
        org = _Org(str(uuid.uuid4()), name, alias, [domain])
        self.orgs[org.id] = org
        return org.id

    def add_org_idp(self, org_id: str, alias: str) -> None:
        self.orgs[org_id].idps.append(alias)

    def add_member(self, org_id: str, user_id: str) -> None:
        self.orgs[org_id].members.append(user_id)

    def open_session(self, user_id: str) -> None:
        user = self.users[user_id]
        now = _now_ms()
        user.sessions.append(
            {
                "id": str(uuid.uuid4()),
                "username": user.username,
                "userId": user.id,
                "ipAddress": "127.0.0.1",
                "start": now,
                "lastAccess": now,
                "rememberMe": False,
                "clients": {},
                "transientUser": False,
            }
        )

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    # -- answering -------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes, bearer: str
    ) -> tuple[int, Any]:
        """(status, JSON-able body or None) as Keycloak gives them."""
        if m := re.fullmatch(r"/realms/([^/]+)/protocol/openid-connect/token", path):
            return self._token(unquote(m[1]), parse_qs(body.decode()))
        m = re.fullmatch(r"/admin/realms/([^/]+)(/.*)", path)
        if not m or unquote(m[1]) != self.realm:
            return 404, {"error": "HTTP 404 Not Found"}
        rest = m[2]
        for pattern, verb, handler, roles in self._routes():
            if verb == method and (found := re.fullmatch(pattern, rest)):
                return self._admin(bearer, handler, roles, found, query, body)
        return 404, {"error": "HTTP 404 Not Found"}

    def _routes(self):
        view = ("view-users", "manage-users")
        return [
            (r"/users", "GET", self._users, view),
            (r"/users/([^/]+)/credentials", "GET", self._credentials, view),
            (r"/users/([^/]+)/credentials/([^/]+)", "DELETE", self._delete_credential, None),
            (r"/users/([^/]+)/sessions", "GET", self._sessions, view),
            (r"/users/([^/]+)/logout", "POST", self._logout, None),
            (r"/organizations", "GET", self._organizations, ("manage-realm",)),
            (
                r"/organizations/members/([^/]+)/organizations",
                "GET",
                self._user_organizations,
                ("view-users", "manage-realm"),
            ),
            (r"/organizations/([^/]+)", "GET", self._organization, ("manage-realm",)),
            (
                r"/organizations/([^/]+)/identity-providers",
                "GET",
                self._organization_idps,
                ("manage-realm",),
            ),
            (r"/organizations/([^/]+)/members", "POST", self._add_member, ("manage-realm",)),
            (r"/organizations/([^/]+)/members", "GET", self._members, ("manage-realm",)),
        ]

    def _admin(self, bearer, handler, roles, found, query, body):
        client = self.tokens.get(bearer)
        if client is None:
            return 401, {"error": "HTTP 401 Unauthorized"}
        held = self.clients[client][1]
        needed = roles if roles is not None else ("manage-users",)
        if not held & set(needed):
            return 403, {"error": "HTTP 403 Forbidden"}
        return handler(*[unquote(g) for g in found.groups()], query=query, body=body)

    def _token(self, realm: str, form: dict[str, list[str]]):
        if realm != self.realm:
            return 404, {"error": "Realm does not exist"}
        client_id = (form.get("client_id") or [""])[0]
        secret = (form.get("client_secret") or [""])[0]
        if (form.get("grant_type") or [""])[0] != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if client_id not in self.clients or self.clients[client_id][0] != secret:
            return 401, {
                "error": "unauthorized_client",
                "error_description": "Invalid client or Invalid client credentials",
            }
        token = secrets.token_urlsafe(32)
        self.tokens[token] = client_id
        return 200, {
            "access_token": token,
            "expires_in": self.token_lifetime,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "email profile",
        }

    def _users(self, *, query, body):
        email = (query.get("email") or [""])[0].strip().lower()
        exact = (query.get("exact") or ["false"])[0] == "true"
        first = int((query.get("first") or ["0"])[0])
        count = int((query.get("max") or ["100"])[0])
        found = [
            u
            for u in sorted(self.users.values(), key=lambda u: u.username)
            if not email or (u.email == email if exact else email in u.email)
        ]
        return 200, [_user_rep(u) for u in found[first : first + count]]

    def _user(self, user_id: str) -> _User | None:
        return self.users.get(user_id)

    def _credentials(self, user_id, *, query, body):
        if (user := self._user(user_id)) is None:
            return 404, {"error": "User not found"}
        return 200, list(user.credentials)

    def _delete_credential(self, user_id, credential_id, *, query, body):
        if (user := self._user(user_id)) is None:
            return 404, {"error": "User not found"}
        kept = [c for c in user.credentials if c["id"] != credential_id]
        if len(kept) == len(user.credentials):
            return 404, {"error": "Credential not found"}
        user.credentials = kept
        return 204, None

    def _sessions(self, user_id, *, query, body):
        if (user := self._user(user_id)) is None:
            return 404, {"error": "User not found"}
        return 200, list(user.sessions)

    def _logout(self, user_id, *, query, body):
        if (user := self._user(user_id)) is None:
            return 404, {"error": "User not found"}
        user.sessions = []
        return 204, None

    def _organizations(self, *, query, body):
        search = (query.get("search") or [""])[0]
        exact = (query.get("exact") or ["false"])[0] == "true"
        first = int((query.get("first") or ["0"])[0])
        count = int((query.get("max") or ["10"])[0])
        if self.fault_mode == Fault.IGNORE_FIRST:
            first = 0
        orgs = sorted(self.orgs.values(), key=lambda o: o.name)  # Keycloak: by name, binary
        if search:
            orgs = [
                o
                for o in orgs
                if (o.name == search)
                or (
                    not exact
                    and (
                        search.lower() in o.name.lower()
                        or any(search.lower() in d for d in o.domains)
                    )
                )
            ]
        return 200, [_org_rep(o) for o in orgs[first : first + count]]

    def _organization(self, org_id, *, query, body):
        if (org := self.orgs.get(org_id)) is None:
            return 404, {"errorMessage": "Organization not found."}
        return 200, {**_org_rep(org), "attributes": {}}

    def _organization_idps(self, org_id, *, query, body):
        if (org := self.orgs.get(org_id)) is None:
            return 404, {"errorMessage": "Organization not found."}
        return 200, [_idp_rep(alias, org.id) for alias in org.idps]

    def _user_organizations(self, user_id, *, query, body):
        if self._user(user_id) is None:
            return 404, {"error": "HTTP 404 Not Found"}
        return 200, [_org_rep(o) for o in self.orgs.values() if user_id in o.members]

    def _members(self, org_id, *, query, body):
        if (org := self.orgs.get(org_id)) is None:
            return 404, {"errorMessage": "Organization not found."}
        first = int((query.get("first") or ["0"])[0])
        count = int((query.get("max") or ["10"])[0])
        if self.fault_mode == Fault.IGNORE_FIRST:
            first = 0
        # Keycloak lists members by username
        members = sorted((self.users[i] for i in org.members), key=lambda u: u.username)
        return 200, [
            {**_user_rep(u), "membershipType": "UNMANAGED"} for u in members[first : first + count]
        ]

    def _add_member(self, org_id, *, query, body):
        if (org := self.orgs.get(org_id)) is None:
            return 404, {"errorMessage": "Organization not found."}
        user_id = body.decode().strip().strip('"')  # Keycloak takes the id raw or as JSON text
        if user_id not in self.users:
            return 400, {"errorMessage": "User does not exist"}
        if user_id in org.members:
            return 409, {"errorMessage": "User is already a member of the organization."}
        org.members.append(user_id)
        return 201, None


def _handler(fake: FakeKeycloak) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Keycloak: the gateway pools connections

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet: tests read `fake.requests`

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            auth = self.headers.get("Authorization") or ""
            with fake._lock:
                fake.requests.append(Seen(method, parts.path, parse_qs(parts.query)))
                bearer = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
                status, payload = fake.answer(
                    method, parts.path, parse_qs(parts.query), body, bearer
                )
                mode = fake.fault_mode if fake.fault_on in ("any", _kind_of(parts.path)) else None
            self._reply(mode, status, payload)

        def _reply(self, mode: Fault | None, status: int, payload: Any) -> None:
            content_type = JSON_OK if status < 300 else JSON_ERROR
            if mode == Fault.HUNG:
                fake._stopping.wait()
                self.close_connection = True
                return
            if mode == Fault.HTTP_500:
                status, payload = 500, {"error": "unknown_error"}
            elif mode in (Fault.HTML_200, Fault.HTML_404):
                status = 200 if mode == Fault.HTML_200 else 404
                payload, content_type = HTML_PAGE, "text/html;charset=utf-8"
            elif mode in (Fault.WRONG_SHAPE, Fault.MISSING_ID, Fault.WRONG_TYPES) and status < 300:
                status, payload = _spoil(mode, status, payload)
            data = (
                payload
                if isinstance(payload, bytes)
                else b""
                if payload is None
                else json.dumps(payload).encode()
            )
            if mode == Fault.TRICKLE_BODY and not data:
                # a write's empty answer has nothing to trickle, and a 204 cannot have a body
                status, data = (200 if status == 204 else status), b" " * 64
            head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
            if data:
                head.append(f"Content-Type: {content_type}")
            head.append(f"Content-Length: {len(data)}")
            raw = ("\r\n".join(head) + "\r\n\r\n").encode()
            try:
                if mode == Fault.TRICKLE:
                    self._trickle(raw + data)
                elif mode == Fault.TRICKLE_BODY:
                    self.wfile.write(raw)
                    self._trickle(data)
                else:
                    self.wfile.write(raw + data)
            except OSError:
                self.close_connection = True  # the gateway gave up and cut the connection

        def _trickle(self, data: bytes) -> None:
            for i in range(len(data)):
                if fake._stopping.wait(fake.interval):
                    break
                self.wfile.write(data[i : i + 1])
            self.close_connection = True

    return Handler


def _spoil(mode: Fault, status: int, payload: Any) -> tuple[int, Any]:
    if mode == Fault.WRONG_SHAPE:
        if payload is None:  # a write: "200, here is some JSON" is not "201/204, done"
            return 200, {"result": "ok"}
        return status, [payload] if isinstance(payload, dict) else {"items": payload}
    if payload is None:
        return status, payload
    return status, _mutate(mode, payload)


def _mutate(mode: Fault, value: Any) -> Any:
    if isinstance(value, list):
        return [_mutate(mode, v) for v in value]
    if isinstance(value, dict):
        if mode == Fault.MISSING_ID:
            return {
                k: _mutate(mode, v)
                for k, v in value.items()
                if k not in ("id", "access_token", "alias")
            }
        return {k: _mutate(mode, v) for k, v in value.items()}
    if mode == Fault.WRONG_TYPES:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str):
            return 42
    return value


def _kind_of(path: str) -> str:
    return "token" if path.endswith("/protocol/openid-connect/token") else "admin"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _user_rep(user: _User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "firstName": "Test",
        "lastName": "Learner",
        "email": user.email,
        "emailVerified": True,
        "enabled": user.enabled,
        "createdTimestamp": _now_ms(),
        "totp": False,
        "disableableCredentialTypes": [],
        "requiredActions": [],
        "notBefore": 0,
        "access": {"manage": True},
    }


def _org_rep(org: _Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "alias": org.alias,
        "enabled": True,
        "domains": [{"name": d, "verified": False} for d in org.domains],
    }


def _idp_rep(alias: str, org_id: str) -> dict[str, Any]:
    return {
        "alias": alias,
        "internalId": str(uuid.uuid4()),
        "providerId": "oidc",
        "enabled": True,
        "updateProfileFirstLoginMode": "on",
        "trustEmail": False,
        "storeToken": False,
        "addReadTokenRoleOnCreate": False,
        "authenticateByDefault": False,
        "linkOnly": False,
        "hideOnLogin": False,
        "organizationId": org_id,
        "config": {"syncMode": "LEGACY", "clientId": "upstream", "clientSecret": "**********"},
    }


class FakeWorld:
    """The fake's twin of keycloak_fixtures.KeycloakWorld: the same set-up and read-back calls,
    so that one contract test runs against either."""

    def __init__(self, fake: FakeKeycloak) -> None:
        self.fake = fake
        self.server = fake  # url, realm, client_id, client_secret, as KeycloakServer
        self.tag = uuid.uuid4().hex[:10]
        self._n = 0

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
        org_id = self.fake.add_org(name, alias, domain)
        idp_alias = None
        if idp:
            idp_alias = self._next("idp")
            self.fake.add_org_idp(org_id, idp_alias)
        return KcOrg(org_id, name, alias, domain, idp_alias)

    def user(self, email: str, *, password: bool = False) -> KcUser:
        username = self._next("user")
        user_id = self.fake.add_user(username, email, password=password)
        return KcUser(user_id, username, email, secrets.token_urlsafe(12) if password else None)

    def add_member(self, org: KcOrg, user: KcUser) -> None:
        self.fake.add_member(org.id, user.id)

    def sign_in(self, user: KcUser) -> None:
        self.fake.open_session(user.id)

    def service_client(self, roles: list[str]) -> tuple[str, str]:
        return self.fake.add_client(roles)

    def credential_types(self, user: KcUser) -> list[str]:
        return sorted(c["type"] for c in self.fake.users[user.id].credentials)

    def organization_ids_of(self, user: KcUser) -> set[str]:
        return {o.id for o in self.fake.orgs.values() if user.id in o.members}

    def session_count(self, user: KcUser) -> int:
        return len(self.fake.users[user.id].sessions)

    def cleanup(self) -> None:
        pass  # the fake lives as long as one test
