"""Retire a learner's personal data from the audit trail without breaking its chain (GDPR).

Only the personal columns (audit_chain.PERSONAL_FIELDS) of a row are rewritten: each
occurrence of the learner's username, email, full name or external keys becomes RETIRED, and
the row gets a new salt. No hashed column changes. The retirement's own audit row records,
for each rewritten row, its personal digest before and after; that row is chained like any
other, so `verify_audit_trail` checks every rewritten row against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router, transaction
from django.db.models import Q

from support_tools import audit_chain
from support_tools.actors import Actor
from support_tools.audit import support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction, SupportActionLearner
from support_tools.permissions import ActionSpec

RETIRED = "[retired]"
NOTHING_TO_RETIRE = "Give the learner to retire: a user, or a username, an email or a key."
KEY_NEEDED = "Row {id} was sealed with an unknown key: " + audit_chain.UNKNOWN_KEY
NOT_IN_TRANSACTION = "Personal data of the audit trail is rewritten only inside a transaction."
HASHED_COLUMNS = "Retirement rewrites personal columns only, never {fields}."

# Shorter identifiers would match ordinary words: they only replace whole values.
MIN_SUBSTRING_LENGTH = 4
# Characters that continue a username, email or key: a match must not touch them.
_BEFORE = r"(?<![\w.@+-])"
_AFTER = r"(?![\w@+-]|\.\w)"
_BATCH = 500


@dataclass(frozen=True)
class RetirementResult:
    dry_run: bool
    rows: int  # rows whose personal data was (or, in a dry run, would be) rewritten
    identifiers: int

    @property
    def changed(self) -> bool:
        return self.rows > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "identifiers": self.identifiers,
        }


# Erasing a learner from the trail is as grave as deleting their account: the same permission.
RETIRE_LEARNER_AUDIT = ActionSpec(
    audit_chain.RETIRE_ACTION,
    preview="support_tools.view_supportaction",
    apply=("auth.delete_user",),
)


def retire_learner_audit(
    *,
    user: AbstractBaseUser | None,
    usernames: Iterable[str] = (),
    emails: Iterable[str] = (),
    external_keys: Iterable[str] = (),
    actor: Actor,
    dry_run: bool = False,
) -> RetirementResult:
    """`user` when the account still exists; the strings name a learner who no longer does.
    The audit row keeps the user id only: it must not hold what it retires."""
    names = set(_clean([*usernames, *emails]))
    if user is not None:
        names.update(_clean([user.get_username(), getattr(user, "email", "")]))
        full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        names.update(n for n in _clean([full_name]) if len(n) >= MIN_SUBSTRING_LENGTH)
    keys = set(_clean(external_keys))
    if not names and not keys:
        raise SupportError(NOTHING_TO_RETIRE)
    inputs = {"user_id": getattr(user, "pk", None)}
    with support_action(RETIRE_LEARNER_AUDIT, actor=actor, inputs=inputs, dry_run=dry_run) as trail:
        if user is not None:
            trail.about(user)
        keys |= _keys_paired_with(names, _candidates(names))
        identifiers = names | keys
        rewritten = _retire_rows(_candidates(identifiers), identifiers)
        trail.changes.extend(rewritten)
        # The index of learners touched by bulk runs keeps their keys: those go too.
        learner_rows = SupportActionLearner.objects.filter(key__in=keys)
        if user is not None:
            learner_rows = learner_rows | SupportActionLearner.objects.filter(user=user)
        learner_rows.exclude(key="").update(key=RETIRED)
        result = RetirementResult(
            dry_run=dry_run, rows=len(rewritten), identifiers=len(identifiers)
        )
        trail.inputs["identifiers"] = len(identifiers)
        trail.result = result.as_dict()
    return result


def _clean(values: Iterable[str]) -> list[str]:
    return [v.strip() for v in values if v and v.strip()]


def _candidates(identifiers: set[str]) -> list[int]:
    """Ids of rows that may mention one of `identifiers` (the rewrite decides exactly).
    JSON is searched as text: as stored by PostgreSQL and, with \\u escapes, by SQLite."""
    if not identifiers:
        return []
    query = Q()
    for identifier in identifiers:
        for form in {identifier, json.dumps(identifier)[1:-1]}:
            for name in audit_chain.PERSONAL_FIELDS:
                query |= Q(**{f"{name}__icontains": form})
    rows = SupportAction._base_manager.filter(query)
    # Retirement rows hold no personal data, and their records must stay as written.
    rows = rows.exclude(action=audit_chain.RETIRE_ACTION)
    return list(rows.order_by("pk").values_list("pk", flat=True))


def _keys_paired_with(names: set[str], row_ids: list[int]) -> set[str]:
    """External keys that the trail pairs with the learner: a link sheet's rows hold
    `[key, username]` in their inputs and `{"external_user_key", "username"}` in their result."""
    folded = {n.casefold() for n in names}
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            key, who = value.get("external_user_key"), value.get("username")
            if isinstance(key, str) and isinstance(who, str) and who.casefold() in folded:
                found.add(key)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            if (
                len(value) == 2
                and all(isinstance(v, str) for v in value)
                and value[1].casefold() in folded
            ):
                found.add(value[0])
            for item in value:
                walk(item)

    for start in range(0, len(row_ids), _BATCH):
        rows = SupportAction._base_manager.filter(pk__in=row_ids[start : start + _BATCH])
        for inputs, result in rows.values_list("inputs", "result"):
            walk(inputs)
            walk(result)
    return set(_clean(found))


def _retire_rows(row_ids: list[int], identifiers: set[str]) -> list[dict[str, Any]]:
    redact = _redactor(identifiers)
    keys = audit_chain.verification_keys()
    fields = ["pk", "key_id", "personal_salt", *audit_chain.PERSONAL_FIELDS]
    records, updates = [], []
    for start in range(0, len(row_ids), _BATCH):
        rows = (
            SupportAction._base_manager.filter(pk__in=row_ids[start : start + _BATCH])
            .select_for_update()
            .order_by("pk")
            .values(*fields)
        )
        for row in rows:
            new = {name: _fit(name, redact(row[name])) for name in audit_chain.PERSONAL_FIELDS}
            if all(new[name] == row[name] for name in new):
                continue
            if row["key_id"] not in keys:
                raise SupportError(
                    KEY_NEEDED.format(
                        id=row["pk"], setting=audit_chain.OLD_KEYS_SETTING, key_id=row["key_id"]
                    ),
                    kind=ErrorKind.CONFLICT,
                )
            key = keys[row["key_id"]]
            salt = audit_chain.new_salt()  # the old salt goes: the old digest can't be tested
            before = audit_chain.personal_digest(row, row["personal_salt"], key)
            after = audit_chain.personal_digest(new, salt, key)
            updates.append((row["pk"], {**new, "personal_salt": salt}))
            records.append(audit_chain.retirement_record(row["pk"], before, after))
    _rewrite_personal(updates)
    return records


def _redactor(identifiers: set[str]):  # noqa: ANN202 - a closure over the patterns
    long = sorted((i for i in identifiers if len(i) >= MIN_SUBSTRING_LENGTH), key=len, reverse=True)
    whole = {i.casefold() for i in identifiers}
    pattern = (
        re.compile(_BEFORE + "(?:" + "|".join(map(re.escape, long)) + ")" + _AFTER, re.I)
        if long
        else None
    )

    def text(value: str) -> str:
        if value.casefold() in whole:
            return RETIRED
        return pattern.sub(RETIRED, value) if pattern else value

    def redact(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, dict):
            return {text(str(k)): redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [redact(v) for v in value]
        return value

    return redact


def _fit(name: str, value: Any) -> Any:
    limit = getattr(SupportAction._meta.get_field(name), "max_length", None)
    return value[:limit] if limit and isinstance(value, str) else value


def _rewrite_personal(updates: list[tuple[int, dict[str, Any]]]) -> None:
    """The one sanctioned change of existing rows: personal columns and salt, nothing else.
    On PostgreSQL the trigger allows it only while support_tools.allow_retire is on; SET LOCAL
    ends with the transaction, or with the savepoint if it rolls back."""
    if not updates:
        return
    allowed = {*audit_chain.PERSONAL_FIELDS, "personal_salt"}
    using = router.db_for_write(SupportAction)
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError(NOT_IN_TRANSACTION)
    with transaction.atomic(using=using):
        _allow_retire(connection, "on")
        for pk, values in updates:
            if not set(values) <= allowed:
                raise RuntimeError(HASHED_COLUMNS.format(fields=sorted(set(values) - allowed)))
            SupportAction._base_manager.using(using).filter(pk=pk).update(**values)
        _allow_retire(connection, "off")


def _allow_retire(connection: Any, value: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('support_tools.allow_retire', %s, true)", [value])
