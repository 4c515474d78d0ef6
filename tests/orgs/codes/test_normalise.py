"""normalise_code and the text helpers: whatever is pasted, the result is safe to show and store.

hypothesis is not a dependency of the project, so the property test is a parametrised list of
hostile inputs plus a seeded random mix of their pieces, each checked against the same
properties.
"""

import random
import re
import unicodedata

import pytest

from orgs.codes import CODE_EMPTY, escape_controls, has_visible_text, normalise_code
from orgs.codes.normalise import SHOWN_MAX
from support_tools.errors import SupportError
from tests.orgs.codes.factories import CODE

CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LINK = "https://learn.example.com/enrollmentcode/"

HOSTILE = [
    "\x00",
    "%00",
    f"{LINK}%00",
    f"{LINK}%00/",
    f"{LINK}{CODE}%00",
    f"{LINK}%2500",
    CODE + "\x00",
    "\x00" + CODE,
    CODE[:10] + "\x00" + CODE[10:],
    "\ud800",
    CODE + "\udfff",
    "\ud83d",
    "a" * 100_000,
    CODE * 3_000,
    "'." * 50_000,
    "/" * 10_000,
    "enrollmentcode/" * 2_000,
    "%",
    "%Z",
    "%ZZ%%",
    "%E2%80%8B",
    "%ED%A0%80",
    "%F0%9F",
    f"{LINK}%F0%9F%99%82",
    "?#",
    "#" + CODE,
    "\x1b[31m" + CODE + "\x1b[0m",
    "\x7f" + CODE,
    "\u202e" + CODE,
    "\x85" + CODE,
    "urn:uuid:",
    "urn:uuid:\x00",
    "🙂" * 32,
    "\u0663" * 32,
    "３ｆ２ｂ８ｃ４ｅ１ｄ７ａ４ｂ９ｅ８ｃ２１５ａ６ｆ０ｅ９ｄ７ｂ１３",
    "\u0301" * 40,
]


def check_properties(raw):
    """What every input must satisfy; returns the result (None when refused as empty)."""
    try:
        result = normalise_code(raw)
    except SupportError as exc:
        assert exc.message == CODE_EMPTY
        return None
    # Safe to store (PostgreSQL refuses NUL; UTF-8 refuses lone surrogates) and to show.
    result.text.encode("utf-8")
    assert not any(unicodedata.category(c) in {"Cc", "Cs"} for c in result.text), raw[:80]
    assert len(result.text) <= SHOWN_MAX + 1
    if result.well_formed:
        assert CANONICAL.fullmatch(result.text)
        assert normalise_code(result.text) == result
    else:
        assert not CANONICAL.fullmatch(result.text)
    assert normalise_code(raw) == result
    return result


@pytest.mark.parametrize("raw", HOSTILE, ids=lambda raw: ascii(raw[:24]))
def test_hostile_input_gives_a_safe_answer(raw):
    check_properties(raw)


def test_random_mixes_of_hostile_pieces():
    pieces = [
        CODE,
        CODE[:9],
        CODE.replace("-", "")[5:],
        "-",
        "%",
        "%00",
        "00",
        "%2F",
        "/",
        "?",
        "#",
        ":",
        "enrollmentcode",
        "https://",
        "urn:uuid:",
        "\x00",
        "\x07",
        "\ud800",
        "\udc00",
        "\u200b",
        "\ufeff",
        " ",
        "\n",
        "\t",
        "'",
        '"',
        "<",
        ")",
        ".",
        "é",
        "🙂",
        "Ａ",
    ]
    rng = random.Random(20261125)
    well_formed = 0
    for _ in range(3_000):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
        result = check_properties(raw)
        well_formed += bool(result and result.well_formed)
    assert well_formed  # the mix does reach the well-formed branch


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"{LINK}%00", "\\x00"),  # issue 11: the redemption link's %00, decoded
        ("\x00", "\\x00"),
        (f"{LINK}%2500", "%00"),  # decoded once, as the browser does
        (CODE + "\x00", CODE + "\\x00"),
        (CODE[:10] + "\x00" + CODE[10:], CODE[:10] + "\\x00" + CODE[10:]),
        ("\ud800", "\\ud800"),
    ],
)
def test_control_characters_make_the_input_malformed_and_are_shown_escaped(raw, shown):
    result = normalise_code(raw)
    assert result.well_formed is False and result.text == shown


@pytest.mark.parametrize(
    "pasted",
    [
        CODE + "\u200b",
        "\ufeff" + CODE,
        CODE[:8] + "\u200c" + CODE[8:],
        "\u200e" + CODE + "\u2060",
        f"{LINK}{CODE}%E2%80%8B",
        f"\u200b'{CODE}'\u200b",
        CODE.replace("-", "\u00ad-"),  # soft hyphens from a word processor
    ],
)
def test_invisible_characters_that_copying_carries_are_dropped(pasted):
    assert normalise_code(pasted).text == CODE and normalise_code(pasted).well_formed


@pytest.mark.parametrize("empty", ["\u200b", "\ufeff \u200b", f"{LINK}%E2%80%8B"])
def test_only_invisible_characters_is_empty(empty):
    with pytest.raises(SupportError) as caught:
        normalise_code(empty)
    assert caught.value.message == CODE_EMPTY


def test_a_very_long_input_is_shortened_for_display():
    result = normalise_code("ab" * 100_000)
    assert not result.well_formed and len(result.text) == SHOWN_MAX + 1
    assert result.text.endswith("…")


def test_escape_controls_keeps_line_breaks_and_tabs():
    assert escape_controls("a\tb\nc\r\n") == "a\tb\nc\r\n"
    assert escape_controls("a\x00b\x1b\x7f\ud800") == "a\\x00b\\x1b\\x7f\\ud800"
    assert escape_controls("plain é 🙂") == "plain é 🙂"


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        " ",
        "\t\n",
        "\u200b",
        "\u200b\u200c\u200d",
        "\ufeff",
        "\u2060",
        "\u00a0",
        "\u3000",
        "\u3164",
        "\u2800",
        "\u00ad",
        "\u0301\u0301",
        "\x00",
        "\u202e",
    ],
)
def test_invisible_text_has_nothing_visible(text):
    assert has_visible_text(text) is False


@pytest.mark.parametrize("text", ["Order 4711", "\u200bx", " . ", "é", "注文", "🙂"])
def test_visible_text(text):
    assert has_visible_text(text) is True
