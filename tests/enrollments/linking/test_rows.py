"""rows.read_pair and its helpers: a row from any door becomes storable text or that row's error."""

import pytest

from enrollments.linking.rows import (
    KEY_TOO_LONG,
    MALFORMED_ROW,
    SHOWN_MAX,
    TOO_MANY_ROWS,
    USERNAME_TOO_LONG,
    LinkInput,
    check_row_count,
    read_pair,
    shown,
)
from support_tools.errors import ErrorKind, SupportError
from support_tools.text import TEXT_CONTROL, TEXT_NOT_UTF8


def test_a_pair_is_trimmed():
    assert read_pair((" EXT-1 ", " ann\t")) == LinkInput("EXT-1", "ann")
    assert read_pair(["EXT-1", "ann"]) == LinkInput("EXT-1", "ann")


@pytest.mark.parametrize(
    "pair",
    [None, 12, "EXT-1,ann", "ab", {"a": 1, "b": 2}, ("EXT-1",), ("a", "b", "c"), (1, "ann")],
)
def test_anything_but_a_pair_of_texts_is_malformed(pair):
    assert read_pair(pair).error == MALFORMED_ROW


@pytest.mark.parametrize(
    ("pair", "message", "shown_key"),
    [
        (
            ("EXT\x00-1", "ann"),
            TEXT_CONTROL.format(field="external user key", char="U+0000"),
            "EXT\\u0000-1",
        ),
        (("EXT-1", "a\x00nn"), TEXT_CONTROL.format(field="username", char="U+0000"), "EXT-1"),
        (("EXT-\ud8001", "ann"), TEXT_NOT_UTF8.format(field="external user key"), "EXT-\\ud8001"),
        (("EXT-1", "\x7fann"), TEXT_CONTROL.format(field="username", char="U+007F"), "EXT-1"),
    ],
)
def test_text_the_database_cannot_store_is_that_rows_error_shown_escaped(pair, message, shown_key):
    row = read_pair(pair)
    assert row.error == message
    assert row.key == shown_key
    assert "\x00" not in row.username and "\x7f" not in row.username


def test_over_long_cells_are_errors_and_echoed_cut():
    row = read_pair(("K" * 10_000, "ann"))
    assert row.error == KEY_TOO_LONG and row.key == "K" * SHOWN_MAX + "…"
    assert read_pair(("EXT-1", "u" * 151)).error == USERNAME_TOO_LONG


def test_shown_escapes_controls_and_surrogates():
    assert shown("a\x00b\ud800c\td") == "a\\u0000b\\ud800c\\u0009d"
    assert shown("é" * 400) == "é" * SHOWN_MAX + "…"


def test_the_row_cap_is_a_setting(settings):
    settings.LINK_MAX_ROWS = 2
    check_row_count(2)
    with pytest.raises(SupportError) as refused:
        check_row_count(3)
    assert refused.value.kind == ErrorKind.TOO_LARGE
    assert refused.value.message == TOO_MANY_ROWS.format(limit=2)
