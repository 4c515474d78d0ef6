"""The "learner missing from an organization" playbook: diagnose, then repair.

Keycloak is reached only through orgs.keycloak. See orgs/membership/README.md.
"""

from orgs.membership.diagnosis import (
    DIAGNOSE_ORG_MEMBERSHIP,
    MembershipDiagnosis,
    diagnose_org_membership,
)
from orgs.membership.fixes import KEYCLOAK_FIXES, permission_for
from orgs.membership.labels import FIX_LABELS, TITLES, WORDING
from orgs.membership.names import VIEW_PERMISSION, Fix
from orgs.membership.repair import (
    FIX_PERMISSION_DENIED,
    REPAIR_KEYCLOAK_DOWN,
    REPAIR_ORG_MEMBERSHIP,
    REPAIR_STOPPED,
    UNKNOWN_FIX,
    FixOutcome,
    MembershipRepair,
    MembershipRepairFailed,
    parse_fixes,
    repair_org_membership,
)

__all__ = [
    "DIAGNOSE_ORG_MEMBERSHIP",
    "REPAIR_ORG_MEMBERSHIP",
    "FIX_LABELS",
    "FIX_PERMISSION_DENIED",
    "KEYCLOAK_FIXES",
    "REPAIR_KEYCLOAK_DOWN",
    "REPAIR_STOPPED",
    "TITLES",
    "UNKNOWN_FIX",
    "VIEW_PERMISSION",
    "WORDING",
    "Fix",
    "FixOutcome",
    "MembershipDiagnosis",
    "MembershipRepair",
    "MembershipRepairFailed",
    "diagnose_org_membership",
    "parse_fixes",
    "permission_for",
    "repair_org_membership",
]
