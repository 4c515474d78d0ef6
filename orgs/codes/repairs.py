"""The enrollment-code repairs: each one support action, one transaction, one audit row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from orgs.codes.selectors import identify, resolve_code, resolve_contract
from orgs.models import Contract, EnrollmentCode
from support_tools.actors import Actor
from support_tools.audit import support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.permissions import ActionSpec

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
class SyncCodeDatesResult:
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "dry_run": self.dry_run,
            "contract": {"id": self.contract_id, "name": self.contract},
            "activation_date": _iso(self.start),
            "expiration_date": _iso(self.end),
            "codes_checked": self.codes_checked,
            "codes_updated": len(self.updated),
            "results": [change.as_dict() for change in self.updated],
        }


@dataclass(frozen=True)
class AddContractSeatsResult:
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "dry_run": self.dry_run,
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
    inputs = {
        "code": identify(code) if code is not None else None,
        "contract": identify(contract) if contract is not None else None,
    }
    with support_action(SYNC_CODE_DATES, actor=actor, inputs=inputs, dry_run=dry_run) as trail:
        if (code is None) == (contract is None) or (code == "" or contract == ""):
            raise SupportError(SYNC_TARGET_REQUIRED)
        if code is not None:
            code_obj = resolve_code(code)
            trail.about(target=code_obj)
            codes = EnrollmentCode.objects.filter(pk=code_obj.pk)
            contract_id = code_obj.contract_id
        else:
            contract_obj = resolve_contract(contract)
            trail.about(target=contract_obj)
            codes = EnrollmentCode.objects.filter(contract=contract_obj)
            contract_id = contract_obj.pk
        # The contract's dates are read under its lock, so they cannot move while codes follow.
        locked = Contract.objects.select_for_update().select_related("organization")
        contract_obj = locked.get(pk=contract_id)
        start, end = contract_obj.start, contract_obj.end
        aligned = Q(activation_date=start) if start else Q(activation_date__isnull=True)
        aligned &= Q(expiration_date=end) if end else Q(expiration_date__isnull=True)
        stale = codes.exclude(aligned).select_for_update().order_by("pk")
        updated = []
        for pk, text, before_start, before_end in stale.values_list(
            "pk", "code", "activation_date", "expiration_date"
        ):
            label = f"{EnrollmentCode._meta.label}#{pk}"
            if before_start != start:
                trail.changed(label, "activation_date", before_start, start)
            if before_end != end:
                trail.changed(label, "expiration_date", before_end, end)
            updated.append(CodeWindowChange(text, before_start, before_end))
        if updated:
            codes.exclude(aligned).update(activation_date=start, expiration_date=end)
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
        "contract": identify(contract),
        "seats": seats,
        "reason": reason,
        "expected_max_learners": expected_max_learners,
    }
    with support_action(ADD_CONTRACT_SEATS, actor=actor, inputs=inputs, dry_run=dry_run) as trail:
        if isinstance(seats, bool) or not isinstance(seats, int) or seats <= 0:
            raise SupportError(SEATS_INVALID.format(seats=seats))
        reason = (reason or "").strip()
        if not reason:
            raise SupportError(REASON_REQUIRED)
        found = resolve_contract(contract)
        obj = Contract.objects.select_for_update().select_related("organization").get(pk=found.pk)
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
        if after != before:
            obj.max_learners = after
            obj.save(update_fields=["max_learners"])
            trail.changed(obj, "max_learners", before, after)
        result = AddContractSeatsResult(
            dry_run=dry_run,
            contract_id=obj.pk,
            contract=str(obj),
            seats_added=after - before,
            max_learners_before=before,
            max_learners_after=after,
            seats_used=obj.learners.count(),
            reason=reason,
        )
        trail.result = result.as_dict()
    return result


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
