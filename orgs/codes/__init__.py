"""The enrollment-code playbook: one verdict for "my code does not work", and its repairs.

diagnose_code(code_text=..., user=None, at=None, actor=...)    -> CodeDiagnosis
sync_code_dates(code=... | contract=..., actor=..., dry_run=False)  -> SyncCodeDatesResult
add_contract_seats(contract=..., seats=..., reason=..., actor=..., dry_run=False,
                   expected_max_learners=None)                 -> AddContractSeatsResult

Reads: resolve_contract (an id or "ORG:contract name"), resolve_code (as pasted),
code_state / codes_with_state (one phrase per code, for lists). Error texts are constants here.
TITLES, FIX_LABELS, WORDING: the playbook in words for the admin pages and the console.
"""

from orgs.codes.diagnosis import (
    DIAGNOSE_CODE,
    DIAGNOSE_PERMISSION,
    FIX_ADD_SEATS,
    FIX_SYNC_DATES,
    CodeDiagnosis,
    diagnose_code,
)
from orgs.codes.labels import FIX_LABELS, TITLES, WORDING
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
    CONTRACT_UNLIMITED,
    REASON_REQUIRED,
    SEATS_ABOVE_LIMIT,
    SEATS_CHANGED_MEANWHILE,
    SEATS_INVALID,
    SEATS_LIMIT_MAX,
    SYNC_CODE_DATES,
    SYNC_TARGET_REQUIRED,
    AddContractSeatsResult,
    SyncCodeDatesResult,
    add_contract_seats,
    sync_code_dates,
)
from orgs.codes.selectors import (
    CODE_NOT_FOUND,
    CONTRACT_ID_OUT_OF_RANGE,
    CONTRACT_IDENTIFIER_EMPTY,
    CONTRACT_NAME_AMBIGUOUS,
    CONTRACT_NOT_FOUND,
    code_state,
    codes_with_state,
    resolve_code,
    resolve_contract,
    seats_used_of,
)
from orgs.codes.suggestions import damerau_distance, suggest_codes

__all__ = [
    "ADD_CONTRACT_SEATS",
    "AT_INVALID",
    "CODE_EMPTY",
    "CODE_NOT_FOUND",
    "CONTRACT_IDENTIFIER_EMPTY",
    "CONTRACT_ID_OUT_OF_RANGE",
    "CONTRACT_NAME_AMBIGUOUS",
    "CONTRACT_NOT_FOUND",
    "CONTRACT_UNLIMITED",
    "DIAGNOSE_CODE",
    "DIAGNOSE_PERMISSION",
    "FIX_ADD_SEATS",
    "FIX_LABELS",
    "FIX_SYNC_DATES",
    "REASON_REQUIRED",
    "SEATS_ABOVE_LIMIT",
    "SEATS_CHANGED_MEANWHILE",
    "SEATS_INVALID",
    "SEATS_LIMIT_MAX",
    "SYNC_CODE_DATES",
    "SYNC_TARGET_REQUIRED",
    "TITLES",
    "WORDING",
    "AddContractSeatsResult",
    "CodeDiagnosis",
    "NormalisedCode",
    "SyncCodeDatesResult",
    "add_contract_seats",
    "code_state",
    "codes_with_state",
    "damerau_distance",
    "diagnose_code",
    "escape_controls",
    "has_visible_text",
    "normalise_code",
    "parse_at",
    "resolve_code",
    "resolve_contract",
    "seats_used_of",
    "suggest_codes",
    "sync_code_dates",
]
