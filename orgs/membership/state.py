"""What the diagnosis and the repair both look at: one learner, one organization, both sides.

`inspect_membership` only reads (Keycloak through the gateway, the local database directly) and
returns a frozen `MembershipState`; `problems_of` turns it into the checklist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db.models import Q
from django.utils import timezone

from orgs import keycloak
from orgs.models import Contract, Organization, UserOrganizationMapping
from support_tools.errors import SupportError
from support_tools.models import SupportAction
from support_tools.results import Problem, error, warning

ACTION_DIAGNOSE = "diagnose_org_membership"
ACTION_REPAIR = "repair_org_membership"


class Fix(StrEnum):
    """The repair's fixes, in the order the repair applies them: Keycloak's calls first, so that
    a Keycloak failure part-way stops the repair before any local change."""

    DELETE_PASSWORD = "delete_password"
    ADD_KEYCLOAK_MEMBERSHIP = "add_keycloak_membership"
    END_SESSIONS = "end_sessions"  # Keycloak's sessions, then the local (Django) ones
    CORRECT_SSO_ID = "correct_sso_id"
    CREATE_LOCAL_MEMBERSHIP = "create_local_membership"
    KEEP_UNTIL_SEEN = "keep_until_seen"
    ADD_CONTRACT_MEMBERSHIPS = "add_contract_memberships"


# Fixes that change Keycloak: they need run_repair_keycloak_membership; the others need
# run_repair_org_membership.
KEYCLOAK_FIXES = frozenset({Fix.DELETE_PASSWORD, Fix.ADD_KEYCLOAK_MEMBERSHIP, Fix.END_SESSIONS})
PERM_LOCAL = "run_repair_org_membership"
PERM_KEYCLOAK = "run_repair_keycloak_membership"


def permission_for(fix: Fix) -> str:
    return PERM_KEYCLOAK if fix in KEYCLOAK_FIXES else PERM_LOCAL


class KeycloakStatus(StrEnum):
    NOT_CONTROLLED = "not_controlled"  # the organization carries no SSO id: Keycloak irrelevant
    NOT_CONFIGURED = "not_configured"
    UNREACHABLE = "unreachable"  # did not answer, or refused the service account
    CHECKED = "checked"


MSG = {
    "not_expected_member": "Nothing says {user} belongs to {org}: the email domain {domain!r} is "
    "not among its domains ({domains}).",
    "no_email": "{user} has no email address, so neither the domain check nor Keycloak can "
    "place them.",
    "keycloak_not_configured": "{org} is controlled by Keycloak (it carries an SSO id). {detail}",
    "keycloak_unreachable": "{org} is controlled by Keycloak, which could not be checked: {detail}",
    "sso_id_not_found": "Keycloak has no organization with {org}'s SSO id {sso_id}. {suggestion}",
    "suggest_one": "The Keycloak organization {name!r} (alias {alias!r}, id {id}) matches by name: "
    "correct_sso_id sets it.",
    "suggest_many": "Several Keycloak organizations match by name ({names}): set the right id "
    "on the organization by hand.",
    "suggest_none": "No Keycloak organization is named {names}: find the right one in the "
    "Keycloak console.",
    "keycloak_user_missing": "Keycloak has no user with the email {email}: the learner must "
    "sign in once (or be created in Keycloak) before they can be placed.",
    "password_blocks_idp": "{org}'s Keycloak organization signs in through the identity "
    "provider {idps}, but {user} has a Keycloak password, so Keycloak asks for the password "
    "instead and never adds them through the identity provider.",
    "keycloak_membership_missing_idp": "{user} is not a member of the Keycloak organization "
    "{kc_org}; it has an identity provider ({idps}), so they join at their next sign-in "
    "through it.",
    "keycloak_membership_missing": "{user} is not a member of the Keycloak organization {kc_org}.",
    "local_membership_missing": "{user} has no membership of {org} here.",
    "local_membership_inactive": "{user}'s membership of {org} is inactive.",
    "keep_until_seen_off": "Keycloak does not report {user} in {org}, and their membership "
    "here lacks keep-until-seen: it will be removed at their next login.",
    "contract_membership_missing": "{user} is not a learner of {org}'s active {types} "
    "contracts: {contracts}.",
    "relogin_required": "{user}'s membership was repaired on {when} and they have not signed in "
    "since: ask them to sign out and in again so their login reconciles it.",
}


@dataclass(frozen=True)
class MembershipState:
    user: Any
    organization: Organization
    email_domain: str
    local_domains: tuple[str, ...]
    keycloak_status: KeycloakStatus
    keycloak_detail: str = ""
    kc_org: keycloak.KeycloakOrganization | None = None  # the org the SSO id names, if found
    candidates: tuple[keycloak.KeycloakOrganization, ...] = ()  # when it was not found
    kc_user: keycloak.KeycloakUser | None = None
    identity_providers: tuple[str, ...] = ()
    passwords: tuple[keycloak.Credential, ...] = ()
    kc_member: bool | None = None  # None: unknown
    kc_sessions: int | None = None
    mapping: UserOrganizationMapping | None = None
    missing_contracts: tuple[Contract, ...] = ()
    last_repair: SupportAction | None = field(default=None, compare=False)

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
    def relogin_pending(self) -> bool:
        if self.last_repair is None:
            return False
        last_login = self.user.last_login
        return last_login is None or last_login < self.last_repair.created_at

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


def inspect_membership(
    user: Any, organization: Organization, *, lock: bool = False
) -> MembershipState:
    email = (user.email or "").strip().lower()
    domain = email.rpartition("@")[2] if "@" in email else ""
    base: dict[str, Any] = {
        "user": user,
        "organization": organization,
        "email_domain": domain,
        "local_domains": tuple(sorted({d.strip().lower() for d in organization.email_domains})),
        "mapping": _mapping(user, organization, lock=lock),
        "missing_contracts": tuple(_missing_contracts(user, organization)),
        "last_repair": _last_repair(user, organization),
    }
    if organization.sso_organization_id is None:
        return MembershipState(**base, keycloak_status=KeycloakStatus.NOT_CONTROLLED)
    if not keycloak.is_configured():
        return MembershipState(
            **base,
            keycloak_status=KeycloakStatus.NOT_CONFIGURED,
            keycloak_detail=keycloak.KEYCLOAK_NOT_CONFIGURED,
        )
    try:
        return MembershipState(
            **base, keycloak_status=KeycloakStatus.CHECKED, **_keycloak_side(email, organization)
        )
    except SupportError as exc:
        return MembershipState(
            **base, keycloak_status=KeycloakStatus.UNREACHABLE, keycloak_detail=exc.message
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


def _mapping(user: Any, organization: Organization, *, lock: bool) -> Any:
    rows = UserOrganizationMapping.objects.filter(user=user, organization=organization)
    if lock:
        rows = rows.select_for_update()
    return rows.first()


def contracts_to_join(organization: Organization) -> Any:
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


def _missing_contracts(user: Any, organization: Organization) -> list[Contract]:
    return list(contracts_to_join(organization).exclude(learners=user))


def _last_repair(user: Any, organization: Organization) -> SupportAction | None:
    return (
        SupportAction.objects.filter(
            action=ACTION_REPAIR,
            subject_user=user,
            target_type=Organization._meta.label,
            target_id=str(organization.pk),
            dry_run=False,
            # a repair stopped part-way may still have changed Keycloak: its notes say so
            outcome__in=[SupportAction.Outcome.CHANGED, SupportAction.Outcome.FAILED],
        )
        .exclude(changes=[])
        .order_by("-created_at", "-id")
        .first()
    )


def problems_of(state: MembershipState) -> list[Problem]:
    user, org = state.user.username, state.organization.short_name
    problems: list[Problem] = []

    kc_org = state.effective_kc_org
    domains = set(state.local_domains) | set(kc_org.domains if kc_org else ())
    if not state.email_domain:
        problems.append(warning("not_expected_member", MSG["no_email"].format(user=user)))
    elif state.email_domain not in domains:
        problems.append(
            warning(
                "not_expected_member",
                MSG["not_expected_member"].format(
                    user=user,
                    org=org,
                    domain=state.email_domain,
                    domains=", ".join(sorted(domains)) or "none recorded",
                ),
            )
        )

    status = state.keycloak_status
    if status == KeycloakStatus.NOT_CONFIGURED:
        problems.append(
            error(
                "keycloak_not_configured",
                MSG["keycloak_not_configured"].format(org=org, detail=state.keycloak_detail),
            )
        )
    elif status == KeycloakStatus.UNREACHABLE:
        problems.append(
            error(
                "keycloak_unreachable",
                MSG["keycloak_unreachable"].format(org=org, detail=state.keycloak_detail),
            )
        )
    elif status == KeycloakStatus.CHECKED:
        problems.extend(_keycloak_problems(state))

    mapping = state.mapping
    if mapping is None or not mapping.is_active:
        key = "local_membership_missing" if mapping is None else "local_membership_inactive"
        problems.append(
            error(
                "local_membership_missing",
                MSG[key].format(user=user, org=org),
                Fix.CREATE_LOCAL_MEMBERSHIP,
            )
        )
    elif state.kc_member is False and not mapping.keep_until_seen:
        problems.append(
            error(
                "keep_until_seen_off",
                MSG["keep_until_seen_off"].format(user=user, org=org),
                Fix.KEEP_UNTIL_SEEN,
            )
        )
    if state.missing_contracts:
        types = sorted({c.membership_type for c in state.missing_contracts})
        problems.append(
            error(
                "contract_membership_missing",
                MSG["contract_membership_missing"].format(
                    user=user,
                    org=org,
                    types=" and ".join(types),
                    contracts=", ".join(c.name for c in state.missing_contracts),
                ),
                Fix.ADD_CONTRACT_MEMBERSHIPS,
            )
        )
    if state.relogin_pending:
        problems.append(
            warning(
                "relogin_required",
                MSG["relogin_required"].format(
                    user=user, when=state.last_repair.created_at.isoformat(timespec="minutes")
                ),
                Fix.END_SESSIONS,
            )
        )
    return problems


def _keycloak_problems(state: MembershipState) -> list[Problem]:
    user, org = state.user.username, state.organization.short_name
    problems: list[Problem] = []
    if state.kc_org is None:
        names = [state.organization.name, state.organization.short_name]
        if len(state.candidates) == 1:
            c = state.candidates[0]
            suggestion = MSG["suggest_one"].format(name=c.name, alias=c.alias, id=c.id)
        elif state.candidates:
            suggestion = MSG["suggest_many"].format(
                names=", ".join(f"{c.name} ({c.id})" for c in state.candidates)
            )
        else:
            suggestion = MSG["suggest_none"].format(names=" or ".join(repr(n) for n in names))
        problems.append(
            error(
                "sso_id_not_found",
                MSG["sso_id_not_found"].format(
                    org=org, sso_id=state.organization.sso_organization_id, suggestion=suggestion
                ),
                Fix.CORRECT_SSO_ID if len(state.candidates) == 1 else None,
            )
        )
    if state.kc_user is None:
        if state.email_domain:
            problems.append(
                error(
                    "keycloak_user_missing",
                    MSG["keycloak_user_missing"].format(email=state.user.email.strip().lower()),
                )
            )
        return problems
    kc_org = state.effective_kc_org
    if kc_org is None:
        return problems
    idps = ", ".join(state.identity_providers)
    if state.identity_providers and state.passwords:
        problems.append(
            error(
                "password_blocks_idp",
                MSG["password_blocks_idp"].format(org=org, idps=idps, user=user),
                Fix.DELETE_PASSWORD,
            )
        )
    if state.kc_member is False:
        if state.identity_providers:
            problems.append(
                error(
                    "keycloak_membership_missing",
                    MSG["keycloak_membership_missing_idp"].format(
                        user=user, kc_org=kc_org.name, idps=idps
                    ),
                )
            )
        else:
            problems.append(
                error(
                    "keycloak_membership_missing",
                    MSG["keycloak_membership_missing"].format(user=user, kc_org=kc_org.name),
                    Fix.ADD_KEYCLOAK_MEMBERSHIP,
                )
            )
    return problems
