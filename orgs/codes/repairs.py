"""The enrollment-code repairs: each one support action, one transaction, one audit row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Q

from orgs.codes.normalise import escape_controls, has_visible_text
from orgs.codes.selectors import resolve_code, resolve_contract, seats_used_of
from orgs.models import Contract, EnrollmentCode
from support_tools.actors import Actor
from support_tools.audit import ident, support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.permissions import ActionSpec
from support_tools.results import Repair

SYNC_TARGET_REQUIRED = "Give either one enrollment code or one contract, not both nor neither."
SEATS_INVALID = "The number of seats to add must be a whole number above zero, not {seats!r}."
REASON_REQUIRED = (
    "Give a reason for adding seats (the order, ticket or person who decided): it stays in "
    "the audit trail."
)
CONTRACT_UNLIMITED = (
    "The contract {contract} has no seat limit, so it cannot be full: there are no seats to add."
)
SEATS_CHANGED_MEANWHILE = (
    "The contract {contract} now allows {current} learners, not the {expected} you saw; "
    "check the contract again before adding seats."
)
SEATS_ABOVE_LIMIT = (
    "Adding {seats} seats to {contract} would raise its limit to {after} learners; a contract "
    "allows at most {maximum}."
)

# The largest limit `max_learners` holds: PostgreSQL's integer (PositiveIntegerField). The
# same bound on every database, though SQLite would store more.
SEATS_LIMIT_MAX = BaseDatabaseOperations.integer_field_ranges[
    Contract._meta.get_field("max_learners").get_internal_type()
][1]

SYNC_CODE_DATES = ActionSpec(
    "sync_code_dates", preview="orgs.view_enrollmentcode", apply=("run_sync_code_dates",)
)
# A commercial decision: leads hold run_add_contract_seats.
ADD_CONTRACT_SEATS = ActionSpec(
    "add_contract_seats", preview="orgs.view_contract", apply=("run_add_contract_seats",)
)


@dataclass(frozen=True)
class CodeWindowChange:
    code: str
    activation_date_before: dt.datetime | None
    expiration_date_before: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "activation_date_before": _iso(self.activation_date_before),
            "expiration_date_before": _iso(self.expiration_date_before),
        }


@dataclass(frozen=True)
class SyncCodeDatesResult(Repair):
    dry_run: bool
    contract_id: int
    contract: str
    start: dt.datetime | None
    end: dt.datetime | None
    codes_checked: int
    updated: tuple[CodeWindowChange, ...]

    @property
    def changed(self) -> bool:
        return bool(self.updated)

    def payload(self) -> dict[str, Any]:
        return {
            "contract": {"id": self.contract_id, "name": self.contract},
            "activation_date": _iso(self.start),
            "expiration_date": _iso(self.end),
            "codes_checked": self.codes_checked,
            "codes_updated": len(self.updated),
            "results": [change.as_dict() for change in self.updated],
        }


@dataclass(frozen=True)
class AddContractSeatsResult(Repair):
    dry_run: bool
    contract_id: int
    contract: str
    seats_added: int
    max_learners_before: int
    max_learners_after: int
    seats_used: int
    reason: str

    @property
    def changed(self) -> bool:
        return self.max_learners_after != self.max_learners_before

    def payload(self) -> dict[str, Any]:
        return {
            "contract": {"id": self.contract_id, "name": self.contract},
            "seats_added": self.seats_added,
            "max_learners_before": self.max_learners_before,
            "max_learners_after": self.max_learners_after,
            "seats_used": self.seats_used,
            "reason": self.reason,
        }


def sync_code_dates(
    *,
    code: str | EnrollmentCode | None = None,
    contract: str | int | Contract | None = None,
    actor: Actor,
    dry_run: bool = False,
) -> SyncCodeDatesResult:
    """Set the activation and expiration dates of one code, or of every code of a contract,
    to the contract's start and end. Codes already aligned are left alone."""
    inputs = {"code": _named(code), "contract": _named(contract)}
    with support_action(SYNC_CODE_DATES, actor=actor, inputs=inputs, dry_run=dry_run) as trail:
        if (code is None) == (contract is None) or (code == "" or contract == ""):
            raise SupportError(SYNC_TARGET_REQUIRED)
        if code is not None:
            code_obj = resolve_code(code)
            trail.about(target=code_obj)
            codes = EnrollmentCode.objects.filter(pk=code_obj.pk)
            contract_obj = _locked_contract(code_obj.contract_id)
        else:
            contract_obj = _locked_contract(resolve_contract(contract).pk)
            trail.about(target=contract_obj)
            codes = EnrollmentCode.objects.filter(contract=contract_obj)
        start, end = contract_obj.start, contract_obj.end
        wanted = {"activation_date": start, "expiration_date": end}
        aligned = Q(activation_date=start) if start else Q(activation_date__isnull=True)
        aligned &= Q(expiration_date=end) if end else Q(expiration_date__isnull=True)
        stale = codes.exclude(aligned)
        # One UPDATE for every stale code, not a save per code (trail.update): a contract
        # may have thousands. The audit row still gets each field's before and after.
        updated = []
        for row in stale.select_for_update().order_by("pk").values("pk", "code", *wanted):
            label = f"{EnrollmentCode._meta.label}#{row['pk']}"
            for name, value in wanted.items():
                if row[name] != value:
                    trail.changed(label, name, row[name], value)
            updated.append(
                CodeWindowChange(row["code"], row["activation_date"], row["expiration_date"])
            )
        if updated:
            stale.update(**wanted)
        result = SyncCodeDatesResult(
            dry_run=dry_run,
            contract_id=contract_obj.pk,
            contract=str(contract_obj),
            start=start,
            end=end,
            codes_checked=codes.count() if contract is not None else 1,
            updated=tuple(updated),
        )
        trail.result = result.as_dict()
    return result


def add_contract_seats(
    *,
    contract: str | int | Contract,
    seats: int,
    reason: str,
    actor: Actor,
    dry_run: bool = False,
    expected_max_learners: int | None = None,
) -> AddContractSeatsResult:
    """Raise a contract's seat limit by `seats`: a commercial decision, so it needs its own
    permission and a written reason, which the audit row keeps.

    With `expected_max_learners` (the limit the person saw), a repeated run changes nothing:
    a limit already at expected + seats means the seats were added; another value is refused.
    """
    inputs = {
        "contract": _named(contract),
        "seats": seats,
        "reason": reason,
        "expected_max_learners": expected_max_learners,
    }
    with support_action(ADD_CONTRACT_SEATS, actor=actor, inputs=inputs, dry_run=dry_run) as trail:
        if isinstance(seats, bool) or not isinstance(seats, int) or seats <= 0:
            raise SupportError(SEATS_INVALID.format(seats=seats))
        reason = (reason or "").strip()
        if not has_visible_text(reason):  # a zero-width space is no reason
            raise SupportError(REASON_REQUIRED)
        obj = _locked_contract(resolve_contract(contract).pk)
        trail.about(target=obj)
        before = obj.max_learners
        if not before:
            raise SupportError(CONTRACT_UNLIMITED.format(contract=obj), kind=ErrorKind.CONFLICT)
        after = before + seats
        if expected_max_learners is not None and before != expected_max_learners:
            if before != expected_max_learners + seats:
                raise SupportError(
                    SEATS_CHANGED_MEANWHILE.format(
                        contract=obj, current=before, expected=expected_max_learners
                    ),
                    kind=ErrorKind.CONFLICT,
                )
            after = before  # this very addition was already made
        if after > SEATS_LIMIT_MAX:
            raise SupportError(
                SEATS_ABOVE_LIMIT.format(
                    seats=seats, contract=obj, after=after, maximum=SEATS_LIMIT_MAX
                )
            )
        trail.update(obj, {"max_learners": after})
        result = AddContractSeatsResult(
            dry_run=dry_run,
            contract_id=obj.pk,
            contract=str(obj),
            seats_added=after - before,
            max_learners_before=before,
            max_learners_after=after,
            seats_used=seats_used_of(obj),
            reason=reason,
        )
        trail.result = result.as_dict()
    return result


def _locked_contract(pk: int) -> Contract:
    # Read under its row lock: its dates or limit cannot move while a repair follows them.
    return Contract.objects.select_for_update().select_related("organization").get(pk=pk)


def _named(value: Any) -> Any:
    """How the audit inputs name a code or contract: `ident`, without the control characters
    the database cannot keep."""
    named = ident(value)
    return escape_controls(named) if isinstance(named, str) else named


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
