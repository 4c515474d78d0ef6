"""Reading `external_user_key,username` rows from a CSV file: one parser for every door.

It is the linking playbook's input boundary: whatever a door hands over (bytes of an upload,
a text/csv body or stdin, pasted text, a JSON value), the pairs it returns hold only text the
database can store, within the size and row caps, so that nothing oversized is stored and no
service query sees a NUL or a lone surrogate.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django.conf import settings

from enrollments.linking.rows import check_row_count, shown
from support_tools.errors import ErrorKind, SupportError
from support_tools.text import clean_text

CSV_NOT_UTF8 = (
    "The file is not UTF-8 text (bad byte at position {position}): "
    'save it as "CSV UTF-8" and try again.'
)
CSV_EMPTY = "The file holds no rows: expected lines of external_user_key,username."
CSV_WRONG_COLUMNS = (
    "Line {line} has {count} column(s); every row must be exactly external_user_key,username."
)
CSV_UNREADABLE = "The file is not readable as CSV ({detail}) at line {line}."
CSV_NOT_TEXT = "The CSV must be text or a file, not {kind}."
CSV_TOO_LARGE = (
    "The file is larger than {limit:,} bytes: split it into smaller files, or ask an engineer "
    "to run it from the command line with a higher LINK_MAX_BYTES."
)
CSV_LINE = "Line {line}"

# Bytes and rows one run accepts from any door (settings of the same name override them).
LINK_MAX_BYTES = 20 * 1024 * 1024
# A cell longer than this is no key or username (those are at most 255 and 150 characters).
MAX_CELL = 1000

# What clean_text refuses, found at C speed before it names the line: control characters but
# tab and line breaks (a CSV's own), and lone surrogates (from text decoded with
# "surrogateescape", or a JSON "\ud800").
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\r\n]")

_HEADER_KEYS = {"external_user_key", "external_key", "external_user_id", "key"}
_HEADER_USERS = {"username", "user_name", "user"}


def max_bytes() -> int:
    return getattr(settings, "LINK_MAX_BYTES", LINK_MAX_BYTES)


def too_large() -> SupportError:
    return SupportError(CSV_TOO_LARGE.format(limit=max_bytes()), kind=ErrorKind.TOO_LARGE)


def read_capped(stream: Any) -> bytes:
    """At most LINK_MAX_BYTES from a file-like object (an upload, a request body, stdin):
    more is refused before it is read whole."""
    if stream is None:
        return b""
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large()
    return data


def _is_header(cells: list[str]) -> bool:
    names = [c.strip().lower().replace(" ", "_").replace("-", "_") for c in cells]
    return names[0] in _HEADER_KEYS and names[1] in _HEADER_USERS


def parse_link_rows(data: Any) -> list[tuple[str, str]]:
    """The (external_user_key, username) pairs of a CSV text, in order.

    Tolerates a UTF-8 BOM, an optional header row, blank lines and spaces around cells.
    A file that is not text, not UTF-8, too large, holds a control character or an
    over-long cell, has a line of other than two columns, holds too many rows or none is
    refused as a whole (SupportError), so that nothing of it is applied.
    """
    text = _text_of(data)
    _check_characters(text)
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    pairs: list[tuple[str, str]] = []
    first = True
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank line (or a line of empty cells)
            if len(cells) != 2:
                raise SupportError(CSV_WRONG_COLUMNS.format(line=reader.line_num, count=len(cells)))
            if first and _is_header(cells):
                first = False
                continue
            first = False
            pairs.append(_cells(cells, reader.line_num))
            if len(pairs) % 10_000 == 0:
                check_row_count(len(pairs))  # stop early on a huge file
    except csv.Error as exc:
        detail = shown(str(exc))
        raise SupportError(CSV_UNREADABLE.format(detail=detail, line=reader.line_num)) from None
    if not pairs:
        raise SupportError(CSV_EMPTY)
    check_row_count(len(pairs))
    return pairs


def _text_of(data: Any) -> str:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > max_bytes():
            raise too_large()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SupportError(CSV_NOT_UTF8.format(position=exc.start)) from None
    elif isinstance(data, str):
        # Each character is at least one byte: only a text near the cap is measured.
        if len(data) > max_bytes() // 4 and len(data.encode("utf-8", "surrogatepass")) > (
            max_bytes()
        ):
            raise too_large()
        text = data
    else:
        raise SupportError(CSV_NOT_TEXT.format(kind=kind_of(data)))
    return text.removeprefix("\ufeff")


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _check_characters(text: str) -> None:
    found = _REFUSED.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        start = text.rfind("\n", 0, found.start()) + 1
        end = text.find("\n", found.start())
        # clean_text gives the sentence (and raises) for the line that holds the character.
        clean_text(
            text[start : end if end >= 0 else len(text)],
            field=CSV_LINE.format(line=line),
            max_length=len(text),
            multiline=True,
        )


def _cells(cells: list[str], line: int) -> tuple[str, str]:
    key, username = (cell.strip() for cell in cells)
    for cell in (key, username):
        # A quoted cell may span lines or be huge: no key or username is either.
        if len(cell) > MAX_CELL or _LINE_BREAKS.search(cell):
            clean_text(cell, field=CSV_LINE.format(line=line), max_length=MAX_CELL)
    return key, username
