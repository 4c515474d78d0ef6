"""The fix table: every fix of the repair, read top to bottom in the order it runs.

Each `FixStep` names its permission, whether it calls Keycloak (those run first, before any
lock is taken), and three plain functions: `blocker(state, planned)` says why the fix is not
needed or cannot run (None: run it) and is pure; `describe(state)` says what a dry run would
do; `apply(ctx)` does it and says what it did.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from orgs import keycloak
from orgs.membership import sessions
from orgs.membership.inspect import KeycloakStatus, MembershipState
from orgs.membership.names import PERM_KEYCLOAK, PERM_LOCAL, RELOGIN_FIXES, Fix
from orgs.models import UserOrganizationMapping
from support_tools.audit import AuditTrail

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
    "nothing_to_reconcile": "no Keycloak change waits for the learner's next sign-in",
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
    "apply_needs": "{description}; applying it needs the permission {perm}",
}

Blocker = Callable[[MembershipState, frozenset[Fix]], str | None]


@dataclass
class RepairContext:
    """What a fix works with: the state it was planned on (re-read under locks for the local
    fixes), the audit trail, and the Keycloak writes done so far."""

    state: MembershipState
    trail: AuditTrail
    keycloak_calls: list[str] = field(default_factory=list)
    _gateway: keycloak.KeycloakGateway | None = None

    @property
    def gateway(self) -> keycloak.KeycloakGateway:
        if self._gateway is None:
            self._gateway = keycloak.gateway()
        return self._gateway

    def note(self, text: str) -> None:
        """A Keycloak write that succeeded: for the result and the audit row."""
        self.keycloak_calls.append(text)
        self.trail.note(text)

    def on(self, state: MembershipState) -> RepairContext:
        return replace(self, state=state)


@dataclass(frozen=True)
class FixStep:
    fix: Fix
    permission: str
    keycloak: bool  # calls Keycloak: runs before the local phase and its locks
    blocker: Blocker  # `planned`: the fixes before this one that will run
    describe: Callable[[MembershipState], str]
    apply: Callable[[RepairContext], str]


# -- Keycloak's side ---------------------------------------------------------------------------


def _keycloak_blocker(state: MembershipState) -> str | None:
    if state.keycloak_status == KeycloakStatus.NOT_CONTROLLED:
        return WHY["not_controlled"]
    if state.keycloak_status == KeycloakStatus.NOT_CONFIGURED:
        return WHY["not_configured"]
    if state.kc_user is None:
        return WHY["no_kc_user"]
    if state.effective_kc_org is None:
        return WHY["no_kc_org"]
    return None


def _delete_password_blocker(state: MembershipState, planned: frozenset[Fix]) -> str | None:
    if blocker := _keycloak_blocker(state):
        return blocker
    if not state.identity_providers:
        return WHY["no_idp"]
    if not state.passwords:
        return WHY["no_password"]
    return None


def _delete_password(ctx: RepairContext) -> str:
    kc_user = ctx.state.kc_user
    for credential in ctx.state.passwords:
        ctx.gateway.delete_credential(kc_user.id, credential.id)
        ctx.note(
            f"Keycloak: deleted the password credential {credential.id} of the user "
            f"{kc_user.username} ({kc_user.id})"
        )
    return f"deleted {ctx.state.user.username}'s Keycloak password"


def _add_keycloak_membership_blocker(state: MembershipState, planned: frozenset[Fix]) -> str | None:
    if blocker := _keycloak_blocker(state):
        return blocker
    if state.kc_member:
        return WHY["already_member"]
    if state.identity_providers:
        return WHY["has_idp"].format(idps=", ".join(state.identity_providers))
    return None


def _add_keycloak_membership(ctx: RepairContext) -> str:
    kc_user, kc_org = ctx.state.kc_user, ctx.state.effective_kc_org
    ctx.gateway.add_member(kc_org.id, kc_user.id)
    ctx.note(
        f"Keycloak: added the user {kc_user.username} ({kc_user.id}) to the organization "
        f"{kc_org.name} ({kc_org.id})"
    )
    return f"added {ctx.state.user.username} to the Keycloak organization {kc_org.name}"


def _end_sessions_blocker(state: MembershipState, planned: frozenset[Fix]) -> str | None:
    # Only a sign-in reconciles a Keycloak-controlled membership; nothing else needs one.
    if not state.controlled:
        return WHY["not_controlled"]
    if not (planned & RELOGIN_FIXES or state.relogin_pending):
        return WHY["nothing_to_reconcile"]
    return None


def _sessions_text(state: MembershipState) -> str:
    return f"Keycloak: {state.kc_sessions or 0}, local: {len(state.local_sessions)}"


def _describe_end_sessions(state: MembershipState) -> str:
    user = state.user.username
    if not (state.kc_sessions or state.local_sessions):
        return f"would record that {user} has no open session, so their next visit is a sign-in"
    return f"would end {user}'s sessions ({_sessions_text(state)}) so their next login reconciles"


def _end_sessions(ctx: RepairContext) -> str:
    state, user = ctx.state, ctx.state.user
    if state.kc_sessions and state.kc_user is not None:
        ctx.gateway.end_sessions(state.kc_user.id)
        ctx.note(
            f"Keycloak: ended the {state.kc_sessions} session(s) of the user "
            f"{state.kc_user.username} ({state.kc_user.id})"
        )
    if state.local_sessions:
        count = sessions.delete_sessions(list(state.local_sessions))
        ctx.trail.deleted("sessions.Session", {"user": user.username, "count": count})
    if state.relogin_pending:
        # What the next diagnosis reads: with no session left, relogin_required is cleared.
        where = f"{user.username} at {state.organization.short_name}"
        ctx.trail.changed(where, "relogin_required", True, False)
    if not (state.kc_sessions or state.local_sessions):
        return f"{user.username} has no open session: their next visit is a sign-in"
    return (
        f"ended {user.username}'s sessions ({_sessions_text(state)}): their next login "
        "reconciles the membership"
    )


# -- the local side ----------------------------------------------------------------------------


def _correct_sso_id_blocker(state: MembershipState, planned: frozenset[Fix]) -> str | None:
    if state.keycloak_status != KeycloakStatus.CHECKED:
        return _keycloak_blocker(state)
    candidate = state.single_candidate
    if state.kc_org is not None or (
        candidate is not None and str(state.organization.sso_organization_id) == candidate.id
    ):
        return WHY["sso_found"]
    if candidate is None:
        return WHY["no_single_match"]
    if state.sso_id_taken_by is not None:
        return WHY["sso_taken"].format(other=state.sso_id_taken_by, sso_id=candidate.id)
    return None


def _correct_sso_id(ctx: RepairContext) -> str:
    org, kc_org = ctx.state.organization, ctx.state.single_candidate
    ctx.trail.update(org, {"sso_organization_id": uuid.UUID(kc_org.id)})
    return f"set {org.short_name}'s SSO id to {kc_org.id} ({kc_org.name})"


def _create_local_membership_blocker(state: MembershipState, planned: frozenset[Fix]) -> str | None:
    mapping = state.mapping
    return WHY["mapping_ok"] if mapping is not None and mapping.is_active else None


def _keeps(state: MembershipState) -> bool:
    # In a Keycloak-controlled organization a hand-made membership is kept until Keycloak
    # reports it; otherwise the next login would remove it again.
    return state.controlled and state.kc_member is not True


def _create_local_membership(ctx: RepairContext) -> str:
    state, user, org = ctx.state, ctx.state.user.username, ctx.state.organization
    keep = _keeps(state)
    if state.mapping is None:
        mapping = UserOrganizationMapping.objects.create(
            user=state.user, organization=org, is_active=True, keep_until_seen=keep
        )
        ctx.trail.created(
            mapping, {"user": state.user, "organization": org, "keep_until_seen": keep}
        )
        verb = "created"
    else:
        wanted: dict[str, Any] = {"is_active": True} | ({"keep_until_seen": True} if keep else {})
        keep = "keep_until_seen" in ctx.trail.update(state.mapping, wanted)
        verb = "reactivated"
    return f"{verb} {user}'s membership of {org.short_name}" + (
        " with keep-until-seen on" if keep else ""
    )


def _keep_until_seen_blocker(state: MembershipState, planned: frozenset[Fix]) -> str | None:
    mapping = state.mapping
    if mapping is None or not mapping.is_active:
        return WHY["no_mapping"]
    if mapping.keep_until_seen:
        return WHY["keep_on"]
    if state.kc_member is not False:
        return WHY["kc_reports"]
    return None


def _keep_until_seen(ctx: RepairContext) -> str:
    ctx.trail.update(ctx.state.mapping, {"keep_until_seen": True})
    return f"turned keep-until-seen on for {ctx.state.user.username}'s membership"


def _add_contract_memberships_blocker(
    state: MembershipState, planned: frozenset[Fix]
) -> str | None:
    if not state.missing_contracts:
        return WHY["contracts_ok"]
    if not state.joinable_contracts:
        return WHY["all_full"].format(contracts=", ".join(c.name for c in state.missing_contracts))
    return None


def _add_contract_memberships(ctx: RepairContext) -> str:
    state = ctx.state
    for contract in state.joinable_contracts:
        contract.learners.add(state.user)
        ctx.trail.created("orgs.Contract_learners", {"contract": contract, "user": state.user})
    full = [c.name for c in state.missing_contracts if c.pk in state.full_contracts]
    message = f"added {state.user.username} to " + ", ".join(
        c.name for c in state.joinable_contracts
    )
    return message + (f"; not to the full {', '.join(full)}" if full else "")


# -- the table ---------------------------------------------------------------------------------

FIX_STEPS: tuple[FixStep, ...] = (
    FixStep(
        Fix.DELETE_PASSWORD,
        PERM_KEYCLOAK,
        keycloak=True,
        blocker=_delete_password_blocker,
        describe=lambda s: (
            f"would delete {s.user.username}'s Keycloak password, so the "
            "identity provider signs them in"
        ),
        apply=_delete_password,
    ),
    FixStep(
        Fix.ADD_KEYCLOAK_MEMBERSHIP,
        PERM_KEYCLOAK,
        keycloak=True,
        blocker=_add_keycloak_membership_blocker,
        describe=lambda s: (
            f"would add {s.user.username} to the Keycloak organization {s.effective_kc_org.name}"
        ),
        apply=_add_keycloak_membership,
    ),
    FixStep(
        Fix.END_SESSIONS,
        PERM_KEYCLOAK,
        keycloak=True,
        blocker=_end_sessions_blocker,
        describe=_describe_end_sessions,
        apply=_end_sessions,
    ),
    FixStep(
        Fix.CORRECT_SSO_ID,
        PERM_LOCAL,
        keycloak=False,
        blocker=_correct_sso_id_blocker,
        describe=lambda s: (
            f"would set {s.organization.short_name}'s SSO id to "
            f"{s.single_candidate.name} ({s.single_candidate.id})"
        ),
        apply=_correct_sso_id,
    ),
    FixStep(
        Fix.CREATE_LOCAL_MEMBERSHIP,
        PERM_LOCAL,
        keycloak=False,
        blocker=_create_local_membership_blocker,
        describe=lambda s: (
            f"would create or reactivate {s.user.username}'s membership of "
            f"{s.organization.short_name}" + (" with keep-until-seen on" if _keeps(s) else "")
        ),
        apply=_create_local_membership,
    ),
    FixStep(
        Fix.KEEP_UNTIL_SEEN,
        PERM_LOCAL,
        keycloak=False,
        blocker=_keep_until_seen_blocker,
        describe=lambda s: f"would turn keep-until-seen on for {s.user.username}'s membership",
        apply=_keep_until_seen,
    ),
    FixStep(
        Fix.ADD_CONTRACT_MEMBERSHIPS,
        PERM_LOCAL,
        keycloak=False,
        blocker=_add_contract_memberships_blocker,
        describe=lambda s: (
            f"would add {s.user.username} to the contracts "
            + ", ".join(c.name for c in s.joinable_contracts)
        ),
        apply=_add_contract_memberships,
    ),
)
STEP_OF = {step.fix: step for step in FIX_STEPS}
KEYCLOAK_FIXES = frozenset(step.fix for step in FIX_STEPS if step.keycloak)


def permission_for(fix: Fix) -> str:
    return STEP_OF[fix].permission
