"""The input rows of linking and their outcomes: the checks that need no database.

A malformed row, a key on several rows or a username on several keys is refused here, before
any learner is read, so that the rest of the sheet proceeds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

LINKED, RELINKED, UNCHANGED, ERROR = "linked", "relinked", "unchanged", "error"
STATUSES = (LINKED, RELINKED, UNCHANGED, ERROR)

MALFORMED_ROW = "Malformed row: it needs an external user key and a username."
KEY_TOO_LONG = "Malformed row: the external user key is longer than 255 characters."
USERNAME_TOO_LONG = "Malformed row: the username is longer than 150 characters."
DUPLICATE_KEY = (
    "The external user key {key!r} is on {count} rows of the input (keys match "
    "case-insensitively); none of them was linked: keep one row per key."
)
DUPLICATE_USERNAME = (
    "The username {username!r} is on {count} rows with different external user keys; "
    "none of them was linked: a learner has one key per program, keep one row per learner."
)

# The model's column sizes (ProgramEnrollment.external_user_key, auth.User.username).
MAX_KEY_LENGTH = 255
MAX_USERNAME_LENGTH = 150


@dataclass(frozen=True)
class LinkRow:
    """The outcome of one input row."""

    external_user_key: str
    username: str
    status: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "external_user_key": self.external_user_key,
            "username": self.username,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class LinkInput:
    """One input row, trimmed; `error` is set when the row is refused as it stands."""

    key: str
    username: str
    error: str = ""


def error_row(row: LinkInput, message: str) -> LinkRow:
    return LinkRow(row.key, row.username, ERROR, message)


def read_pair(pair: Any) -> LinkInput:
    """A (key, username) pair from any door: a JSON door may send anything."""
    try:
        key, username = pair
    except (TypeError, ValueError):
        return LinkInput("", "", MALFORMED_ROW)
    key = key.strip() if isinstance(key, str) else ""
    username = username.strip() if isinstance(username, str) else ""
    if not key or not username:
        return LinkInput(key, username, MALFORMED_ROW)
    if len(key) > MAX_KEY_LENGTH:
        return LinkInput(key, username, KEY_TOO_LONG)
    if len(username) > MAX_USERNAME_LENGTH:
        return LinkInput(key, username, USERNAME_TOO_LONG)
    return LinkInput(key, username)


def screen(rows: list[LinkInput], outcomes: dict[int, LinkRow]) -> list[int]:
    """Row errors that need no database; returns the indexes of the rows left to link."""
    for i, row in enumerate(rows):
        if row.error:
            outcomes[i] = error_row(row, row.error)
    keys = Counter(r.key.lower() for r in rows if not r.error)
    for i, row in enumerate(rows):
        if i not in outcomes and keys[row.key.lower()] > 1:
            outcomes[i] = error_row(
                row, DUPLICATE_KEY.format(key=row.key, count=keys[row.key.lower()])
            )
    keys_of_user: dict[str, set[str]] = defaultdict(set)
    for i, row in enumerate(rows):
        if i not in outcomes:
            keys_of_user[row.username].add(row.key.lower())
    for i, row in enumerate(rows):
        count = len(keys_of_user[row.username])
        if i not in outcomes and count > 1:
            outcomes[i] = error_row(
                row, DUPLICATE_USERNAME.format(username=row.username, count=count)
            )
    return [i for i in range(len(rows)) if i not in outcomes]
