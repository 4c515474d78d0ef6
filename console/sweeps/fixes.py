"""Fixing findings in bulk: each through the playbook service the console's fix button runs,
one service call (its own transaction and audit row, about the learner) per learner and fix.

Findings are grouped into calls: a learner's AMC token problems are one `ensure_amc_token`, a
learner's membership problems in one organization one `repair_org_membership` naming exactly
their fixes, a contract's stale codes one `sync_code_dates` of the contract. A call that fails
is reported with its sentence and the others go on. Findings whose fix is none, or not one to
run in bulk, are left and listed with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from enrollments.linking.service import LINK_PROGRAM_ENROLLMENTS, link_program_enrollments
from orgs.amc import ENSURE_AMC_ADMIN, ENSURE_AMC_TOKEN, ensure_amc_admin, ensure_amc_token
from orgs.codes import SYNC_CODE_DATES, sync_code_dates
from orgs.membership import REPAIR_ORG_MEMBERSHIP, Fix, permission_for, repair_org_membership
from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError
from support_tools.permissions import ActionSpec
from support_tools.sweeps import Finding

User = get_user_model()

FIX_PERMISSION_DENIED = (
    "You do not have the permission {perm} that {fix} needs: nothing was fixed. Ask for it, or "
    "fix only the other problems."
)
NO_REPAIR = "The diagnosis names no repair for this problem; its message says what to do."
NOT_IN_BULK = {
    "add_contract_seats": "adding seats is a commercial decision, with a number of seats and a "
    "reason: use the contract's Add seats page.",
    "correct_sso_id": "it changes the organization's SSO id: check the Keycloak organization it "
    "names, then run it from one learner's membership repair.",
    "end_sessions": "it signs the learner out: run it from the learner's membership repair.",
}
LEFT = "Not fixed in bulk: {why}"
LINK_ROW_ERROR = "error"  # a row's status in link_program_enrollments' JSON (CONTRACT.md)
UNEXPECTED = "An unexpected error stopped {fix} ({detail}); it is recorded in the audit trail."

# What became of one call (or of a finding left alone).
CHANGED, WOULD_CHANGE, UNCHANGED, FAILED, LEFT_ALONE = (
    "changed",
    "would_change",
    "unchanged",
    "failed",
    "left",
)


@dataclass(frozen=True)
class FixOutcome:
    fix: str | None
    user: str | None
    target: str
    codes: tuple[str, ...]  # the problem codes it was run for
    findings: int
    status: str
    message: str

    @property
    def changed(self) -> bool:
        return self.status in (CHANGED, WOULD_CHANGE)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fix": self.fix,
            "user": self.user,
            "target": self.target,
            "codes": list(self.codes),
            "findings": self.findings,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class BulkFix:
    spec: ActionSpec  # the service's: its apply permissions are checked before any call
    key: Callable[[Finding], tuple[Any, ...]]  # findings with the same key are one call
    run: Callable[[list[Finding], Actor, bool], Any]  # returns the service's Repair
    permission: Callable[[str], str] | None = None  # a fix's own permission, if it has one
    target: Callable[[list[Finding]], str] | None = None  # what the call is about, if not
    # its first finding's target


def _user(finding: Finding) -> Any:
    # by primary key: a username may look like another learner's email address
    return User.objects.get(pk=finding.user_id)


def _amc(service: Callable[..., Any]) -> Callable[[list[Finding], Actor, bool], Any]:
    def run(found: list[Finding], actor: Actor, dry_run: bool) -> Any:
        first = found[0]
        org = first.subject_dict()["organization"]
        return service(user=_user(first), organization=org, actor=actor, dry_run=dry_run)

    return run


def _sync_dates(found: list[Finding], actor: Actor, dry_run: bool) -> Any:
    contract = found[0].subject_dict()["contract"]
    return sync_code_dates(contract=contract, actor=actor, dry_run=dry_run)


def _link(found: list[Finding], actor: Actor, dry_run: bool) -> Any:
    first = found[0]
    subject = first.subject_dict()
    pairs = [(subject["external_user_key"], first.username)]
    return link_program_enrollments(
        program_uuid=subject["program_uuid"], pairs=pairs, actor=actor, dry_run=dry_run
    )


def _membership(found: list[Finding], actor: Actor, dry_run: bool) -> Any:
    first = found[0]
    return repair_org_membership(
        user=_user(first),
        organization=first.subject_dict()["organization"],
        fixes=sorted({f.fix for f in found if f.fix}),
        actor=actor,
        dry_run=dry_run,
    )


def _per_learner(f: Finding) -> tuple[Any, ...]:
    return (f.fix, f.user_id, f.subject_dict().get("organization"))


def _per_membership(f: Finding) -> tuple[Any, ...]:
    return ("membership", f.user_id, f.subject_dict().get("organization"))


BULK_FIXES: dict[str, BulkFix] = {
    "ensure_amc_token": BulkFix(ENSURE_AMC_TOKEN, _per_learner, _amc(ensure_amc_token)),
    "ensure_amc_admin": BulkFix(ENSURE_AMC_ADMIN, _per_learner, _amc(ensure_amc_admin)),
    "sync_code_dates": BulkFix(
        SYNC_CODE_DATES,
        lambda f: ("codes", f.subject_dict()["contract"]),
        _sync_dates,
        target=lambda found: (
            f"{found[0].subject_dict().get('contract_name', '')} "
            f"({len(found)} code{'s' if len(found) > 1 else ''})"
        ),
    ),
    "link_program_enrollments": BulkFix(
        LINK_PROGRAM_ENROLLMENTS,
        lambda f: ("link", f.user_id, f.subject_dict()["program_uuid"]),
        _link,
    ),
    **{
        fix.value: BulkFix(
            REPAIR_ORG_MEMBERSHIP,
            _per_membership,
            _membership,
            permission=lambda name: permission_for(Fix(name)),
        )
        for fix in (
            Fix.DELETE_PASSWORD,
            Fix.ADD_KEYCLOAK_MEMBERSHIP,
            Fix.CREATE_LOCAL_MEMBERSHIP,
            Fix.KEEP_UNTIL_SEEN,
            Fix.ADD_CONTRACT_MEMBERSHIPS,
        )
    },
}
# The permissions of every bulk fix: who holds one of them is offered Apply on the Health page.
FIX_PERMISSIONS = tuple(sorted({p for bulk in BULK_FIXES.values() for p in bulk.spec.apply}))


@dataclass(frozen=True)
class FixCall:
    fix: str
    findings: list[Finding]
    bulk: BulkFix


def plan_fixes(findings: Iterable[Finding]) -> tuple[list[FixCall], list[FixOutcome]]:
    """The service calls that fix `findings`, in the order found, and the findings left."""
    calls: dict[tuple[Any, ...], FixCall] = {}
    left = []
    for finding in findings:
        bulk = BULK_FIXES.get(finding.fix or "")
        if bulk is None:
            why = NOT_IN_BULK.get(finding.fix or "", NO_REPAIR)
            left.append(_outcome(finding.fix, [finding], LEFT_ALONE, LEFT.format(why=why)))
            continue
        key = bulk.key(finding)
        if key in calls:
            calls[key].findings.append(finding)
        else:
            calls[key] = FixCall(finding.fix or "", [finding], bulk)
    return list(calls.values()), left


def require_permissions(fixes: Iterable[str | None], actor: Actor) -> None:
    """A real run is refused up front when the actor may not apply one of its fixes."""
    for fix in dict.fromkeys(fixes):
        bulk = BULK_FIXES.get(fix or "")
        if bulk is None:
            continue  # left alone: no permission needed to leave it
        perms = [bulk.permission(fix)] if bulk.permission else list(bulk.spec.apply)
        if not any(actor.has_perm(p) for p in perms):
            raise SupportError(
                FIX_PERMISSION_DENIED.format(perm=" or ".join(perms), fix=fix),
                kind=ErrorKind.PERMISSION,
            )


def run_call(call: FixCall, actor: Actor, *, dry_run: bool) -> FixOutcome:
    fix = call.fix if call.bulk.permission is None else "repair_org_membership"
    try:
        result = call.bulk.run(call.findings, actor, dry_run)
    except SupportError as exc:
        return _outcome(fix, call.findings, FAILED, exc.message, call.bulk)
    except Exception as exc:  # noqa: BLE001 - one learner's failure must not stop the others
        text = UNEXPECTED.format(fix=fix, detail=type(exc).__name__)
        return _outcome(fix, call.findings, FAILED, text, call.bulk)
    data = result.as_dict()
    # a link sheet's row error is that learner's failure (the call itself went through)
    failed = [r for r in data.get("results", []) if r.get("status") == LINK_ROW_ERROR]
    if failed:
        return _outcome(fix, call.findings, FAILED, failed[0].get("message", ""), call.bulk)
    status = (WOULD_CHANGE if dry_run else CHANGED) if result.changed else UNCHANGED
    return _outcome(fix, call.findings, status, _describe(data), call.bulk)


def _describe(data: dict[str, Any]) -> str:
    """The service's JSON in one line, for the outcome's list."""
    if "codes_updated" in data:
        done, of = data["codes_updated"], data["codes_checked"]
        return f"{done} of {of} codes take the contract's dates."
    if "access_token" in data:
        said = {True: "created", False: "kept"}
        return (
            f"access token {said[data['access_token']['created']]}, refresh token "
            f"{said[data['refresh_token']['created']]}, AMC account "
            f"{'updated' if data['amc_account']['updated'] else 'unchanged'}."
        )
    if "mappings" in data:
        m = data["mappings"]
        return f"organization mapping {m['organization']}, site mapping {m['site']}."
    results = data.get("results") or []
    if results and "fix" in results[0]:
        return "; ".join(f"{r['fix']}: {r['status']}" for r in results)
    if results:
        return str(results[0].get("message", ""))
    return ""


def _outcome(
    fix: str | None, found: list[Finding], status: str, message: str, bulk: BulkFix | None = None
) -> FixOutcome:
    first = found[0]
    return FixOutcome(
        fix=fix,
        user=first.username,
        target=bulk.target(found) if bulk and bulk.target else first.target,
        codes=tuple(dict.fromkeys(f.code for f in found)),
        findings=len(found),
        status=status,
        message=message,
    )
