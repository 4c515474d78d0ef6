"""The checklist: `problems_of(state)` turns a read `MembershipState` into problems, each with
the fix that resolves it. Pure: it reads nothing and writes nothing."""

from __future__ import annotations

from orgs.membership.inspect import KeycloakStatus, MembershipState
from orgs.membership.names import Fix
from support_tools.results import Problem, error, format_when, warning

MSG = {
    "not_expected_member": "Nothing says {user} belongs to {org}: the email domain {domain!r} is "
    "not among its domains ({domains}).",
    "no_email": "{user} has no email address, so neither the domain check nor Keycloak can "
    "place them.",
    "keycloak_not_configured": "{org} is controlled by Keycloak (it carries an SSO id). {detail}",
    "keycloak_unreachable": "{org} is controlled by Keycloak, which could not be checked: {detail}",
    "sso_id_not_found": "Keycloak has no organization with {org}'s SSO id {sso_id}. {suggestion}",
    "suggest_one": "The Keycloak organization {name!r} (alias {alias!r}, id {id}) matches by name "
    "or alias: correct_sso_id sets it.",
    "suggest_many": "Several Keycloak organizations match by name or alias ({names}): set the "
    "right id on the organization by hand.",
    "suggest_none": "No Keycloak organization is named or has the alias {names}: find the right "
    "one in the Keycloak console.",
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
    "relogin_required": "{user}'s Keycloak account was repaired on {when} and they have not "
    "signed in since: their next sign-in brings the repair into their login. end_sessions "
    "signs them out to force it (with no session open, it records that), which clears this.",
}


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

    problems.extend(_local_problems(state))
    if state.relogin_pending:
        problems.append(
            warning(
                "relogin_required",
                MSG["relogin_required"].format(user=user, when=format_when(state.relogin_since)),
                Fix.END_SESSIONS,
            )
        )
    return problems


def _local_problems(state: MembershipState) -> list[Problem]:
    user, org = state.user.username, state.organization.short_name
    problems: list[Problem] = []
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
                names=", ".join(f"{c.name} (alias {c.alias}, id {c.id})" for c in state.candidates)
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
