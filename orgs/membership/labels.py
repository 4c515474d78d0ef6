"""The membership playbook in words: a title per problem code and a label per fix (the admin
pages and the console show these; the JSON keeps the codes)."""

from __future__ import annotations

from orgs.membership.names import Fix
from support_tools.doors.wording import Wording

TITLES = {
    "not_expected_member": "Nothing says the learner belongs here",
    "keycloak_not_configured": "Keycloak is not configured",
    "keycloak_unreachable": "Keycloak could not be reached",
    "sso_id_not_found": "Keycloak does not know the organization's SSO id",
    "keycloak_user_missing": "No Keycloak account",
    "password_blocks_idp": "A password stops the sign-in through the identity provider",
    "keycloak_membership_missing": "Not a member of the organization in Keycloak",
    "local_membership_missing": "No active membership of the organization here",
    "keep_until_seen_off": "The membership will be removed at the next login",
    "contract_membership_missing": "Missing from the organization's contracts",
    "relogin_required": "The learner must sign in again",
}

FIX_LABELS = {
    Fix.DELETE_PASSWORD.value: "Delete the Keycloak password",
    Fix.ADD_KEYCLOAK_MEMBERSHIP.value: "Add to the Keycloak organization",
    Fix.END_SESSIONS.value: "Sign the learner out everywhere",
    Fix.CORRECT_SSO_ID.value: "Correct the SSO id",
    Fix.CREATE_LOCAL_MEMBERSHIP.value: "Create the membership",
    Fix.KEEP_UNTIL_SEEN.value: "Keep the membership until Keycloak reports it",
    Fix.ADD_CONTRACT_MEMBERSHIPS.value: "Add to the contracts",
}

FIX_BLOCKED_BY: dict = {}

WORDING = Wording(TITLES, FIX_LABELS, FIX_BLOCKED_BY)
