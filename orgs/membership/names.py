"""The playbook's vocabulary: its actions, its fixes and the permissions they need.

Its own module because every other one (the read, the checklist, the fix table, the doors and
the console) speaks it, and it depends on nothing.
"""

from __future__ import annotations

from enum import StrEnum

ACTION_DIAGNOSE = "diagnose_org_membership"
ACTION_REPAIR = "repair_org_membership"

VIEW_PERMISSION = "orgs.view_userorganizationmapping"
PERM_LOCAL = "run_repair_org_membership"
PERM_KEYCLOAK = "run_repair_keycloak_membership"


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


# Keycloak changes that only the learner's next sign-in brings into their login: after one of
# them, relogin_required stands until they sign in or their sessions are ended.
RELOGIN_FIXES = frozenset({Fix.DELETE_PASSWORD, Fix.ADD_KEYCLOAK_MEMBERSHIP})

# What became of each fix in a repair (FixOutcome.status).
DONE, WOULD_DO, SKIPPED, FAILED = "done", "would_do", "skipped", "failed"
