"""The enrollment-code playbook in words: a title per problem code and a label per fix (the
admin pages and the console show these; the JSON keeps the codes)."""

from __future__ import annotations

from orgs.codes.diagnosis import FIX_ADD_SEATS, FIX_SYNC_DATES
from support_tools.doors.wording import Wording

TITLES = {
    "malformed_code": "This is not an enrollment code",
    "code_not_found": "No such code",
    "code_not_yet_active": "The code is not active yet",
    "code_expired": "The code has expired",
    "code_used": "The code was already used",
    "already_redeemed_by_user": "The learner already redeemed this code",
    "contract_inactive": "The contract is switched off",
    "contract_not_started": "The contract has not started yet",
    "contract_ended": "The contract has ended",
    "contract_full": "The contract is full",
    "organization_inactive": "The organization is inactive",
    "code_dates_mismatch": "The code's dates differ from its contract's",
}

FIX_LABELS = {
    FIX_SYNC_DATES: "Align the code's dates with its contract",
    FIX_ADD_SEATS: "Add seats to the contract",
}

FIX_BLOCKED_BY: dict = {}

WORDING = Wording(TITLES, FIX_LABELS, FIX_BLOCKED_BY)
