"""The enrollment-code playbook: one verdict for "my code does not work", and its repairs.

diagnose_code(code_text=..., user=None, at=None, actor=...)    -> CodeDiagnosis
sync_code_dates(code=... | contract=..., actor=..., dry_run=False)  -> SyncCodeDatesResult
add_contract_seats(contract=..., seats=..., reason=..., actor=..., dry_run=False)
"""

from orgs.codes.diagnosis import (
    DIAGNOSE_CODE,
    DIAGNOSE_PERMISSION,
    FIX_ADD_SEATS,
    FIX_SYNC_DATES,
    CodeDiagnosis,
    diagnose_code,
)
from orgs.codes.normalise import (
    AT_INVALID,
    CODE_EMPTY,
    NormalisedCode,
    escape_controls,
    has_visible_text,
    normalise_code,
    parse_at,
)
from orgs.codes.repairs import (
    ADD_CONTRACT_SEATS,
    SYNC_CODE_DATES,
    AddContractSeatsResult,
    SyncCodeDatesResult,
    add_contract_seats,
    sync_code_dates,
)
from orgs.codes.selectors import resolve_code, resolve_contract
from orgs.codes.suggestions import damerau_distance, suggest_codes

__all__ = [
    "ADD_CONTRACT_SEATS",
    "DIAGNOSE_CODE",
    "SYNC_CODE_DATES",
    "AT_INVALID",
    "CODE_EMPTY",
    "DIAGNOSE_PERMISSION",
    "FIX_ADD_SEATS",
    "FIX_SYNC_DATES",
    "AddContractSeatsResult",
    "CodeDiagnosis",
    "NormalisedCode",
    "SyncCodeDatesResult",
    "add_contract_seats",
    "diagnose_code",
    "escape_controls",
    "has_visible_text",
    "normalise_code",
    "damerau_distance",
    "parse_at",
    "resolve_code",
    "resolve_contract",
    "suggest_codes",
    "sync_code_dates",
]
