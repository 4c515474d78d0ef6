"""The "learner missing from an organization" playbook: diagnose, then repair.

Keycloak is reached only through orgs.keycloak. See orgs/README-keycloak.md.
"""

from orgs.membership.diagnosis import (
    DIAGNOSE_ORG_MEMBERSHIP,
    VIEW_PERMISSION,
    MembershipDiagnosis,
    diagnose_org_membership,
)
from orgs.membership.repair import (
    FIX_PERMISSION_DENIED,
    REPAIR_KEYCLOAK_DOWN,
    REPAIR_ORG_MEMBERSHIP,
    UNKNOWN_FIX,
    FixOutcome,
    MembershipRepair,
    parse_fixes,
    repair_org_membership,
)
from orgs.membership.state import KEYCLOAK_FIXES, Fix, permission_for

__all__ = [
    "DIAGNOSE_ORG_MEMBERSHIP",
    "REPAIR_ORG_MEMBERSHIP",
    "FIX_PERMISSION_DENIED",
    "KEYCLOAK_FIXES",
    "REPAIR_KEYCLOAK_DOWN",
    "UNKNOWN_FIX",
    "VIEW_PERMISSION",
    "Fix",
    "FixOutcome",
    "MembershipDiagnosis",
    "MembershipRepair",
    "diagnose_org_membership",
    "parse_fixes",
    "permission_for",
    "repair_org_membership",
]
