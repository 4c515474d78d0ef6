"""The input rows of linking and their outcomes: the checks that need no database.

A malformed row, a key on several rows or a username on several keys is refused here, before
any learner is read, so that the rest of the sheet proceeds.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from support_tools.errors import ErrorKind, SupportError
from support_tools.text import clean_text

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

TOO_MANY_ROWS = (
    "The input holds more than {limit:,} rows: split it into smaller sheets, or ask an "
    "engineer to run it from the command line with a higher LINK_MAX_ROWS."
)

# The model's column sizes (ProgramEnrollment.external_user_key, auth.User.username).
MAX_KEY_LENGTH = 255
MAX_USERNAME_LENGTH = 150
# Rows one run accepts from any door (the setting of the same name overrides it).
LINK_MAX_ROWS = 200_000
# How much of a refused cell a result echoes: enough to find the row in the sheet.
SHOWN_MAX = 300

_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


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


def max_rows() -> int:
    return getattr(settings, "LINK_MAX_ROWS", LINK_MAX_ROWS)


def check_row_count(count: int) -> None:
    """Refuse an input of more rows than one run takes (HTTP 413 through the API)."""
    if count > max_rows():
        raise SupportError(TOO_MANY_ROWS.format(limit=max_rows()), kind=ErrorKind.TOO_LARGE)


def shown(text: str) -> str:
    """`text` as a result may echo it: control characters and lone surrogates escaped (the
    database and a person can read it), cut at SHOWN_MAX characters."""
    escaped = _UNSHOWABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text[: SHOWN_MAX + 1])
    return escaped[:SHOWN_MAX] + "…" if len(escaped) > SHOWN_MAX else escaped


def read_pair(pair: Any) -> LinkInput:
    """A (key, username) pair from any door: a JSON door may send anything. A row that
    cannot be linked as it stands keeps its error, and only storable text."""
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return LinkInput("", "", MALFORMED_ROW)
    key, username = pair
    key = key.strip() if isinstance(key, str) else ""
    username = username.strip() if isinstance(username, str) else ""
    if not key or not username:
        return LinkInput(shown(key), shown(username), MALFORMED_ROW)
    for name, value in (("external user key", key), ("username", username)):
        if _UNSHOWABLE.search(value):
            try:
                clean_text(value, field=name, max_length=len(value))
            except SupportError as refused:
                return LinkInput(shown(key), shown(username), refused.message)
    if len(key) > MAX_KEY_LENGTH:
        return LinkInput(shown(key), shown(username), KEY_TOO_LONG)
    if len(username) > MAX_USERNAME_LENGTH:
        return LinkInput(shown(key), shown(username), USERNAME_TOO_LONG)
    return LinkInput(key, username)


def screen(rows: list[LinkInput], outcomes: dict[int, LinkRow]) -> list[int]:
    """Row errors that need no database; returns the indexes of the rows left to link, in the
    order of their keys."""
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
    # One global order, the same for every run: batches are cut from the keys in order, so
    # two runs over overlapping sheets lock the keys they share in the same order and queue
    # instead of deadlocking (each sheet's own order crossed between batches).
    return sorted(
        (i for i in range(len(rows)) if i not in outcomes), key=lambda i: rows[i].key.lower()
    )
