"""The read: one learner, one organization, both sides, into a frozen `MembershipState`.

Reads only, and takes no lock: Keycloak may be slow, and nobody should wait on it. The repair
re-reads the local side under locks (`lock_local`) just before it writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from orgs import keycloak
from orgs.membership import sessions
from orgs.membership.names import ACTION_REPAIR, DONE, RELOGIN_FIXES, Fix
from orgs.models import Contract, Organization, UserOrganizationMapping
from support_tools.errors import SupportError
from support_tools.models import SupportAction

# How many of the learner's latest repairs of one organization the relogin check reads back.
RELOGIN_LOOKBACK = 20


class KeycloakStatus(StrEnum):
    NOT_CONTROLLED = "not_controlled"  # the organization carries no SSO id: Keycloak irrelevant
    NOT_CONFIGURED = "not_configured"
    UNREACHABLE = "unreachable"  # did not answer, or refused the service account
    CHECKED = "checked"


@dataclass(frozen=True)
class MembershipState:
    user: Any
    organization: Organization
    email_domain: str
    local_domains: tuple[str, ...]
    keycloak_status: KeycloakStatus
    keycloak_detail: str = ""
    # Keycloak's side (when checked)
    kc_org: keycloak.KeycloakOrganization | None = None  # the org the SSO id names, if found
    candidates: tuple[keycloak.KeycloakOrganization, ...] = ()  # when it was not found
    kc_user: keycloak.KeycloakUser | None = None
    identity_providers: tuple[str, ...] = ()
    passwords: tuple[keycloak.Credential, ...] = ()
    kc_member: bool | None = None  # None: unknown
    kc_sessions: int | None = None
    # the local side
    mapping: UserOrganizationMapping | None = None
    missing_contracts: tuple[Contract, ...] = ()
    full_contracts: frozenset[int] = frozenset()  # pks of missing contracts without a seat
    sso_id_taken_by: str | None = None  # another organization carrying the single candidate's id
    relogin_since: dt.datetime | None = None  # a Keycloak change waiting for a new sign-in
    local_sessions: tuple[str, ...] = ()  # read by the repair only, when it ends sessions

    @property
    def controlled(self) -> bool:
        return self.organization.sso_organization_id is not None

    @property
    def effective_kc_org(self) -> keycloak.KeycloakOrganization | None:
        """The Keycloak organization the checks ran against: the SSO id's, or the single match."""
        if self.kc_org is not None:
            return self.kc_org
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def single_candidate(self) -> keycloak.KeycloakOrganization | None:
        return self.candidates[0] if self.kc_org is None and len(self.candidates) == 1 else None

    @property
    def joinable_contracts(self) -> tuple[Contract, ...]:
        return tuple(c for c in self.missing_contracts if c.pk not in self.full_contracts)

    @property
    def relogin_pending(self) -> bool:
        if not self.controlled or self.relogin_since is None:
            return False
        last_login = self.user.last_login
        return last_login is None or last_login < self.relogin_since

    def summary(self) -> dict[str, Any]:
        kc_org = self.effective_kc_org
        mapping = self.mapping
        return {
            "keycloak": {
                "status": str(self.keycloak_status),
                "organization": (
                    {"id": kc_org.id, "name": kc_org.name, "alias": kc_org.alias}
                    if kc_org
                    else None
                ),
                "identity_providers": list(self.identity_providers),
                "user_id": self.kc_user.id if self.kc_user else None,
                "has_password": bool(self.passwords) if self.kc_user else None,
                "member": self.kc_member,
            },
            "local": {
                "membership": (
                    "missing" if mapping is None else "active" if mapping.is_active else "inactive"
                ),
                "keep_until_seen": mapping.keep_until_seen if mapping else None,
                "missing_contracts": [c.name for c in self.missing_contracts],
            },
        }


def inspect_membership(user: Any, organization: Organization) -> MembershipState:
    email = (user.email or "").strip().lower()
    read: dict[str, Any] = {
        "user": user,
        "organization": organization,
        "email_domain": email.rpartition("@")[2] if "@" in email else "",
        "local_domains": tuple(sorted({d.strip().lower() for d in organization.email_domains})),
    }
    if organization.sso_organization_id is None:
        read["keycloak_status"] = KeycloakStatus.NOT_CONTROLLED
    elif not keycloak.is_configured():
        read["keycloak_status"] = KeycloakStatus.NOT_CONFIGURED
        read["keycloak_detail"] = keycloak.KEYCLOAK_NOT_CONFIGURED
    else:
        try:
            read.update(_keycloak_side(email, organization))
            read["keycloak_status"] = KeycloakStatus.CHECKED
        except SupportError as exc:
            read["keycloak_status"] = KeycloakStatus.UNREACHABLE
            read["keycloak_detail"] = exc.message
    state = MembershipState(**read)
    candidate = state.single_candidate
    return replace(
        state,
        **_local_side(user, organization, candidate_id=candidate.id if candidate else None),
        relogin_since=_relogin_since(user, organization) if state.controlled else None,
    )


def lock_local(state: MembershipState) -> MembershipState:
    """The state with its local side re-read under row locks (the organization, the learner's
    membership, the contracts to join): what the repair re-checks just before it writes."""
    org = Organization.objects.select_for_update().get(pk=state.organization.pk)
    candidate = state.single_candidate
    local = _local_side(
        state.user, org, candidate_id=candidate.id if candidate else None, lock=True
    )
    return replace(state, organization=org, **local)


def with_sessions(state: MembershipState) -> MembershipState:
    """The state with the learner's local sessions: a scan, read only when they are to end."""
    return replace(state, local_sessions=tuple(sessions.session_keys_of(state.user)))


def contracts_to_join(organization: Organization) -> QuerySet[Contract]:
    """The organization's contracts whose learners are placed by the organization: managed or
    automatic, switched on and within their dates."""
    now = timezone.now()
    return (
        Contract.objects.filter(
            organization=organization,
            membership_type__in=[Contract.MembershipType.MANAGED, Contract.MembershipType.AUTO],
            active=True,
        )
        .filter(Q(start__isnull=True) | Q(start__lte=now))
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .order_by("name", "pk")
    )


def _keycloak_side(email: str, organization: Organization) -> dict[str, Any]:
    gw = keycloak.gateway()
    found: dict[str, Any] = {}
    kc_org = gw.get_organization(str(organization.sso_organization_id))
    if kc_org is None:
        found["candidates"] = tuple(
            gw.find_organizations(organization.name, organization.short_name)
        )
        target = found["candidates"][0] if len(found["candidates"]) == 1 else None
    else:
        found["kc_org"] = target = kc_org
    kc_user = gw.find_user_by_email(email) if email else None
    found["kc_user"] = kc_user
    if target is not None:
        found["identity_providers"] = tuple(gw.organization_identity_providers(target.id))
    if kc_user is not None:
        found["passwords"] = tuple(gw.password_credentials(kc_user.id))
        found["kc_sessions"] = gw.session_count(kc_user.id)
        if target is not None:
            found["kc_member"] = any(o.id == target.id for o in gw.user_organizations(kc_user.id))
    return found


def _local_side(
    user: Any, organization: Organization, *, candidate_id: str | None, lock: bool = False
) -> dict[str, Any]:
    mappings = UserOrganizationMapping.objects.filter(user=user, organization=organization)
    contracts = contracts_to_join(organization).exclude(learners=user)
    if lock:
        mappings, contracts = mappings.select_for_update(), contracts.select_for_update()
    missing = tuple(contracts)
    # Counted apart: PostgreSQL refuses FOR UPDATE together with the GROUP BY of a count.
    seats_taken = dict(
        Contract.learners.through.objects.filter(contract__in=missing)
        .values("contract")
        .annotate(n=Count("pk"))
        .values_list("contract", "n")
    )
    taken_by = None
    if candidate_id is not None:
        taken_by = (
            Organization.objects.filter(sso_organization_id=candidate_id)
            .exclude(pk=organization.pk)
            .values_list("short_name", flat=True)
            .first()
        )
    return {
        "mapping": mappings.first(),
        "missing_contracts": missing,
        "full_contracts": frozenset(
            c.pk for c in missing if c.max_learners and seats_taken.get(c.pk, 0) >= c.max_learners
        ),
        "sso_id_taken_by": taken_by,
    }


def _relogin_since(user: Any, organization: Organization) -> dt.datetime | None:
    """When a real repair last changed the learner's Keycloak account in a way only their next
    sign-in applies (RELOGIN_FIXES), unless end_sessions ran after it: then every session
    that could predate the change is gone, and their next visit is that sign-in."""
    rows = (
        SupportAction.objects.filter(
            action=ACTION_REPAIR,
            subject_user=user,
            target_type=Organization._meta.label,
            target_id=str(organization.pk),
            dry_run=False,
            # a repair stopped part-way may still have changed Keycloak: its results say so
            outcome__in=[SupportAction.Outcome.CHANGED, SupportAction.Outcome.FAILED],
        )
        .order_by("-created_at", "-id")
        .values_list("created_at", "result")[:RELOGIN_LOOKBACK]
    )
    for created_at, result in rows:
        done = {r.get("fix") for r in (result or {}).get("results", []) if r.get("status") == DONE}
        if Fix.END_SESSIONS in done:  # the last Keycloak fix of a run: after any other
            return None
        if done & RELOGIN_FIXES:
            return created_at
    return None
