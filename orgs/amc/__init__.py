"""The AMC "spinning wheel" playbook: an AMC admin's organization and site mappings, their OAuth
tokens and the AMC account that records them.

diagnose_amc_user(user=..., actor=...)                                -> AmcDiagnosis
ensure_amc_token(user=..., organization=..., actor=..., dry_run=False) -> EnsureAmcTokenResult
ensure_amc_admin(user=..., organization=..., actor=..., dry_run=False) -> EnsureAmcAdminResult
is_amc_user(user)                                                      -> bool
amc_traces(user)                                                       -> AmcTraces
TITLES, FIX_LABELS, WORDING: the playbook in words for the admin pages and the console
"""

from orgs.amc.diagnosis import (
    DIAGNOSE_AMC_USER,
    FIX_ADMIN,
    FIX_TOKEN,
    AmcDiagnosis,
    diagnose_amc_user,
)
from orgs.amc.labels import FIX_LABELS, TITLES, WORDING
from orgs.amc.selectors import AmcTraces, amc_traces, is_amc_user
from orgs.amc.services import (
    ENSURE_AMC_ADMIN,
    ENSURE_AMC_TOKEN,
    EnsureAmcAdminResult,
    EnsureAmcTokenResult,
    ensure_amc_admin,
    ensure_amc_token,
)

__all__ = [
    "DIAGNOSE_AMC_USER",
    "ENSURE_AMC_ADMIN",
    "ENSURE_AMC_TOKEN",
    "FIX_ADMIN",
    "FIX_LABELS",
    "FIX_TOKEN",
    "TITLES",
    "WORDING",
    "AmcDiagnosis",
    "AmcTraces",
    "EnsureAmcAdminResult",
    "EnsureAmcTokenResult",
    "amc_traces",
    "diagnose_amc_user",
    "ensure_amc_admin",
    "ensure_amc_token",
    "is_amc_user",
]
