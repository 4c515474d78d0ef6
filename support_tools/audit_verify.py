"""Prove the audit trail intact: every row chained, unaltered, and retired only by retirement.

Streams the rows in `seq` order; memory grows with the number of retired rows only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from support_tools import audit_chain
from support_tools.models import SupportAction

BROKEN_SEQ = (
    "Row {id} has sequence number {seq} where {expected} was due: a row is missing or out of order."
)
BROKEN_PREV = (
    "Row {id} does not chain onto the row before it: a row was deleted, inserted or moved."
)
BROKEN_HASH = "Row {id} does not match its hash: it was altered."
BROKEN_KEY = "Row {id} was sealed with an unknown key: " + audit_chain.UNKNOWN_KEY
BROKEN_DOWNGRADE = "Row {id} was sealed without a key after rows sealed with one."
BROKEN_LINK = "Row {id} links to another user than the one it recorded."
BROKEN_PERSONAL = "Row {id} has personal data that was altered outside a retirement."
BROKEN_RETIREMENT = "Row {id} does not hold what the retirement that rewrote it recorded."

DEFAULT_CHUNK = 2000
_FIELDS = list(
    dict.fromkeys(
        [
            "id",
            "actor_id",
            "subject_user_id",
            "row_hash",
            "personal_salt",
            *audit_chain.CORE_FIELDS,
            *audit_chain.PERSONAL_FIELDS,
        ]
    )
)


@dataclass(frozen=True)
class TrailReport:
    ok: bool
    checked: int
    broken_at: int | None
    reason: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "broken_at": self.broken_at}


@dataclass(frozen=True)
class _Break:
    seq: int
    row_id: int
    reason: str


@dataclass(frozen=True)
class _Retired:
    seq: int
    original: str
    current: str


def verify_audit_trail(*, chunk_size: int = DEFAULT_CHUNK) -> TrailReport:
    keys = audit_chain.verification_keys()
    rows = SupportAction._base_manager.order_by("seq").values(*_FIELDS)
    expected_seq, prev_hash, keyed = 1, audit_chain.GENESIS_HASH, False
    chain_break: _Break | None = None
    retired: dict[int, _Retired] = {}  # rows whose personal part differs from the sealed one
    records: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    checked = 0
    for row in rows.iterator(chunk_size=chunk_size):
        checked += 1
        if chain_break is None:
            reason = _chain_problem(row, expected_seq, prev_hash, keys, keyed)
            if reason:
                chain_break = _Break(row["seq"], row["id"], reason)
            else:
                expected_seq, prev_hash = expected_seq + 1, row["row_hash"]
                keyed = keyed or bool(row["key_id"])
        if row["key_id"] not in keys:
            continue
        current = audit_chain.personal_digest(row, row["personal_salt"], keys[row["key_id"]])
        if current != row["personal_digest"]:
            retired[row["id"]] = _Retired(row["seq"], row["personal_digest"], current)
        elif _is_retirement(row):
            for row_id, before, after in audit_chain.read_retirement_records(row["changes"]):
                records[row_id].append((row["seq"], before, after))
    breaks = [chain_break] if chain_break else []
    breaks += _retirement_problems(retired, records)
    if breaks:
        first = min(breaks, key=lambda b: b.seq)
        return TrailReport(False, checked, first.row_id, first.reason)
    return TrailReport(True, checked, None, head_seq=expected_seq - 1, head_hash=prev_hash)


def _chain_problem(
    row: dict[str, Any], expected_seq: int, prev_hash: str, keys: dict[str, Any], keyed: bool
) -> str | None:
    if row["seq"] != expected_seq:
        return BROKEN_SEQ.format(id=row["id"], seq=row["seq"], expected=expected_seq)
    if row["prev_hash"] != prev_hash:
        return BROKEN_PREV.format(id=row["id"])
    if row["key_id"] not in keys:
        setting = audit_chain.OLD_KEYS_SETTING
        return BROKEN_KEY.format(id=row["id"], setting=setting, key_id=row["key_id"])
    if keyed and not row["key_id"]:
        return BROKEN_DOWNGRADE.format(id=row["id"])
    if audit_chain.row_hash(row, keys[row["key_id"]]) != row["row_hash"]:
        return BROKEN_HASH.format(id=row["id"])
    for link, ref in (("actor_id", "actor_ref"), ("subject_user_id", "subject_ref")):
        if row[link] is not None and row[link] != row[ref]:
            return BROKEN_LINK.format(id=row["id"])
    return None


def _is_retirement(row: dict[str, Any]) -> bool:
    return (
        row["action"] == audit_chain.RETIRE_ACTION
        and not row["dry_run"]
        and row["outcome"] == SupportAction.Outcome.CHANGED
    )


def _retirement_problems(
    retired: dict[int, _Retired], records: dict[int, list[tuple[int, str, str]]]
) -> list[_Break]:
    """A rewritten row must hold what its retirements recorded, each one taking over where the
    one before left off; a recorded row must not hold its sealed personal data again."""
    problems = []
    for row_id, row in retired.items():
        steps = sorted(r for r in records.get(row_id, []) if r[0] > row.seq)
        if not steps:
            problems.append(_Break(row.seq, row_id, BROKEN_PERSONAL.format(id=row_id)))
            continue
        digest: str | None = row.original
        for _, before, after in steps:
            digest = after if digest is not None and before == digest else None
        if digest != row.current:
            problems.append(_Break(row.seq, row_id, BROKEN_RETIREMENT.format(id=row_id)))
    restored = set(records) - set(retired)
    if restored:
        found = SupportAction._base_manager.filter(pk__in=restored).values_list("pk", "seq")
        problems += [_Break(seq, pk, BROKEN_RETIREMENT.format(id=pk)) for pk, seq in found]
    return problems
