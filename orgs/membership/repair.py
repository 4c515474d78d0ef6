"""repair_org_membership: apply the fixes the diagnosis names, in three phases, so that nobody
waits on Keycloak behind a database lock:

1. Read both sides and plan (`plan_fixes`), without a lock. A dry run stops here: it describes
   the plan, calls no Keycloak write and writes nothing but its audit row.
2. Keycloak's writes, in the table's order. One that fails stops the repair: the later ones
   are not attempted, nothing local is written, and the repair fails (`MembershipRepairFailed`)
   with its partial result and the notes of what Keycloak did kept in the audit row.
3. Lock the local rows, re-check the local fixes on what is there now, write them, and write
   the audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accounts.selectors import resolve_user
from orgs.membership.fixes import FIX_STEPS, WHY, FixStep, RepairContext, permission_for
from orgs.membership.inspect import (
    KeycloakStatus,
    MembershipState,
    inspect_membership,
    lock_local,
    with_sessions,
)
from orgs.membership.names import (
    ACTION_REPAIR,
    DONE,
    FAILED,
    PERM_KEYCLOAK,
    PERM_LOCAL,
    SKIPPED,
    VIEW_PERMISSION,
    WOULD_DO,
    Fix,
)
from orgs.models import Organization
from orgs.selectors import resolve_organization
from support_tools.actors import Actor
from support_tools.audit import ident, support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from support_tools.results import Repair

# Anyone who may see memberships sees the dry run; either permission lets an actor really run
# the repair, and each fix still needs its own (permission_for).
REPAIR_ORG_MEMBERSHIP = ActionSpec(
    ACTION_REPAIR, preview=VIEW_PERMISSION, apply=(PERM_LOCAL, PERM_KEYCLOAK)
)

UNKNOWN_FIX = "Unknown fix {fix!r}; the fixes are: {known}."
REPAIR_KEYCLOAK_DOWN = (
    "The repair needs Keycloak, which could not be checked, so nothing was changed: {detail}"
)
FIX_PERMISSION_DENIED = "You do not have the permission {perm} needed by the fix {fix}."
REPAIR_STOPPED = (
    "The repair stopped at {fix}, which Keycloak did not do: {detail} Done in Keycloak before "
    "it: {done}. Nothing was changed here; the audit trail keeps the details."
)
NOTHING_DONE = "nothing"
FAILED_BEFORE = "not attempted: {fix} failed first"
FAILED_BEFORE_LOCAL = (
    "not applied: {fix} failed in Keycloak, so the local database was left unchanged"
)


@dataclass(frozen=True)
class FixOutcome:
    fix: str
    status: str  # done, would_do (dry run), skipped, failed
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"fix": self.fix, "status": self.status, "message": self.message}


@dataclass(frozen=True)
class MembershipRepair(Repair):
    user: str
    organization: str
    dry_run: bool
    outcomes: tuple[FixOutcome, ...]
    keycloak_calls: tuple[str, ...]  # the Keycloak writes that succeeded, in order

    @property
    def changed(self) -> bool:
        return any(o.status in (DONE, WOULD_DO) for o in self.outcomes)

    @property
    def failed_fixes(self) -> list[str]:
        return [o.fix for o in self.outcomes if o.status == FAILED]

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "organization": self.organization,
            "failed_fixes": self.failed_fixes,
            "keycloak_calls": list(self.keycloak_calls),
            "results": [o.as_dict() for o in self.outcomes],
        }


class MembershipRepairFailed(SupportError):
    """Keycloak refused or did not answer part-way: every door reports a failure (HTTP 503).
    `result` is the partial repair, also kept in the audit row."""

    def __init__(self, result: MembershipRepair) -> None:
        failed = next(o for o in result.outcomes if o.status == FAILED)
        done = "; ".join(c.removeprefix("Keycloak: ") for c in result.keycloak_calls)
        super().__init__(
            REPAIR_STOPPED.format(fix=failed.fix, detail=failed.message, done=done or NOTHING_DONE),
            kind=ErrorKind.UNAVAILABLE,
        )
        self.result = result


def parse_fixes(fixes: Iterable[str] | None) -> list[Fix]:
    """The fixes asked for, in the repair's order; all of them when none is named."""
    if not fixes:
        return list(Fix)
    known = {f.value for f in Fix}
    for fix in fixes:
        if fix not in known:
            raise SupportError(UNKNOWN_FIX.format(fix=fix, known=", ".join(f.value for f in Fix)))
    return [f for f in Fix if f.value in set(fixes)]


def repair_org_membership(
    *,
    user: str | Any,
    organization: str | Organization,
    fixes: Iterable[str] | None = None,
    actor: Actor,
    dry_run: bool = False,
) -> MembershipRepair:
    named = list(fixes or [])
    inputs = {"user": ident(user), "organization": ident(organization), "fixes": named or "all"}
    with support_action(
        REPAIR_ORG_MEMBERSHIP, actor=actor, inputs=inputs, dry_run=dry_run
    ) as trail:
        wanted = parse_fixes(named)
        if named and not dry_run:
            _require_fix_permissions(actor, wanted)
        user_obj = resolve_user(user)
        trail.about(user_obj)
        org = resolve_organization(organization)
        trail.about(target=org)
        state = inspect_membership(user_obj, org)
        if state.keycloak_status == KeycloakStatus.UNREACHABLE:
            raise SupportError(
                REPAIR_KEYCLOAK_DOWN.format(detail=state.keycloak_detail),
                kind=ErrorKind.UNAVAILABLE,
            )
        plan = plan_fixes(state, wanted, actor, dry_run=dry_run)
        if any(item.runs and item.step.fix is Fix.END_SESSIONS for item in plan):
            state = with_sessions(state)
        if dry_run:
            outcomes, calls = _preview(plan, state), ()
        else:
            outcomes, calls = _apply(plan, RepairContext(state, trail))
        result = MembershipRepair(
            user=user_obj.username,
            organization=org.short_name,
            dry_run=dry_run,
            outcomes=outcomes,
            keycloak_calls=calls,
        )
        trail.result = result.as_dict()
        if result.failed_fixes:
            raise MembershipRepairFailed(result)
        trail.outcome = (
            SupportAction.Outcome.CHANGED if result.changed else SupportAction.Outcome.UNCHANGED
        )
    return result


# -- phase 1: the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedFix:
    step: FixStep
    skip: str | None  # why it does not run; None: it runs (or, in a dry run, would)
    permitted: bool  # the actor may apply it; a dry run shows it either way

    @property
    def runs(self) -> bool:
        return self.skip is None


def plan_fixes(
    state: MembershipState, wanted: list[Fix], actor: Actor, *, dry_run: bool
) -> tuple[PlannedFix, ...]:
    """Which of the wanted fixes run, and why the others do not: phase 1, which writes nothing
    and reads only `state` and the actor's permissions. A real run skips the fixes the actor may
    not apply; a dry run shows what they would do, and which permission applying them needs."""
    planned: set[Fix] = set()
    plan = []
    for step in FIX_STEPS:
        if step.fix not in wanted:
            continue
        permitted = actor.has_perm(step.permission)
        if not (permitted or dry_run):
            plan.append(PlannedFix(step, WHY["permission"].format(perm=step.permission), False))
            continue
        why = step.blocker(state, frozenset(planned))
        if why is None:
            planned.add(step.fix)
        plan.append(PlannedFix(step, why, permitted))
    return tuple(plan)


def _describe(item: PlannedFix, state: MembershipState) -> str:
    text = item.step.describe(state)
    if item.permitted:
        return text
    return WHY["apply_needs"].format(description=text, perm=item.step.permission)


def _require_fix_permissions(actor: Actor, wanted: list[Fix]) -> None:
    """A fix named for a real run needs its permission: refused rather than quietly skipped."""
    for fix in wanted:
        perm = permission_for(fix)
        if not actor.has_perm(perm):
            raise SupportError(
                FIX_PERMISSION_DENIED.format(perm=perm, fix=fix.value), kind=ErrorKind.PERMISSION
            )


# -- the dry run, or phases 2 and 3 ----------------------------------------------------------------


def _preview(plan: tuple[PlannedFix, ...], state: MembershipState) -> tuple[FixOutcome, ...]:
    return tuple(
        FixOutcome(item.step.fix.value, WOULD_DO, _describe(item, state))
        if item.runs
        else FixOutcome(item.step.fix.value, SKIPPED, item.skip)
        for item in plan
    )


def _apply(
    plan: tuple[PlannedFix, ...], ctx: RepairContext
) -> tuple[tuple[FixOutcome, ...], tuple[str, ...]]:
    """Phase 2, Keycloak's writes (the table's first fixes), then phase 3, the local ones."""
    local = [i for i in plan if not i.step.keycloak]
    outcomes, failed = _keycloak_phase([i for i in plan if i.step.keycloak], ctx)
    if failed is not None:
        why = FAILED_BEFORE_LOCAL.format(fix=failed)
        outcomes += [FixOutcome(i.step.fix.value, SKIPPED, i.skip or why) for i in local]
    elif any(i.runs for i in local):
        outcomes += _local_phase(local, ctx.on(lock_local(ctx.state)), _ran(plan))
    else:
        outcomes += [FixOutcome(i.step.fix.value, SKIPPED, i.skip) for i in local]
    return tuple(outcomes), tuple(ctx.keycloak_calls)


def _keycloak_phase(
    items: list[PlannedFix], ctx: RepairContext
) -> tuple[list[FixOutcome], str | None]:
    """No lock is held here. The first write Keycloak refuses or leaves unanswered stops the
    rest; returns the outcomes and the fix that failed, if one did."""
    outcomes: list[FixOutcome] = []
    failed = None
    for item in items:
        fix = item.step.fix.value
        if not item.runs:
            outcomes.append(FixOutcome(fix, SKIPPED, item.skip))
        elif failed is not None:
            outcomes.append(FixOutcome(fix, SKIPPED, FAILED_BEFORE.format(fix=failed)))
        else:
            try:
                outcomes.append(FixOutcome(fix, DONE, item.step.apply(ctx)))
            except SupportError as exc:
                if exc.kind != ErrorKind.UNAVAILABLE:
                    raise
                failed = fix
                outcomes.append(FixOutcome(fix, FAILED, exc.message))
    return outcomes, failed


def _local_phase(
    items: list[PlannedFix], ctx: RepairContext, ran: frozenset[Fix]
) -> list[FixOutcome]:
    """`ctx.state` holds the local side re-read under locks: each fix is checked again on it,
    since a concurrent repair may have done it while this one waited on Keycloak."""
    outcomes = []
    for item in items:
        why = item.skip or item.step.blocker(ctx.state, ran)
        if why is not None:
            outcomes.append(FixOutcome(item.step.fix.value, SKIPPED, why))
        else:
            outcomes.append(FixOutcome(item.step.fix.value, DONE, item.step.apply(ctx)))
    return outcomes


def _ran(plan: tuple[PlannedFix, ...]) -> frozenset[Fix]:
    return frozenset(item.step.fix for item in plan if item.runs)
