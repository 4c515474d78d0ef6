"""The audit trail: one SupportAction row per run, in the same transaction as its change.

    ENSURE_AMC_ADMIN = ActionSpec("ensure_amc_admin", preview=..., apply=(...,))

    with support_action(ENSURE_AMC_ADMIN, actor=actor, inputs={...}, dry_run=dry_run) as trail:
        trail.about(user)
        ... change things: trail.update(obj, {"field": wanted}) saves and records what differs ...
        trail.result = result.as_dict()

The spec's permissions are checked here, once, for every door: the preview permission for a
diagnosis or a dry run, an apply permission for a real run.

A dry run executes the same code and rolls its writes back before the audit row is written,
so a dry run can never disagree with the real run. A failure rolls everything back and is
then recorded in a transaction of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction

from support_tools import bulk_sql
from support_tools.actors import Actor
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.logsafe import log_support_action
from support_tools.models import SupportAction, SupportActionLearner
from support_tools.permissions import ActionSpec
from support_tools.secrets import mask_token

log = logging.getLogger(__name__)

UNEXPECTED_ERROR = "An unexpected error stopped {action}; nothing was changed. ({detail})"


def storable(text: str) -> str:
    """Text every database can keep in a JSON column: NUL and lone surrogates escaped."""
    if text.isascii():
        return text.replace("\x00", "\\x00") if "\x00" in text else text
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


_PLAIN = frozenset({int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # the common case first: a bulk run's trail holds many
        return value
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, models.Model):
        return {"model": value._meta.label, "pk": value.pk, "repr": str(value)}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, dict):
        return {storable(str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def ident(value: Any) -> str:
    """How an input names its subject in the audit row: as typed, or the object's name."""
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "get_username"):
        return value.get_username()
    return getattr(value, "short_name", None) or str(value)


class _Entry(dict):
    """A change entry made here, of values already made storable (`jsonable`): the audit row
    keeps it as it is. Other entries are made storable when the row is written."""


@dataclass(frozen=True)
class Change:
    """One recorded change: a field's before and after, or a row created or deleted."""

    entry: dict[str, Any]


def field_change(
    obj: models.Model | str, field_name: str, before: Any, after: Any, *, secret: bool = False
) -> Change:
    if secret:
        before, after = mask_token(before), mask_token(after)
    return Change(_field_entry(_label(obj), field_name, before, after))


def _field_entry(label: str, field_name: str, before: Any, after: Any) -> _Entry:
    return _Entry(object=label, field=field_name, before=jsonable(before), after=jsonable(after))


def created(obj: models.Model | str, fields: dict[str, Any] | None = None) -> Change:
    return Change(_Entry(object=_label(obj), created=jsonable(fields or {})))


def apply_fields(
    obj: models.Model, wanted: dict[str, Any], *, secret: frozenset[str] = frozenset()
) -> tuple[Change, ...]:
    """Set the fields of `obj` that differ from `wanted`, save only those (and an auto_now
    `updated_at` when the model has one), and say what changed. Idempotent: nothing differs,
    nothing is written."""
    changes = []
    differing = [f for f, v in wanted.items() if getattr(obj, f) != v]
    for name in differing:
        changes.append(
            field_change(obj, name, getattr(obj, name), wanted[name], secret=name in secret)
        )
        setattr(obj, name, wanted[name])
    if differing:
        auto = [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
        obj.save(update_fields=[*differing, *auto])
    return tuple(changes)


@dataclass
class AuditTrail:
    action: str
    actor: Actor
    inputs: dict[str, Any]
    dry_run: bool
    changes: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    outcome: str | None = None
    subject_user: Any = None
    target: models.Model | None = None
    learners: list[tuple[Any, str, str]] = field(default_factory=list)

    def about(self, user: Any = None, *, target: models.Model | None = None) -> None:
        if user is not None:
            self.subject_user = user
        if target is not None:
            self.target = target

    def record(self, changes: tuple[Change, ...] | list[Change]) -> None:
        self.changes.extend(c.entry for c in changes)

    def update(
        self, obj: models.Model, wanted: dict[str, Any], *, secret: frozenset[str] = frozenset()
    ) -> list[str]:
        """`apply_fields`, recorded: returns the names of the fields that changed."""
        changes = apply_fields(obj, wanted, secret=secret)
        self.record(changes)
        return [c.entry["field"] for c in changes]

    def changed(
        self, obj: models.Model | str, field_name: str, before: Any, after: Any, *, secret=False
    ) -> None:
        self.record([field_change(obj, field_name, before, after, secret=secret)])

    def changed_many(self, changes: Iterable[tuple[str, str, Any, Any]]) -> None:
        """`changed` of each (object label, field, before, after): a bulk run's thousands."""
        self.changes.extend(_field_entry(*change) for change in changes)

    def created(self, obj: models.Model | str, fields: dict[str, Any] | None = None) -> None:
        self.record([created(obj, fields)])

    def deleted(self, obj: models.Model | str, fields: dict[str, Any] | None = None) -> None:
        self.changes.append(_Entry(object=_label(obj), deleted=jsonable(fields or {})))

    def touched(self, user: Any = None, *, key: str = "", outcome: str) -> None:
        """A learner a bulk run touched (their own row in the trail is the run's): found by
        `SupportAction.objects.about(user)` and by their key."""
        self.learners.append((getattr(user, "pk", user), storable(key)[:255], outcome))

    def note(self, text: str) -> None:
        """A change outside the database (another system), recorded as it happened."""
        self.changes.append(_Entry(external=storable(text)))

    def _row(self, outcome: str, error: str = "") -> SupportAction:
        target = self.target
        row = SupportAction(
            actor=self.actor.user,
            actor_label=self.actor.label[:200],
            door=self.actor.door,
            action=self.action,
            subject_user=self.subject_user if getattr(self.subject_user, "pk", None) else None,
            target_type=target._meta.label if target is not None else "",
            target_id=str(target.pk) if target is not None and target.pk else "",
            target_label=storable(str(target))[:300] if target is not None else "",
            inputs=jsonable(self.inputs),
            dry_run=self.dry_run,
            outcome=outcome,
            # Entries made here are storable already: a bulk run's trail holds thousands.
            changes=[c if type(c) is _Entry else jsonable(c) for c in self.changes],
            result=jsonable(self.result),
            error=storable(error),
        )
        row.json_ready = True
        return row


def _save_learners(row: SupportAction, learners: list[tuple[Any, str, str]]) -> None:
    # One statement of plain values: a bulk run records thousands of learners per row.
    bulk_sql.insert_rows(
        SupportActionLearner,
        ["action", "user", "key", "outcome"],
        [(row.pk, user_id, key, outcome) for user_id, key, outcome in learners],
    )


def _check_constraints_now() -> None:
    """PostgreSQL checks the foreign keys of what the action wrote now, before the audit row
    takes the chain's lock: at commit, with the lock held, they would hold up every other
    action's audit row meanwhile (a bulk step writes thousands). Only in a transaction of the
    action's own: the setting lasts to the end of the transaction, and a caller's may rely on
    checks deferred to its commit."""
    if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _label(obj: models.Model | str) -> str:
    if isinstance(obj, str):
        return obj
    return f"{obj._meta.label}#{obj.pk}" if obj.pk else obj._meta.label


class _DryRunRollback(Exception):
    pass


@contextmanager
def support_action(
    spec: ActionSpec,
    *,
    actor: Actor,
    inputs: dict[str, Any],
    dry_run: bool = False,
) -> Iterator[AuditTrail]:
    """The spec's permission is checked first (`ActionSpec.allows`); a refusal is recorded
    like any other failure."""
    action = spec.name
    trail = AuditTrail(action=action, actor=actor, inputs=inputs, dry_run=dry_run)
    try:
        if not spec.allows(actor, dry_run=dry_run):
            raise SupportError(PERMISSION_DENIED.format(action=action), kind=ErrorKind.PERMISSION)
        with transaction.atomic():
            try:
                # Only a dry run needs a savepoint: a failure rolls back the whole outer block.
                with transaction.atomic(savepoint=dry_run):
                    yield trail
                    if dry_run:
                        raise _DryRunRollback
            except _DryRunRollback:
                pass
            outcome = trail.outcome or (
                SupportAction.Outcome.CHANGED if trail.changes else SupportAction.Outcome.UNCHANGED
            )
            _check_constraints_now()
            row = trail._row(outcome)
            row.save()
            _save_learners(row, trail.learners)
        log_support_action(row)
    except SupportError as exc:
        _record_failure(trail, exc.message)
        raise
    except Exception as exc:
        # One line (a traceback only at DEBUG): doors answer with a sentence, never a trace.
        log.error(
            "support action %s failed: %s: %s",
            action,
            type(exc).__name__,
            str(exc)[:200],
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        _record_failure(trail, UNEXPECTED_ERROR.format(action=action, detail=type(exc).__name__))
        raise


def _record_failure(trail: AuditTrail, message: str) -> None:
    # The action's own transaction has been rolled back: nothing it did is left,
    # and the changes it had noted did not happen (but for another system's, kept as notes).
    trail.changes = [c for c in trail.changes if "external" in c]
    try:
        with transaction.atomic():
            row = trail._row(SupportAction.Outcome.FAILED, error=message)
            row.save()
        log_support_action(row)
    except Exception as exc:  # the database itself refuses: at least one line in the log
        log.error(
            "audit row not written: action=%s actor=%s door=%s outcome=failed error=%r cause=%s",
            trail.action,
            trail.actor.label,
            trail.actor.door,
            message[:200],
            type(exc).__name__,
        )
