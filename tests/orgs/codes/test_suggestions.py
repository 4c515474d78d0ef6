"""Typo suggestions: the exact distance, the indexed look-up, and what diagnose_code says."""

import random
import uuid

import pytest
from django.db import connection

from orgs.codes import damerau_distance, diagnose_code, suggest_codes
from orgs.codes.suggestions import candidate_lookups
from orgs.models import EnrollmentCode
from tests.factories import ContractFactory, EnrollmentCodeFactory
from tests.orgs.codes.factories import CODE

DIGITS = CODE.replace("-", "")
HEX = "0123456789abcdef"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("abcdef", "abcdef", 0),
        ("abcdef", "abdcef", 1),  # a swap of neighbours is one edit
        ("abcdef", "abxdef", 1),
        ("abcdef", "abcxdef", 1),
        ("abcdef", "abdef", 1),
        ("abcdef", "badcef", 2),
        ("abcdef", "bacdfe", 2),
        ("abcdef", "axcdey", 2),
        ("abcdef", "xyzdef", 3),
        ("abcdef", "ab", 3),  # capped at limit + 1
        ("ca", "abc", 2),  # a swap, then an insertion between the swapped pair
        ("abcdef", "bxacdef", 2),
    ],
)
def test_damerau_distance(a, b, distance):
    assert damerau_distance(a, b, 2) == distance
    assert damerau_distance(b, a, 2) == distance


def _one_op_away(text, alphabet):
    out = set()
    for i in range(len(text) + 1):
        for c in alphabet:
            out.add(text[:i] + c + text[i:])
    for i in range(len(text)):
        out.add(text[:i] + text[i + 1 :])
        for c in alphabet:
            out.add(text[:i] + c + text[i + 1 :])
    for i in range(len(text) - 1):
        out.add(text[:i] + text[i + 1] + text[i] + text[i + 2 :])
    return out


def test_distance_agrees_with_applying_edits_one_by_one():
    """Independent oracle: b is within two edits of a when a sequence of at most two
    substitutions, insertions, deletions or neighbour swaps turns a into b."""
    rng = random.Random(11)
    alphabet = "abc"
    for _ in range(3000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randrange(7)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randrange(7)))
        near_a, near_b = _one_op_away(a, alphabet), _one_op_away(b, alphabet)
        expected = 0 if a == b else 1 if b in near_a else 2 if near_a & near_b else 3
        assert damerau_distance(a, b, 2) == expected, (a, b)


def _edit(text, rng):
    kind = rng.choice(["sub", "ins", "del", "swap"])
    i = rng.randrange(len(text))
    if kind == "sub":
        return text[:i] + rng.choice(HEX.replace(text[i], "")) + text[i + 1 :]
    if kind == "ins":
        return text[:i] + rng.choice(HEX) + text[i:]
    if kind == "del":
        return text[:i] + text[i + 1 :]
    i = min(i, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


@pytest.mark.django_db
def test_suggestions_equal_a_brute_force_scan(system_actor):
    """Random codes, with near neighbours planted, against random inputs one to three edits
    away: the indexed look-up finds exactly what comparing with every code finds."""
    rng = random.Random(4)
    contract = ContractFactory()
    base = [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in range(150)]
    planted = []
    for digits in base[:40]:  # neighbours one or two edits away, same length
        near = digits
        for _ in range(rng.choice([1, 2])):
            near = _edit(near, rng)
        if len(near) == 32 and all(c in HEX for c in near):
            planted.append(near)
    every = sorted(set(base + planted))
    EnrollmentCode.objects.bulk_create(
        EnrollmentCode(code=str(uuid.UUID(hex=d)), contract=contract) for d in every
    )
    for trial in range(300):
        target = rng.choice(every)
        typo = target
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            typo = _edit(typo, rng)
        expected = sorted(
            (damerau_distance(typo, d, 2), str(uuid.UUID(hex=d)))
            for d in every
            if damerau_distance(typo, d, 2) <= 2
        )
        got = suggest_codes(typo)
        assert list(got) == [code for _, code in expected][:5], (trial, typo)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        (CODE[:10] + CODE[11] + CODE[10] + CODE[12:], "code_not_found"),  # swap
        (CODE[:6] + CODE[7] + CODE[6] + CODE[8:], "code_not_found"),  # swap at a piece's edge
        ("a" + CODE[1:], "code_not_found"),  # substitution
        (CODE[:20] + "7" + CODE[20:], "malformed_code"),  # insertion
        (CODE[:30] + CODE[31:], "malformed_code"),  # deletion
        ("x" + CODE[:-1], "malformed_code"),  # an insertion, a deletion and shifted pieces
        (CODE[1:] + "0", "malformed_code"),  # every piece shifted left by one
        (DIGITS[:14] + DIGITS[15:] + "9", "code_not_found"),  # 32 digits: a canonical UUID
        (CODE[:7] + "-" + CODE[7:], "malformed_code"),  # a dash too many, no digit wrong
    ],
)
def test_typos_are_answered_with_the_code(system_actor, typed, problem):
    EnrollmentCodeFactory(code=CODE)
    EnrollmentCodeFactory()
    result = diagnose_code(code_text=typed, actor=system_actor)
    assert [p.code for p in result.problems] == [problem]
    assert result.suggestions == (CODE,)
    assert result.as_dict()["suggestions"] == [CODE]
    assert CODE in result.problems[0].message


@pytest.mark.django_db
def test_three_edits_away_is_no_suggestion(system_actor):
    EnrollmentCodeFactory(code=CODE)
    typed = "abc" + CODE[3:]
    result = diagnose_code(code_text=typed, actor=system_actor)
    assert result.suggestions == ()
    assert "No existing code is within two typos" in result.problems[0].message


@pytest.mark.django_db
def test_nearest_first(system_actor):
    one_off = CODE[:-1] + "0"
    two_off = CODE[:-2] + "00"
    for code in (two_off, one_off):
        EnrollmentCodeFactory(code=code)
    typed = CODE[:-1] + "4"  # one edit from one_off, two from two_off... and CODE is absent
    assert suggest_codes(typed.replace("-", "")) == (one_off, two_off)


@pytest.mark.django_db
@pytest.mark.parametrize("garbage", ["hello", "x" * 36, "🙂" * 32, "g" * 32, "1234"])
def test_garbage_costs_at_most_one_query(system_actor, garbage, django_assert_max_num_queries):
    EnrollmentCodeFactory(code=CODE)
    with django_assert_max_num_queries(1):
        assert suggest_codes(garbage) == ()


def test_look_up_windows_cover_shifts_of_two():
    lookups = candidate_lookups(DIGITS)
    assert DIGITS[0:6] in lookups["segment_1"] and DIGITS[25:32] in lookups["segment_5"]
    assert len(lookups["segment_3"]) == 5  # the piece at offsets -2..+2
    assert candidate_lookups("xyz") == {}


@pytest.mark.django_db
def test_one_query_through_the_indexes(django_assert_num_queries):
    EnrollmentCodeFactory(code=CODE)
    with django_assert_num_queries(1) as captured:
        suggest_codes(DIGITS[:31])
    sql = captured.captured_queries[0]["sql"]
    if connection.vendor == "sqlite":
        # Each OR term is answered by its segment index, never by scanning the table.
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "orgs_code_segment_" in plan and "SCAN orgs_enrollmentcode" not in plan


def test_enrollment_code_rows_created_by_the_orm_get_their_segments(db):
    code = EnrollmentCodeFactory(code=CODE)
    code = EnrollmentCode.objects.get(pk=code.pk)
    segments = [getattr(code, f"segment_{n}") for n in range(1, 6)]
    assert segments == ["3f2b8c", "4e1d7a", "4b9e8c2", "15a6f0", "e9d7b13"]
