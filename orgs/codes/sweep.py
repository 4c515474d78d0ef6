"""The enrollment-code playbook's platform-wide selector: what `diagnose_code` would say of every
code, found contract by contract in batches of a constant number of queries.

- `code_dates_mismatch` (warning, fix `sync_code_dates`): one finding per code whose window
  differs from its contract's, as the diagnosis says it.
- What stops every code of a contract (`contract_inactive`, `contract_not_started`,
  `contract_ended`, `contract_full`, `organization_inactive`): one finding per contract, and
  only while some of its codes are still *outstanding*: redeemable by their own dates and not a
  used one-time code (the diagnosis would name the code's own problem first).
- `contract_nearly_full` (warning; the sweep's own code): a contract with a seat limit, not
  full, whose learners fill at least NEARLY_FULL_SHARE of it while more codes are outstanding
  than seats are free: some of the learners holding those codes will find it full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from orgs.codes.diagnosis import FIX_ADD_SEATS, FIX_SYNC_DATES, MSG, _window
from orgs.codes.selectors import (
    CONTRACT_ENDED,
    CONTRACT_FULL,
    CONTRACT_INACTIVE,
    CONTRACT_NOT_STARTED,
    ORGANIZATION_INACTIVE,
    contract_blockers,
)
from orgs.models import CodeRedemption, Contract, EnrollmentCode
from support_tools.results import error, format_when, warning
from support_tools.sweeps import DEFAULT_BATCH_SIZE, Finding, SweepStats, keyset_batches

PLAYBOOK = "codes"
CODE_DATES_MISMATCH = "code_dates_mismatch"
CONTRACT_NEARLY_FULL = "contract_nearly_full"
NEARLY_FULL_SHARE = 0.9
SWEEP_CODES = frozenset(
    {
        CODE_DATES_MISMATCH,
        CONTRACT_INACTIVE,
        CONTRACT_NOT_STARTED,
        CONTRACT_ENDED,
        CONTRACT_FULL,
        CONTRACT_NEARLY_FULL,
        ORGANIZATION_INACTIVE,
    }
)

OUTSTANDING = " {n} of its codes can still be redeemed by their own dates."
NEARLY_FULL = (
    "The contract {contract} is nearly full: {used} of {total} seats are used, and {n} of its "
    "codes can still be redeemed by their own dates, more than the {free} free seats."
)


def find_problems(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stats: SweepStats | None = None,
    now: dt.datetime | None = None,
) -> Iterator[Finding]:
    now = now or timezone.now()
    stats = stats if stats is not None else SweepStats()
    for ids in keyset_batches(_contracts_after, batch_size):
        stats.add("contracts", len(ids))
        yield from _check_batch(ids, now, stats)


def size() -> int:
    """What a sweep of this playbook checks, roughly: its contracts (each one's codes are
    counted in the database)."""
    return Contract.objects.count()


def _contracts_after(last: int, n: int) -> list[int]:
    ids = Contract.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)
    return list(ids[:n])


def _check_batch(ids: list[int], now: dt.datetime, stats: SweepStats) -> Iterator[Finding]:
    contracts = Contract.objects.select_related("organization").in_bulk(ids)
    in_batch = Q(contract_id__gte=ids[0], contract_id__lte=ids[-1])
    for code, contract_id, activation, expiration in (
        EnrollmentCode.objects.filter(in_batch)
        .filter(_differs("activation_date", "start") | _differs("expiration_date", "end"))
        .order_by("contract_id", "code")
        .values_list("code", "contract_id", "activation_date", "expiration_date")
    ):
        contract = contracts[contract_id]
        text = MSG[CODE_DATES_MISMATCH].format(
            code_window=_window(activation, expiration),
            contract_window=_window(contract.start, contract.end),
        )
        yield Finding.of(
            PLAYBOOK,
            warning(CODE_DATES_MISMATCH, text, FIX_SYNC_DATES),
            target=code,
            code=code,
            contract=contract_id,
            contract_name=str(contract),
        )
    outstanding = dict(
        _outstanding(now)
        .filter(in_batch)
        .values("contract_id")
        .annotate(n=Count("pk"))
        .values_list("contract_id", "n")
    )
    stats.add("outstanding_codes", sum(outstanding.values()))
    seats = dict(
        Contract.learners.through.objects.filter(contract_id__in=ids)
        .values("contract_id")
        .annotate(n=Count("pk"))
        .values_list("contract_id", "n")
    )
    for pk in ids:
        if outstanding.get(pk):
            yield from _contract_findings(contracts[pk], outstanding[pk], seats.get(pk, 0), now)


def _differs(code_field: str, contract_field: str) -> Q:
    """The code's date differs from its contract's, NULL being a value of its own (as in
    Python): `!=` alone is never true against NULL."""
    theirs = f"contract__{contract_field}"
    return (
        Q(**{f"{code_field}__isnull": True, f"{theirs}__isnull": False})
        | Q(**{f"{code_field}__isnull": False, f"{theirs}__isnull": True})
        | Q(**{f"{code_field}__lt": F(theirs)})
        | Q(**{f"{code_field}__gt": F(theirs)})
    )


def _outstanding(now: dt.datetime):  # noqa: ANN202 - a queryset of codes
    """Codes redeemable by their own dates that are not a used one-time code."""
    used = Exists(CodeRedemption.objects.filter(code=OuterRef("pk")))
    return (
        EnrollmentCode.objects.filter(Q(activation_date__isnull=True) | Q(activation_date__lte=now))
        .filter(Q(expiration_date__isnull=True) | Q(expiration_date__gt=now))
        .exclude(Q(redemption_type=EnrollmentCode.RedemptionType.ONE_TIME) & Q(used))
    )


def _contract_findings(
    contract: Contract, outstanding: int, used: int, now: dt.datetime
) -> Iterator[Finding]:
    facts = {"contract": contract, "org": contract.organization}
    facts |= {"used": used, "total": contract.max_learners}
    moments = {CONTRACT_NOT_STARTED: contract.start, CONTRACT_ENDED: contract.end}
    target = str(contract)
    blockers = contract_blockers(contract, at=now, seats_used=used)
    for blocker in blockers:
        moment = moments.get(blocker)
        text = MSG[blocker].format(**facts, when=format_when(moment) if moment else "")
        fix = FIX_ADD_SEATS if blocker == CONTRACT_FULL else None
        problem = error(blocker, text + OUTSTANDING.format(n=outstanding), fix)
        yield Finding.of(PLAYBOOK, problem, target=target, contract=contract.pk)
    total = contract.max_learners
    free = (total or 0) - used
    nearly = total and used >= NEARLY_FULL_SHARE * total and outstanding > free
    if nearly and CONTRACT_FULL not in blockers:
        text = NEARLY_FULL.format(**facts, n=outstanding, free=free)
        problem = warning(CONTRACT_NEARLY_FULL, text, FIX_ADD_SEATS)
        yield Finding.of(PLAYBOOK, problem, target=target, contract=contract.pk)
