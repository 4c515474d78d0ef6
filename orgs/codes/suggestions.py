"""Typo suggestions for an enrollment code, fast on millions of codes without a table scan.

Pigeonhole: each code's 32 hex digits are cut into five pieces, stored in indexed columns
(`EnrollmentCode.segment_1..5`, computed by the database). One edit (a substitution, an
insertion, a deletion, or a swap of two neighbours) touches at most two neighbouring digits,
hence at most two pieces; two edits touch at most four. So a code within two edits of the
input keeps at least one piece whole, and finds it in the input at its own position moved by
the insertions and deletions before it: -2..+2. One query fetches the codes sharing such a
piece (about 25 exact index look-ups), then the exact Damerau-Levenshtein distance is computed here.
"""

from __future__ import annotations

from django.db.models import Q

from orgs.models import CODE_SEGMENTS, EnrollmentCode

MAX_DISTANCE = 2
MAX_SUGGESTIONS = 5
CODE_DIGITS = 32
# A guard against pathological inputs; random codes give a handful of candidates.
CANDIDATE_LIMIT = 1000
_HEX = frozenset("0123456789abcdef")


def suggest_codes(digits: str) -> tuple[str, ...]:
    """Existing codes whose digits are within MAX_DISTANCE edits of `digits` (dashes removed),
    a swap of neighbours counting as one edit; nearest first."""
    if abs(len(digits) - CODE_DIGITS) > MAX_DISTANCE:
        return ()
    lookups = candidate_lookups(digits)
    if not lookups:
        return ()
    condition = Q()
    for column, values in lookups.items():
        condition |= Q(**{f"{column}__in": sorted(values)})
    candidates = EnrollmentCode.objects.filter(condition).values_list("code", flat=True)
    scored = []
    for code in candidates[:CANDIDATE_LIMIT]:
        distance = damerau_distance(digits, code.replace("-", ""), MAX_DISTANCE)
        if distance <= MAX_DISTANCE:
            scored.append((distance, code))
    scored.sort()
    return tuple(code for _, code in scored[:MAX_SUGGESTIONS])


def candidate_lookups(digits: str) -> dict[str, set[str]]:
    """For each piece column, the input's windows that may hold that piece intact."""
    lookups: dict[str, set[str]] = {}
    for number, (start, end) in enumerate(CODE_SEGMENTS, start=1):
        width = end - start
        for shift in range(-MAX_DISTANCE, MAX_DISTANCE + 1):
            begin = start + shift
            window = digits[begin : begin + width] if begin >= 0 else ""
            if len(window) == width and _HEX.issuperset(window):
                lookups.setdefault(f"segment_{number}", set()).add(window)
    return lookups


def damerau_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (a swap of neighbours costs one, even with an insertion
    between them), or limit + 1 as soon as it must exceed `limit`. Lowrance-Wagner."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    far = len(a) + len(b)
    # d[i + 1][j + 1] is the distance between a[:i] and b[:j]; row and column 0 are sentinels.
    d = [[far] * (len(b) + 2)] + [[far, i] + [0] * len(b) for i in range(len(a) + 1)]
    d[1] = [far, *range(len(b) + 1)]
    last_row: dict[str, int] = {}
    for i in range(1, len(a) + 1):
        last_col = 0
        for j in range(1, len(b) + 1):
            k, m = last_row.get(b[j - 1], 0), last_col
            cost = 1
            if a[i - 1] == b[j - 1]:
                cost, last_col = 0, j
            d[i + 1][j + 1] = min(
                d[i][j] + cost,
                d[i + 1][j] + 1,
                d[i][j + 1] + 1,
                d[k][m] + (i - k - 1) + 1 + (j - m - 1),
            )
        last_row[a[i - 1]] = i
        # A transposition reaching a later row costs at least this row's minimum.
        if min(d[i + 1][1:]) > limit:
            return limit + 1
    return min(d[-1][-1], limit + 1)
