"""Properties of the input normalisers, over whatever hypothesis makes of hostile pieces:
they refuse only with SupportError (a sentence), and what they return can be stored and shown
(no NUL, no lone surrogate, no other control character but tab, bounded length)."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrollments.linking.csv_rows import MAX_CELL, parse_link_rows
from enrollments.linking.rows import SHOWN_MAX, read_pair
from orgs.codes import normalise_code
from orgs.codes.normalise import SHOWN_MAX as CODE_SHOWN_MAX
from support_tools.errors import SupportError

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
UNSTORABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Pieces that broke doors before: NUL, surrogates, other controls, BOMs, quotes, separators,
# invisible characters, line breaks, escapes that decode to NUL, and look-alike digits.
PIECES = st.sampled_from(
    [
        "\x00",
        "\ud800",
        "\udfff",
        "\x1b",
        "\x85",
        "\t",
        "\r\n",
        "\n",
        "\r",
        "\ufeff",
        "\u200b",
        '"',
        "'",
        ",",
        ";",
        " ",
        "%00",
        "²",
        "é",
        "EXT-1",
        "ann",
        "external_user_key,username",
        "https://learn.example.com/enrollmentcode/",
        "3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6f",
        "3F2B8C1E7D4A4E6B9C0D1A2B3C4D5E6F",
        "x" * 300,
    ]
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=30).map("".join),
)
ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | HOSTILE_TEXT | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def storable(text):
    return isinstance(text, str) and not UNSTORABLE.search(text)


@PROPERTY_SETTINGS
@given(
    data=st.one_of(
        HOSTILE_TEXT,
        HOSTILE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=300),
        ANYTHING,
    )
)
def test_parse_link_rows_refuses_with_a_sentence_or_gives_storable_pairs(data):
    try:
        pairs = parse_link_rows(data)
    except SupportError as refused:
        assert refused.message and storable(refused.message.replace("\n", " "))
        return
    assert pairs
    for pair in pairs:
        assert len(pair) == 2
        for cell in pair:
            assert storable(cell) and len(cell) <= MAX_CELL


@PROPERTY_SETTINGS
@given(pair=st.one_of(ANYTHING, st.tuples(HOSTILE_TEXT, HOSTILE_TEXT)))
def test_read_pair_never_raises_and_keeps_only_storable_text(pair):
    row = read_pair(pair)
    for text in (row.key, row.username):
        assert storable(text.replace("\t", " "))
        assert len(text) <= max(255, SHOWN_MAX + 1)
    if not row.error:
        assert row.key and row.username


@PROPERTY_SETTINGS
@given(raw=HOSTILE_TEXT)
def test_normalise_code_refuses_with_a_sentence_or_gives_storable_text(raw):
    try:
        code = normalise_code(raw)
    except SupportError as refused:
        assert refused.message
        return
    assert storable(code.text)
    if code.well_formed:
        assert CANONICAL.fullmatch(code.text)
    else:
        assert len(code.text) <= CODE_SHOWN_MAX + 1
