"""The Keycloak gateway: the only module that talks to Keycloak.

It signs in as the service account of a confidential client (client-credentials grant) from the
settings KEYCLOAK_SERVER_URL, KEYCLOAK_REALM, KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET, and
gives every call the timeout KEYCLOAK_TIMEOUT_SECONDS. Keycloak being down, slow or refusing
becomes `SupportError(kind=UNAVAILABLE)` with a sentence a support person can act on.
The service account's realm-management roles are listed in orgs/README-keycloak.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from django.conf import settings
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakConnectionError, KeycloakError

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

PASSWORD = "password"
ORG_SCAN_LIMIT = 1000

T = TypeVar("T")


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
    def from_api(cls, data: dict[str, Any]) -> KeycloakOrganization:
        return cls(
            id=data["id"],
            name=data.get("name") or "",
            alias=data.get("alias") or "",
            domains=tuple(sorted(d["name"].lower() for d in data.get("domains") or [])),
            enabled=bool(data.get("enabled", True)),
        )


@dataclass(frozen=True)
class Credential:
    id: str
    type: str


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
    """One service-account session; build one per support action with `gateway()`."""

    def __init__(
        self, *, server_url: str, realm: str, client_id: str, client_secret: str, timeout: float
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.realm = realm
        self.client_id = client_id
        self.timeout = timeout
        connection = KeycloakOpenIDConnection(
            server_url=self.server_url,
            realm_name=realm,
            client_id=client_id,
            client_secret_key=client_secret,
            timeout=timeout,  # type: ignore[arg-type] - a float works: it goes to requests
            max_retries=0,
        )
        self._admin = KeycloakAdmin(connection=connection)

    # -- reads -------------------------------------------------------------------------------

    def find_user_by_email(self, email: str) -> KeycloakUser | None:
        wanted = email.strip().lower()
        users = self._call(
            f"look up the user {wanted}",
            lambda: self._admin.get_users({"email": wanted, "exact": True, "max": 5}),
        )
        for data in users:
            if (data.get("email") or "").lower() == wanted:
                return KeycloakUser(
                    id=data["id"],
                    username=data.get("username") or "",
                    email=data.get("email") or "",
                    enabled=bool(data.get("enabled", True)),
                )
        return None

    def credentials(self, user_id: str) -> list[Credential]:
        data = self._call(
            "read the user's credentials", lambda: self._admin.get_credentials(user_id)
        )
        return [Credential(id=c["id"], type=c.get("type") or "") for c in data]

    def password_credentials(self, user_id: str) -> list[Credential]:
        return [c for c in self.credentials(user_id) if c.type == PASSWORD]

    def user_organizations(self, user_id: str) -> list[KeycloakOrganization]:
        data = self._call(
            "list the user's organizations", lambda: self._admin.get_user_organizations(user_id)
        )
        return [KeycloakOrganization.from_api(o) for o in data]

    def get_organization(self, organization_id: str) -> KeycloakOrganization | None:
        """None when Keycloak has no organization with this id."""
        data = self._call(
            f"read the organization {organization_id}",
            lambda: self._admin.get_organization(organization_id),
            missing_ok=True,
        )
        return KeycloakOrganization.from_api(data) if data else None

    def organization_identity_providers(self, organization_id: str) -> list[str]:
        data = self._call(
            "list the organization's identity providers",
            lambda: self._admin.get_organization_idps(organization_id),
        )
        return sorted(i["alias"] for i in data)

    def find_organizations(self, *names: str) -> list[KeycloakOrganization]:
        """Organizations whose name or alias equals one of `names`, case-insensitively.

        Keycloak's search matches names and domains but not aliases, so when it finds nothing
        the realm's organizations are listed (up to ORG_SCAN_LIMIT) and compared."""
        wanted = {n.strip().lower() for n in names if n and n.strip()}
        found: dict[str, KeycloakOrganization] = {}

        def keep(items: list[dict[str, Any]]) -> None:
            for item in items:
                org = KeycloakOrganization.from_api(item)
                if org.name.lower() in wanted or org.alias.lower() in wanted:
                    found[org.id] = org

        for name in sorted(wanted):
            keep(
                self._call(
                    f"search organizations named {name!r}",
                    lambda name=name: self._admin.get_organizations({"search": name, "max": 50}),
                )
            )
        if not found and wanted:
            keep(
                self._call(
                    "list the organizations",
                    lambda: self._admin.get_organizations(
                        {"first": 0, "max": ORG_SCAN_LIMIT, "briefRepresentation": True}
                    ),
                )
            )
        return sorted(found.values(), key=lambda o: (o.name, o.id))

    def session_count(self, user_id: str) -> int:
        return len(
            self._call("list the user's sessions", lambda: self._admin.get_sessions(user_id))
        )

    # -- writes ------------------------------------------------------------------------------

    def delete_credential(self, user_id: str, credential_id: str) -> None:
        self._call(
            "delete the user's password",
            lambda: self._admin.delete_credential(user_id, credential_id),
        )

    def add_member(self, organization_id: str, user_id: str) -> None:
        self._call(
            "add the user to the organization",
            lambda: self._admin.organization_user_add(user_id, organization_id),
        )

    def end_sessions(self, user_id: str) -> None:
        self._call("end the user's sessions", lambda: self._admin.user_logout(user_id))

    # -- the one place that turns Keycloak's failures into sentences ---------------------------

    def _call(self, what: str, fn: Callable[[], T], *, missing_ok: bool = False) -> T:
        try:
            return fn()
        except KeycloakConnectionError as exc:
            raise SupportError(
                KEYCLOAK_UNREACHABLE.format(
                    url=self.server_url, what=what, why=_why(exc, self.timeout)
                ),
                kind=ErrorKind.UNAVAILABLE,
            ) from None
        except KeycloakAuthenticationError:
            raise SupportError(
                KEYCLOAK_BAD_CREDENTIALS.format(
                    client_id=self.client_id, realm=self.realm, what=what
                ),
                kind=ErrorKind.UNAVAILABLE,
            ) from None
        except KeycloakError as exc:
            status = exc.response_code
            if status == 404 and missing_ok:
                return None  # type: ignore[return-value]
            if status in (401, 403):
                raise SupportError(
                    KEYCLOAK_FORBIDDEN.format(what=what, client_id=self.client_id)
                    if status == 403
                    else KEYCLOAK_BAD_CREDENTIALS.format(
                        client_id=self.client_id, realm=self.realm, what=what
                    ),
                    kind=ErrorKind.UNAVAILABLE,
                ) from None
            raise SupportError(
                KEYCLOAK_FAILED.format(status=status or "with an error", what=what),
                kind=ErrorKind.UNAVAILABLE,
            ) from None
        except requests.RequestException as exc:
            raise SupportError(
                KEYCLOAK_UNREACHABLE.format(
                    url=self.server_url, what=what, why=_why(exc, self.timeout)
                ),
                kind=ErrorKind.UNAVAILABLE,
            ) from None


def _why(exc: BaseException, timeout: float) -> str:
    cause = exc.__cause__ or exc
    # requests reports a read timeout under retries as a ConnectionError wrapping it.
    if isinstance(cause, requests.Timeout) or "timed out" in str(cause).lower():
        return f"no answer within {timeout:g} s"
    if isinstance(cause, requests.ConnectionError):
        return "connection refused or host unreachable"
    return type(cause).__name__
