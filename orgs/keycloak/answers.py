"""What Keycloak answers, checked: the records the gateway returns and the shape checks that
turn any other answer into `MalformedAnswer`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from orgs.keycloak.messages import WHY_NOT_JSON, WHY_WRONG_TYPE


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
