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

import contextlib
import contextvars
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util.retry import Retry

from support_tools.errors import ErrorKind, SupportError

KEYCLOAK_NOT_CONFIGURED = (
    "Keycloak is not configured here (set KEYCLOAK_SERVER_URL, KEYCLOAK_REALM, "
    "KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET), so its side could not be checked."
)
KEYCLOAK_UNREACHABLE = "Keycloak at {url} did not answer when asked to {what} ({why})."
KEYCLOAK_BAD_CREDENTIALS = (
    "Keycloak refused the credentials of the client {client_id} in the realm {realm} "
    "when asked to {what}: check KEYCLOAK_CLIENT_ID, KEYCLOAK_CLIENT_SECRET and KEYCLOAK_REALM."
)
KEYCLOAK_FORBIDDEN = (
    "Keycloak refused to {what}: the service account of {client_id} lacks a realm-management "
    "role (it needs view-users, manage-users and manage-realm)."
)
KEYCLOAK_FAILED = "Keycloak answered HTTP {status} when asked to {what}."
KEYCLOAK_MALFORMED = (
    "Keycloak at {url} gave an answer that is not what it should be when asked to {what} ({why})."
)

# The `why` of KEYCLOAK_UNREACHABLE.
WHY_DEADLINE = "no answer within {timeout:g} s"
WHY_REFUSED = "connection refused or host unreachable"
WHY_BROKEN = "the connection broke off"
WHY_TLS = "the TLS handshake failed: check its certificate"
WHY_BAD_URL = "KEYCLOAK_SERVER_URL is not a usable URL"
# The `why` of KEYCLOAK_MALFORMED.
WHY_NOT_JSON = "not JSON but {content_type}"
WHY_TOO_BIG = "more than {mb} MB"
WHY_UNEXPECTED_STATUS = "HTTP {status} where {expected} was expected"
WHY_NOT_KEYCLOAK_404 = "HTTP 404 in a body that is not Keycloak's ({content_type})"
WHY_WRONG_TYPE = "{field} is {got} where {expected} was expected"
WHY_REPEATED_PAGE = "the list of organizations repeats itself instead of moving on"

PASSWORD = "password"
ORG_PAGE_SIZE = 100
ORG_SCAN_LIMIT = ORG_PAGE_SIZE  # the old name; the scan now pages through every organization
MAX_ANSWER_BYTES = 16 * 1024 * 1024  # far above any answer the gateway asks for
_WATCH_POLL_SECONDS = 0.05
_TOKEN_LIFETIME_FRACTION = 0.9  # renew a little before Keycloak would refuse the token
_BAD_URL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
)


@dataclass(frozen=True)
class KeycloakUser:
    id: str
    username: str
    email: str
    enabled: bool


@dataclass(frozen=True)
class KeycloakOrganization:
    id: str
    name: str
    alias: str
    domains: tuple[str, ...]
    enabled: bool = True

    @classmethod
    def from_api(cls, data: Any) -> KeycloakOrganization:
        """Raises MalformedAnswer when `data` is not an organization's representation."""
        org = _object(data, "an organization")
        domains = _list(org.get("domains") or [], "an organization's domains")
        return cls(
            id=_text(org, "id", "an organization", required=True),
            name=_text(org, "name", "an organization"),
            alias=_text(org, "alias", "an organization"),
            domains=tuple(
                sorted(
                    _text(_object(d, "a domain"), "name", "a domain", True).lower() for d in domains
                )
            ),
            enabled=_flag(org, "enabled", "an organization"),
        )


@dataclass(frozen=True)
class Credential:
    id: str
    type: str


class MalformedAnswer(ValueError):
    """Keycloak's answer does not have the shape the gateway relies on; `args[0]` says how."""


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
                    return KeycloakUser(
                        id=_text(user, "id", "a user", required=True),
                        username=_text(user, "username", "a user"),
                        email=_text(user, "email", "a user"),
                        enabled=_flag(user, "enabled", "a user"),
                    )
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


class _Call:
    """One gateway call: its deadline, its watchdog and its HTTP exchanges."""

    def __init__(self, gateway: KeycloakGateway, what: str) -> None:
        self.gw = gateway
        self.what = what
        self.deadline = time.monotonic() + gateway.timeout
        self.watch = _Watch(gateway.timeout)

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Any:
        """The JSON of GET `path` under the realm's admin API; None for a 404 when missing_ok."""
        status, content_type, body = self._exchange(
            "GET", self.gw._admin_url(path), params=params, headers=self._auth()
        )
        if status == 404 and missing_ok:
            # a proxy's 404 page is not Keycloak saying "no such organization"
            if not isinstance(_json(body, content_type, strict=False), dict):
                raise MalformedAnswer(WHY_NOT_KEYCLOAK_404.format(content_type=content_type))
            return None
        self._check_status(status, expected=200)
        return _json(body, content_type)

    def send(self, method: str, path: str, *, expect: int, body: str | None = None) -> None:
        headers = self._auth()
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, _, _ = self._exchange(method, self.gw._admin_url(path), data=body, headers=headers)
        self._check_status(status, expected=expect)

    def _check_status(self, status: int, *, expected: int) -> None:
        if status == expected:
            return
        if status == 401:
            raise self.gw._error(KEYCLOAK_BAD_CREDENTIALS, self.what)
        if status == 403:
            raise self.gw._error(KEYCLOAK_FORBIDDEN, self.what)
        if 200 <= status < 300:  # "done" from something that did not do it
            raise MalformedAnswer(
                WHY_UNEXPECTED_STATUS.format(status=status, expected=f"HTTP {expected}")
            )
        raise self.gw._error(KEYCLOAK_FAILED, self.what, status=status)

    def _auth(self) -> dict[str, str]:
        gw = self.gw
        if gw._token is None or time.monotonic() >= gw._token_renew_at:
            gw._token = None
            asked_at = time.monotonic()
            status, content_type, body = self._exchange(
                "POST",
                gw._token_url(),
                data={
                    "grant_type": "client_credentials",
                    "client_id": gw.client_id,
                    "client_secret": gw._client_secret,
                },
            )
            if status in (400, 401):
                raise gw._error(KEYCLOAK_BAD_CREDENTIALS, self.what)
            self._check_status(status, expected=200)
            token = _object(_json(body, content_type), "the token answer")
            lifetime = token.get("expires_in")
            if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
                raise MalformedAnswer(
                    WHY_WRONG_TYPE.format(
                        field="the token's expires_in", got=_kind(lifetime), expected="a number"
                    )
                )
            gw._token = _text(token, "access_token", "the token answer", required=True)
            gw._token_renew_at = asked_at + lifetime * _TOKEN_LIFETIME_FRACTION
        return {"Authorization": f"Bearer {gw._token}", "Accept": "application/json"}

    def _exchange(self, method: str, url: str, **kwargs: Any) -> tuple[int, str, bytes]:
        """(status, content type, whole body), all received before the deadline."""
        gw = self.gw
        left = self.deadline - time.monotonic()
        if left <= 0 or self._expired():
            raise self._unreachable(WHY_DEADLINE.format(timeout=gw.timeout))
        reset = _current_watch.set(self.watch)
        try:
            with gw._session.request(
                method, url, timeout=(left, left), stream=True, allow_redirects=False, **kwargs
            ) as response:
                body = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise MalformedAnswer(WHY_TOO_BIG.format(mb=MAX_ANSWER_BYTES >> 20))
                    if time.monotonic() > self.deadline:
                        break  # the watchdog may not have woken up yet: same outcome
                status = response.status_code
                content_type = response.headers.get("Content-Type") or "no content type"
        except MalformedAnswer:
            raise
        except Exception as exc:  # whatever a cut connection raises in urllib3 or http.client
            # first: once the watchdog has cut the connection, any error is the deadline's
            if self._expired() or isinstance(exc, requests.Timeout):
                raise self._unreachable(WHY_DEADLINE.format(timeout=gw.timeout)) from None
            if isinstance(exc, requests.exceptions.SSLError):
                raise self._unreachable(WHY_TLS) from None
            if isinstance(exc, _BAD_URL_ERRORS):
                raise self._unreachable(WHY_BAD_URL) from None
            if isinstance(exc, requests.ConnectionError) and _refused(exc):
                raise self._unreachable(WHY_REFUSED) from None
            if isinstance(exc, requests.RequestException | OSError | ValueError):
                raise self._unreachable(WHY_BROKEN) from None
            raise
        finally:
            _current_watch.reset(reset)
        # the body may have ended early because the watchdog cut the connection
        if self._expired():
            raise self._unreachable(WHY_DEADLINE.format(timeout=gw.timeout))
        return status, content_type, bytes(body)

    def _expired(self) -> bool:
        # a socket timeout of `left` seconds fires at the deadline, maybe before the watchdog
        return self.watch.expired or time.monotonic() >= self.deadline

    def _unreachable(self, why: str) -> SupportError:
        return self.gw._error(KEYCLOAK_UNREACHABLE, self.what, why=why)


# -- the deadline ------------------------------------------------------------------------------
# Socket timeouts bound each read, not the whole answer: a server sending a byte now and then
# never trips them. So every gateway call has a watchdog thread that, once the deadline passes,
# shuts down the sockets of the connections the call uses; a read or write blocked on them then
# returns at once. The connection pools register each connection they hand out with the watch of
# the call running in this context.

_current_watch: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "keycloak_watch", default=None
)


class _Watch:
    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._at = time.monotonic() + seconds
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="keycloak-deadline", daemon=True)
        self._thread.start()

    def add(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)

    def stop(self) -> None:
        # under the lock: once stop() returns, no socket of a later call is touched
        with self._lock:
            self._stopped = True
        self._done.set()

    def _run(self) -> None:
        if self._done.wait(max(0.0, self._at - time.monotonic())):
            return
        while True:
            with self._lock:
                if self._stopped:
                    return
                self.expired = True
                for connection in self._connections:
                    _shut(getattr(connection, "sock", None))
            # again until stopped: a connection still connecting has no socket to shut yet
            if self._done.wait(_WATCH_POLL_SECONDS):
                return


def _shut(sock: socket.socket | None) -> None:
    if sock is None:
        return
    # the plain socket's shutdown, also for a TLS socket: it leaves the TLS object alone
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _WatchedPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        if (watch := _current_watch.get()) is not None:
            watch.add(connection)
        return connection


class _WatchedTLSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        if (watch := _current_watch.get()) is not None:
            watch.add(connection)
        return connection


class _Adapter(HTTPAdapter):
    """No retries at all (urllib3 would retry a failed connect or read), watched pools."""

    def __init__(self) -> None:
        super().__init__(max_retries=Retry(total=0, redirect=False, raise_on_status=False))

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedTLSPool}

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedTLSPool}
        return manager


def _session() -> requests.Session:
    session = requests.Session()
    # no ~/.netrc credentials in place of the bearer token (proxies from the environment stay)
    session.auth = lambda request: request
    adapter = _Adapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _refused(exc: BaseException) -> bool:
    """True when no connection could be opened (refused, unreachable, unknown host)."""
    seen: list[BaseException] = []
    cause: Any = exc
    while isinstance(cause, BaseException) and cause not in seen:
        if isinstance(cause, NewConnectionError | ConnectionRefusedError):
            return True
        seen.append(cause)
        # urllib3 keeps the cause in `reason`, requests in args[0]
        cause = getattr(cause, "reason", None) or (cause.args[:1] or [None])[0] or cause.__cause__
    return False


# -- reading answers: every shape is checked, nothing is assumed ---------------------------------


def _json(body: bytes, content_type: str, *, strict: bool = True) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        if not strict:
            return None
        raise MalformedAnswer(WHY_NOT_JSON.format(content_type=content_type)) from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "true or false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedAnswer(
            WHY_WRONG_TYPE.format(field=what, got=_kind(value), expected="an object")
        )
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedAnswer(
            WHY_WRONG_TYPE.format(field=what, got=_kind(value), expected="a list")
        )
    return value


def _text(data: dict[str, Any], key: str, what: str, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MalformedAnswer(
            WHY_WRONG_TYPE.format(
                field=f"the {key!r} of {what}",
                got=_kind(value) if value != "" else "empty",
                expected="text",
            )
        )
    return value


def _flag(data: dict[str, Any], key: str, what: str) -> bool:
    value = data.get(key, True)
    if not isinstance(value, bool):
        raise MalformedAnswer(
            WHY_WRONG_TYPE.format(
                field=f"the {key!r} of {what}", got=_kind(value), expected="true or false"
            )
        )
    return value


def _seg(value: str) -> str:
    """One path segment: an id from anywhere never walks elsewhere in the API."""
    return quote(str(value), safe="")
