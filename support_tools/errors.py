"""The one domain error of the project. Every door turns it into its own form."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    BAD_INPUT = "bad_input"  # HTTP 400
    NOT_FOUND = "not_found"  # HTTP 404
    CONFLICT = "conflict"  # HTTP 409: the data is in a state the action refuses
    PERMISSION = "permission"  # HTTP 403
    UNAVAILABLE = "unavailable"  # HTTP 503: another system (Keycloak) did not answer
    TOO_LARGE = "too_large"  # HTTP 413: more input than one run takes


class SupportError(Exception):
    """An error a support person can act on: `message` is one plain sentence."""

    def __init__(self, message: str, *, kind: ErrorKind = ErrorKind.BAD_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind

    def __str__(self) -> str:
        return self.message


PERMISSION_DENIED = "You do not have the permission to run {action}."
USER_INACTIVE = "The user {user} is inactive; reactivate the account first."
