"""The hash chain of the audit trail: canonical content, keys, sealing a new row.

A row's `row_hash` covers its public core (CORE_FIELDS, which include `prev_hash`, so each row
seals the one before it) and `personal_digest`, a salted digest of its personal part
(PERSONAL_FIELDS). Retirement can thus rewrite the personal part without touching any hashed
column; see support_tools/README.md. This module imports no model: the data migration uses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from typing import Any

from django.conf import settings
from django.db import connections

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64

# Hashed as they are: nothing here names a person (user ids are kept, pseudonymous, in *_ref).
CORE_FIELDS = (
    "seq",
    "prev_hash",
    "created_at",
    "door",
    "action",
    "target_type",
    "target_id",
    "dry_run",
    "outcome",
    "actor_ref",
    "subject_ref",
    "key_id",
    "personal_digest",
)
# Covered only through `personal_digest`: retirement may rewrite them.
PERSONAL_FIELDS = ("actor_label", "target_label", "inputs", "changes", "result", "error")
JSON_FIELDS = frozenset({"inputs", "changes", "result"})

# Any 64-bit constant: the PostgreSQL advisory lock that serializes appends to the chain.
CHAIN_LOCK_ID = 0x5355_5050_4155_4454

KEY_SETTING = "AUDIT_HMAC_KEY"
OLD_KEYS_SETTING = "AUDIT_HMAC_OLD_KEYS"
UNKNOWN_KEY = "{setting} holds no key with the id {key_id!r}: add the old key to verify these rows."


def _setting(name: str) -> str:
    # The setting wins; the environment variable of the same name is the fallback.
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, "")
    return str(value or "")


def key_id_of(key: str) -> str:
    """A short public name of a key: rows record it, so the verifier picks the right key."""
    return hashlib.sha256(b"support_tools audit key id\0" + key.encode()).hexdigest()[:12]


def current_key() -> tuple[str, str | None]:
    """(key_id, key) that new rows are sealed with; ("", None) means plain SHA-256."""
    key = _setting(KEY_SETTING).strip()
    return (key_id_of(key), key) if key else ("", None)


def verification_keys() -> dict[str, str | None]:
    """Every key the verifier may meet, by id: the current one and AUDIT_HMAC_OLD_KEYS."""
    keys: dict[str, str | None] = {"": None}
    olds = [k.strip() for k in _setting(OLD_KEYS_SETTING).split(",")]
    for key in [*olds, _setting(KEY_SETTING).strip()]:
        if key:
            keys[key_id_of(key)] = key
    return keys


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_encode
    ).encode()


def _encode(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    raise TypeError(f"not canonical: {type(value).__name__}")


def _digest(kind: str, payload: Any, key: str | None) -> str:
    data = canonical({"kind": kind, "v": FORMAT_VERSION, "payload": payload})
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key.encode(), data, hashlib.sha256).hexdigest()


def personal_digest(values: dict[str, Any], salt: str, key: str | None) -> str:
    """The salt makes the digest useless for guessing retired data once the salt is gone."""
    return _digest("personal", {"salt": salt, **{f: values[f] for f in PERSONAL_FIELDS}}, key)


def row_hash(values: dict[str, Any], key: str | None) -> str:
    return _digest("row", {f: values[f] for f in CORE_FIELDS}, key)


def new_salt() -> str:
    return secrets.token_hex(16)


def as_stored(value: Any) -> Any:
    """A JSON value as the database will give it back (tuples become lists, keys strings)."""
    return json.loads(json.dumps(value))


def seal(obj: Any, *, seq: int, prev_hash: str, key_id: str, key: str | None) -> None:
    """Set the chain fields of `obj` (a model instance, current or historical) in place."""
    obj.seq = seq
    obj.prev_hash = prev_hash
    obj.key_id = key_id
    obj.actor_ref = obj.actor_id
    obj.subject_ref = obj.subject_user_id
    if not obj.personal_salt:
        obj.personal_salt = new_salt()
    values = values_of(obj)
    obj.personal_digest = personal_digest(values, obj.personal_salt, key)
    values["personal_digest"] = obj.personal_digest
    obj.row_hash = row_hash(values, key)


def values_of(obj: Any) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in (*CORE_FIELDS, *PERSONAL_FIELDS)}


def lock_chain(using: str) -> None:
    """Serialize appends until the transaction ends. SQLite needs nothing: its write
    transactions are serialized (IMMEDIATE mode), and so are reads of the head within them."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_ID])


# --- Retirement records ---------------------------------------------------------------------
# A retirement row lists, in its `changes`, each row whose personal part it rewrote with the
# digests before and after. That row is itself chained, so the verifier trusts these records.

RETIRE_ACTION = "retire_learner_audit"
RECORD_FIELD = "personal_digest"
RECORD_OBJECT = "support_tools.SupportAction#{id}"


def retirement_record(row_id: int, before: str, after: str) -> dict[str, Any]:
    return {
        "object": RECORD_OBJECT.format(id=row_id),
        "field": RECORD_FIELD,
        "before": before,
        "after": after,
    }


def read_retirement_records(changes: Any) -> list[tuple[int, str, str]]:
    """(row id, digest before, digest after) of each record; anything else is ignored."""
    prefix = RECORD_OBJECT.format(id="")
    records = []
    for change in changes if isinstance(changes, list) else []:
        if not isinstance(change, dict) or change.get("field") != RECORD_FIELD:
            continue
        label = str(change.get("object", ""))
        if label.startswith(prefix) and label[len(prefix) :].isdigit():
            records.append((int(label[len(prefix) :]), change.get("before"), change.get("after")))
    return records
