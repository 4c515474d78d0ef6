"""repair_org_membership: apply the fixes the diagnosis names.

Order: the Keycloak calls first (delete the password, add the Keycloak membership, end the
sessions), then the local changes, all in one transaction with the audit row. A Keycloak call
that fails stops the repair there: the later Keycloak calls are not attempted, no local change is
made, and the audit row notes exactly the Keycloak calls that succeeded before it. A dry run reads
Keycloak but never calls its writing endpoints; its local changes are rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accounts.selectors import resolve_user
from orgs import keycloak
from orgs.membership import sessions
from orgs.membership.state import (
    ACTION_REPAIR,
    KEYCLOAK_FIXES,
    PERM_KEYCLOAK,
    PERM_LOCAL,
    Fix,
    KeycloakStatus,
    MembershipState,
    contracts_to_join,
    inspect_membership,
    permission_for,
)
from orgs.models import Contract, Organization, UserOrganizationMapping
from orgs.selectors import resolve_organization
from support_tools.actors import Actor
from support_tools.audit import AuditTrail, support_action
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec

# Each fix needs its own permission too (permission_for); either lets an actor run the repair.
REPAIR_ORG_MEMBERSHIP = ActionSpec(
    ACTION_REPAIR, preview="orgs.view_userorganizationmapping", apply=(PERM_LOCAL, PERM_KEYCLOAK)
)

UNKNOWN_FIX = "Unknown fix {fix!r}; the fixes are: {known}."
REPAIR_KEYCLOAK_DOWN = (
    "The repair needs Keycloak, which could not be checked, so nothing was changed: {detail}"
)
FIX_PERMISSION_DENIED = "You do not have the permission {perm} needed by the fix {fix}."

DONE, WOULD_DO, SKIPPED, FAILED = "done", "would_do", "skipped", "failed"

WHY = {
    "not_controlled": "the organization carries no SSO id, so Keycloak does not control it",
    "not_configured": "Keycloak is not configured here",
    "no_kc_user": "the learner has no Keycloak account",
    "no_kc_org": "no Keycloak organization could be identified",
    "no_idp": "the Keycloak organization has no identity provider, so a password blocks nothing",
    "no_password": "the learner has no Keycloak password",
    "has_idp": "the Keycloak organization has an identity provider ({idps}): the learner joins "
    "at their next sign-in through it",
    "already_member": "the learner is already a member of the Keycloak organization",
    "nothing_to_reconcile": "nothing was repaired, so the learner need not sign in again",
    "no_sessions": "the learner has no open session",
    "sso_found": "Keycloak knows the SSO id",
    "no_single_match": "not exactly one Keycloak organization matches by name",
    "sso_taken": "the organization {other} already carries the SSO id {sso_id}",
    "mapping_ok": "the learner's membership exists and is active",
    "no_mapping": "the learner has no membership here (create_local_membership creates it with "
    "keep-until-seen on)",
    "kc_reports": "Keycloak reports the membership, or it could not be checked",
    "keep_on": "keep-until-seen is already on",
    "contracts_ok": "the learner is in every active managed or automatic contract",
    "all_full": "every contract missing the learner is full: {contracts}",
    "permission": "needs the permission {perm}",
    "kc_failed_before": "not attempted: {fix} failed first",
    "kc_failed_local": "not applied: {fix} failed in Keycloak, so the local database was left "
    "unchanged",
}


@dataclass(frozen=True)
class FixOutcome:
    fix: str
    status: str  # done, would_do (dry run), skipped, failed
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"fix": self.fix, "status": self.status, "message": self.message}


@dataclass(frozen=True)
class MembershipRepair:
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "dry_run": self.dry_run,
            "user": self.user,
            "organization": self.organization,
            "failed_fixes": self.failed_fixes,
            "keycloak_calls": list(self.keycloak_calls),
            "results": [o.as_dict() for o in self.outcomes],
        }


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
    fixes = list(fixes or [])
    wanted = parse_fixes(fixes)
    inputs = {
        "user": _ident(user),
        "organization": _ident(organization),
        "fixes": [f.value for f in wanted] if fixes else "all",
    }
    with support_action(
        REPAIR_ORG_MEMBERSHIP, actor=actor, inputs=inputs, dry_run=dry_run
    ) as trail:
        _require_permissions(actor, wanted, explicit=bool(fixes))
        user_obj = resolve_user(user) if isinstance(user, str) else user
        trail.about(user_obj)
        org = resolve_organization(organization) if isinstance(organization, str) else organization
        org = Organization.objects.select_for_update().get(pk=org.pk)
        trail.about(target=org)
        state = inspect_membership(user_obj, org, lock=True)
        if state.keycloak_status == KeycloakStatus.UNREACHABLE:
            raise SupportError(
                REPAIR_KEYCLOAK_DOWN.format(detail=state.keycloak_detail),
                kind=ErrorKind.UNAVAILABLE,
            )
        result = _Repair(state, trail, actor, dry_run).run(wanted)
        trail.result = result.as_dict()
        if result.failed_fixes:  # stopped part-way; the notes say what Keycloak did before
            trail.outcome = SupportAction.Outcome.FAILED
    return result


def _require_permissions(actor: Actor, wanted: list[Fix], *, explicit: bool) -> None:
    """Named fixes each need their permission; by default the actor's fixes run, the others are
    skipped, and an actor with neither permission is refused."""
    if explicit:
        for fix in wanted:
            perm = permission_for(fix)
            if not actor.has_perm(perm):
                raise SupportError(
                    FIX_PERMISSION_DENIED.format(perm=perm, fix=fix.value),
                    kind=ErrorKind.PERMISSION,
                )
    elif not (actor.has_perm(PERM_LOCAL) or actor.has_perm(PERM_KEYCLOAK)):
        raise SupportError(
            PERMISSION_DENIED.format(action=ACTION_REPAIR), kind=ErrorKind.PERMISSION
        )


class _Repair:
    def __init__(
        self, state: MembershipState, trail: AuditTrail, actor: Actor, dry_run: bool
    ) -> None:
        self.state = state
        self.trail = trail
        self.actor = actor
        self.dry_run = dry_run
        self.user = state.user
        self.org = state.organization
        self.kc_org = state.effective_kc_org
        self.keycloak_calls: list[str] = []
        self._local_sessions: list[str] = []
        self._gateway: keycloak.KeycloakGateway | None = None

    @property
    def gw(self) -> keycloak.KeycloakGateway:
        if self._gateway is None:
            self._gateway = keycloak.gateway()
        return self._gateway

    def run(self, wanted: list[Fix]) -> MembershipRepair:
        plan: dict[Fix, str | None] = {}  # None: to do; else why it is skipped
        for fix in wanted:
            if fix is Fix.END_SESSIONS:
                continue
            perm = permission_for(fix)
            plan[fix] = (
                WHY["permission"].format(perm=perm)
                if not self.actor.has_perm(perm)
                else getattr(self, f"_why_not_{fix.value}")()
            )
        if Fix.END_SESSIONS in wanted:
            others = any(why is None for why in plan.values())
            perm = permission_for(Fix.END_SESSIONS)
            plan[Fix.END_SESSIONS] = (
                WHY["permission"].format(perm=perm)
                if not self.actor.has_perm(perm)
                else self._why_not_end_sessions(others)
            )

        outcomes: dict[Fix, FixOutcome] = {}
        failed: Fix | None = None
        for fix in [f for f in Fix if f in plan]:
            why = plan[fix]
            if why is not None:
                outcomes[fix] = FixOutcome(fix.value, SKIPPED, why)
            elif failed is not None:
                key = "kc_failed_before" if fix in KEYCLOAK_FIXES else "kc_failed_local"
                outcomes[fix] = FixOutcome(fix.value, SKIPPED, WHY[key].format(fix=failed.value))
            elif fix in KEYCLOAK_FIXES and self.dry_run:
                outcomes[fix] = FixOutcome(fix.value, WOULD_DO, self._describe(fix))
            else:
                try:
                    message = getattr(self, f"_do_{fix.value}")()
                except SupportError as exc:
                    if fix not in KEYCLOAK_FIXES or exc.kind != ErrorKind.UNAVAILABLE:
                        raise
                    failed = fix
                    outcomes[fix] = FixOutcome(fix.value, FAILED, exc.message)
                    continue
                if self.dry_run:  # the same code ran, and its writes will be rolled back
                    outcomes[fix] = FixOutcome(fix.value, WOULD_DO, self._describe(fix))
                else:
                    outcomes[fix] = FixOutcome(fix.value, DONE, message)
        return MembershipRepair(
            user=self.user.username,
            organization=self.org.short_name,
            dry_run=self.dry_run,
            outcomes=tuple(outcomes[f] for f in Fix if f in outcomes),
            keycloak_calls=tuple(self.keycloak_calls),
        )

    # -- Keycloak's side ---------------------------------------------------------------------

    def _keycloak_blocker(self) -> str | None:
        status = self.state.keycloak_status
        if status == KeycloakStatus.NOT_CONTROLLED:
            return WHY["not_controlled"]
        if status == KeycloakStatus.NOT_CONFIGURED:
            return WHY["not_configured"]
        if self.state.kc_user is None:
            return WHY["no_kc_user"]
        if self.kc_org is None:
            return WHY["no_kc_org"]
        return None

    def _why_not_delete_password(self) -> str | None:
        if blocker := self._keycloak_blocker():
            return blocker
        if not self.state.identity_providers:
            return WHY["no_idp"]
        if not self.state.passwords:
            return WHY["no_password"]
        return None

    def _do_delete_password(self) -> str:
        kc_user = self.state.kc_user
        for credential in self.state.passwords:
            self.gw.delete_credential(kc_user.id, credential.id)
            self._note(
                f"Keycloak: deleted the password credential {credential.id} of the user "
                f"{kc_user.username} ({kc_user.id})"
            )
        return f"deleted {self.user.username}'s Keycloak password"

    def _why_not_add_keycloak_membership(self) -> str | None:
        if blocker := self._keycloak_blocker():
            return blocker
        if self.state.kc_member:
            return WHY["already_member"]
        if self.state.identity_providers:
            return WHY["has_idp"].format(idps=", ".join(self.state.identity_providers))
        return None

    def _do_add_keycloak_membership(self) -> str:
        kc_user = self.state.kc_user
        self.gw.add_member(self.kc_org.id, kc_user.id)
        self._note(
            f"Keycloak: added the user {kc_user.username} ({kc_user.id}) to the organization "
            f"{self.kc_org.name} ({self.kc_org.id})"
        )
        return f"added {self.user.username} to the Keycloak organization {self.kc_org.name}"

    def _why_not_end_sessions(self, others: bool) -> str | None:
        if not (others or self.state.relogin_pending):
            return WHY["nothing_to_reconcile"]
        self._local_sessions = sessions.session_keys_of(self.user)
        if not (self._local_sessions or self.state.kc_sessions):
            return WHY["no_sessions"]
        return None

    def _do_end_sessions(self) -> str:
        kc_user = self.state.kc_user
        if self.state.kc_sessions and kc_user is not None:
            self.gw.end_sessions(kc_user.id)
            self._note(
                f"Keycloak: ended the {self.state.kc_sessions} session(s) of the user "
                f"{kc_user.username} ({kc_user.id})"
            )
        if self._local_sessions:
            count = sessions.delete_sessions(self._local_sessions)
            self.trail.deleted("sessions.Session", {"user": self.user.username, "count": count})
        return (
            f"ended {self.user.username}'s sessions (Keycloak: {self.state.kc_sessions or 0}, "
            f"local: {len(self._local_sessions)}): their next login reconciles the membership"
        )

    # -- the local side ----------------------------------------------------------------------

    def _why_not_correct_sso_id(self) -> str | None:
        if self.state.keycloak_status != KeycloakStatus.CHECKED:
            return self._keycloak_blocker()
        if self.state.kc_org is not None:
            return WHY["sso_found"]
        if len(self.state.candidates) != 1:
            return WHY["no_single_match"]
        other = (
            Organization.objects.filter(sso_organization_id=self.state.candidates[0].id)
            .exclude(pk=self.org.pk)
            .first()
        )
        if other is not None:
            return WHY["sso_taken"].format(other=other.short_name, sso_id=other.sso_organization_id)
        return None

    def _do_correct_sso_id(self) -> str:
        before = self.org.sso_organization_id
        self.org.sso_organization_id = self.kc_org.id
        self.org.save(update_fields=["sso_organization_id"])
        self.trail.changed(self.org, "sso_organization_id", before, self.kc_org.id)
        return f"set {self.org.short_name}'s SSO id to {self.kc_org.id} ({self.kc_org.name})"

    def _why_not_create_local_membership(self) -> str | None:
        mapping = self.state.mapping
        return WHY["mapping_ok"] if mapping is not None and mapping.is_active else None

    def _do_create_local_membership(self) -> str:
        # In a Keycloak-controlled organization a hand-made membership is kept until Keycloak
        # reports it; otherwise the next login would remove it again.
        keep = self.state.controlled and self.state.kc_member is not True
        mapping = self.state.mapping
        if mapping is None:
            mapping = UserOrganizationMapping.objects.create(
                user=self.user, organization=self.org, is_active=True, keep_until_seen=keep
            )
            self.trail.created(
                mapping,
                {"user": self.user, "organization": self.org, "keep_until_seen": keep},
            )
            return f"created {self.user.username}'s membership of {self.org.short_name}" + (
                " with keep-until-seen on" if keep else ""
            )
        fields = ["is_active"] + (
            ["keep_until_seen"] if keep and not mapping.keep_until_seen else []
        )
        for name in fields:
            self.trail.changed(mapping, name, getattr(mapping, name), True)
            setattr(mapping, name, True)
        mapping.save(update_fields=fields)
        return f"reactivated {self.user.username}'s membership of {self.org.short_name}" + (
            " with keep-until-seen on" if "keep_until_seen" in fields else ""
        )

    def _why_not_keep_until_seen(self) -> str | None:
        mapping = self.state.mapping
        if mapping is None or not mapping.is_active:
            return WHY["no_mapping"]
        if mapping.keep_until_seen:
            return WHY["keep_on"]
        if self.state.kc_member is not False:
            return WHY["kc_reports"]
        return None

    def _do_keep_until_seen(self) -> str:
        mapping = self.state.mapping
        self.trail.changed(mapping, "keep_until_seen", False, True)
        mapping.keep_until_seen = True
        mapping.save(update_fields=["keep_until_seen"])
        return f"turned keep-until-seen on for {self.user.username}'s membership"

    def _why_not_add_contract_memberships(self) -> str | None:
        if not self.state.missing_contracts:
            return WHY["contracts_ok"]
        if not self._joinable_contracts():
            return WHY["all_full"].format(
                contracts=", ".join(c.name for c in self.state.missing_contracts)
            )
        return None

    def _joinable_contracts(self) -> list[Contract]:
        ids = [c.pk for c in self.state.missing_contracts]
        contracts = contracts_to_join(self.org).filter(pk__in=ids).select_for_update()
        return [c for c in contracts if not c.max_learners or c.learners.count() < c.max_learners]

    def _do_add_contract_memberships(self) -> str:
        joined = self._joinable_contracts()
        for contract in joined:
            contract.learners.add(self.user)
            self.trail.created("orgs.Contract_learners", {"contract": contract, "user": self.user})
        full = [c.name for c in self.state.missing_contracts if c not in joined]
        message = f"added {self.user.username} to " + ", ".join(c.name for c in joined)
        return message + (f"; not to the full {', '.join(full)}" if full else "")

    # -- wording -----------------------------------------------------------------------------

    def _note(self, text: str) -> None:
        self.keycloak_calls.append(text)
        self.trail.note(text)

    def _describe(self, fix: Fix) -> str:
        """What a dry run would do."""
        user = self.user.username
        kc_org = self.kc_org.name if self.kc_org else ""
        text = {
            Fix.DELETE_PASSWORD: f"delete {user}'s Keycloak password, so the identity provider "
            "signs them in",
            Fix.ADD_KEYCLOAK_MEMBERSHIP: f"add {user} to the Keycloak organization {kc_org}",
            Fix.END_SESSIONS: f"end {user}'s sessions (Keycloak: {self.state.kc_sessions or 0}, "
            f"local: {len(self._local_sessions)}) so their next login reconciles",
            Fix.CORRECT_SSO_ID: f"set {self.org.short_name}'s SSO id to {kc_org} "
            f"({self.kc_org.id if self.kc_org else ''})",
            Fix.KEEP_UNTIL_SEEN: f"turn keep-until-seen on for {user}'s membership",
            Fix.CREATE_LOCAL_MEMBERSHIP: f"create or reactivate {user}'s membership of "
            f"{self.org.short_name}"
            + (" with keep-until-seen on" if self.state.controlled else ""),
            Fix.ADD_CONTRACT_MEMBERSHIPS: f"add {user} to the contracts "
            + ", ".join(c.name for c in self.state.missing_contracts),
        }[fix]
        return "would " + text


def _ident(value: Any) -> str:
    if isinstance(value, str):
        return value
    return getattr(value, "short_name", None) or value.get_username()
