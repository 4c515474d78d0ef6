"""Reading `external_user_key,username` rows from a CSV file: one parser for every door."""

from __future__ import annotations

import csv
import io

from support_tools.errors import SupportError

CSV_NOT_UTF8 = (
    "The file is not UTF-8 text (bad byte at position {position}): "
    'save it as "CSV UTF-8" and try again.'
)
CSV_EMPTY = "The file holds no rows: expected lines of external_user_key,username."
CSV_WRONG_COLUMNS = (
    "Line {line} has {count} column(s); every row must be exactly external_user_key,username."
)
CSV_UNREADABLE = "The file is not readable as CSV ({detail}) at line {line}."

_HEADER_KEYS = {"external_user_key", "external_key", "external_user_id", "key"}
_HEADER_USERS = {"username", "user_name", "user"}


def _is_header(cells: list[str]) -> bool:
    names = [c.strip().lower().replace(" ", "_").replace("-", "_") for c in cells]
    return names[0] in _HEADER_KEYS and names[1] in _HEADER_USERS


def parse_link_rows(data: bytes | str) -> list[tuple[str, str]]:
    """The (external_user_key, username) pairs of a CSV text, in order.

    Tolerates a UTF-8 BOM, an optional header row, blank lines and spaces around cells.
    A file that is not UTF-8, has a line of other than two columns, or holds no row is
    refused as a whole (SupportError), so that nothing of it is applied.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SupportError(CSV_NOT_UTF8.format(position=exc.start)) from None
    else:
        text = data
    text = text.removeprefix("\ufeff")
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
            pairs.append((cells[0].strip(), cells[1].strip()))
    except csv.Error as exc:
        raise SupportError(CSV_UNREADABLE.format(detail=exc, line=reader.line_num)) from None
    if not pairs:
        raise SupportError(CSV_EMPTY)
    return pairs
