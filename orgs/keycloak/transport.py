"""One gateway call over HTTP: its deadline (connect and the whole read), its watchdog that
cuts a trickling answer, no retries."""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util.retry import Retry

from orgs.keycloak.answers import MalformedAnswer, _json, _kind, _object, _text
from orgs.keycloak.messages import (
    KEYCLOAK_BAD_CREDENTIALS,
    KEYCLOAK_FAILED,
    KEYCLOAK_FORBIDDEN,
    KEYCLOAK_UNREACHABLE,
    WHY_BAD_URL,
    WHY_BROKEN,
    WHY_DEADLINE,
    WHY_NOT_KEYCLOAK_404,
    WHY_REFUSED,
    WHY_TLS,
    WHY_TOO_BIG,
    WHY_UNEXPECTED_STATUS,
    WHY_WRONG_TYPE,
)
from support_tools.errors import SupportError

if TYPE_CHECKING:
    from orgs.keycloak import KeycloakGateway

MAX_ANSWER_BYTES = 16 * 1024 * 1024  # far above any answer the gateway asks for
_WATCH_POLL_SECONDS = 0.05
_TOKEN_LIFETIME_FRACTION = 0.9  # renew a little before Keycloak would refuse the token
_BAD_URL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
)


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
