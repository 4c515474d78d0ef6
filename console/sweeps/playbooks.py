"""The playbooks a sweep runs, in order: each one's platform-wide selector and its codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings

from enrollments.programs import WORDING as PROGRAM_WORDING
from enrollments.programs import sweep as programs
from enrollments.programs.diagnosis import FIX_LINK
from orgs.amc import FIX_ADMIN, FIX_TOKEN
from orgs.amc import WORDING as AMC_WORDING
from orgs.amc import sweep as amc
from orgs.codes import FIX_ADD_SEATS, FIX_SYNC_DATES
from orgs.codes import WORDING as CODE_WORDING
from orgs.codes import sweep as codes
from orgs.membership import WORDING as MEMBERSHIP_WORDING
from orgs.membership import Fix
from orgs.membership import sweep as membership
from support_tools.doors.wording import Wording, humanize
from support_tools.sweeps import Finding, SweepStats


@dataclass(frozen=True)
class Playbook:
    name: str
    codes: frozenset[str]
    find: Callable[..., Iterator[Finding]]  # find(stats=..., now=...)
    size: Callable[[], int]  # roughly how much a sweep of it checks: a cheap count
    wording: Wording  # its problems' titles, as the console shows them


def _batch() -> dict[str, int]:
    """SWEEP_BATCH_SIZE when set; otherwise each selector's own batch size."""
    size = settings.SWEEP_BATCH_SIZE
    return {"batch_size": size} if size else {}


def _amc(*, stats: SweepStats, now: dt.datetime) -> Iterator[Finding]:
    return amc.find_problems(**_batch(), stats=stats, now=now)


def _membership(*, stats: SweepStats, now: dt.datetime) -> Iterator[Finding]:
    return membership.find_problems(**_batch(), stats=stats)


def _codes(*, stats: SweepStats, now: dt.datetime) -> Iterator[Finding]:
    return codes.find_problems(**_batch(), stats=stats, now=now)


def _programs(*, stats: SweepStats, now: dt.datetime) -> Iterator[Finding]:
    return programs.find_problems(**_batch(), stats=stats)


PLAYBOOKS: dict[str, Playbook] = {
    p.name: p
    for p in (
        Playbook(amc.PLAYBOOK, amc.SWEEP_CODES | {"amc_app_missing"}, _amc, amc.size, AMC_WORDING),
        Playbook(
            membership.PLAYBOOK,
            membership.SWEEP_CODES,
            _membership,
            membership.size,
            MEMBERSHIP_WORDING,
        ),
        Playbook(codes.PLAYBOOK, codes.SWEEP_CODES, _codes, codes.size, CODE_WORDING),
        Playbook(
            programs.PLAYBOOK, programs.SWEEP_CODES, _programs, programs.size, PROGRAM_WORDING
        ),
    )
}
ORDER = tuple(PLAYBOOKS)
ALL_CODES = frozenset(code for p in PLAYBOOKS.values() for code in p.codes)


def title_of(code: str, playbook: str | None = None) -> str:
    """A problem code in words, as its playbook's console section says it."""
    owner = PLAYBOOKS.get(playbook or "") or next(
        (p for p in PLAYBOOKS.values() if code in p.codes), None
    )
    return owner.wording.title(code) if owner else humanize(code)


def fix_label_of(fix: str) -> str:
    """A fix's name in words, as its playbook's fix button says it."""
    for playbook in PLAYBOOKS.values():
        if fix in playbook.wording.fix_labels:
            return playbook.wording.fix_label(fix)
    return humanize(fix)


# The fixes a finding of each code may name (the diagnoses' own): what a request to fix these
# codes needs permission for, before any finding is read.
FIXES_OF_CODE: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        [
            "access_token_missing",
            "access_token_expired",
            "refresh_token_missing",
            "amc_account_missing",
            "amc_tokens_mismatch",
        ],
        (FIX_TOKEN,),
    ),
    **dict.fromkeys(["site_mapping_missing", "site_mapping_inactive"], (FIX_ADMIN,)),
    "code_dates_mismatch": (FIX_SYNC_DATES,),
    "contract_full": (FIX_ADD_SEATS,),
    "contract_nearly_full": (FIX_ADD_SEATS,),
    "staff_role_waiting": (FIX_LINK,),
    "keep_until_seen_off": (Fix.KEEP_UNTIL_SEEN.value,),
    "local_membership_missing": (Fix.CREATE_LOCAL_MEMBERSHIP.value,),
    "keycloak_membership_missing": (Fix.ADD_KEYCLOAK_MEMBERSHIP.value,),
    "contract_membership_missing": (Fix.ADD_CONTRACT_MEMBERSHIPS.value,),
    "password_blocks_idp": (Fix.DELETE_PASSWORD.value,),
    "sso_id_not_found": (Fix.CORRECT_SSO_ID.value,),
}

# The codes reported as warnings (every other one is an error), as the diagnoses report them:
# the Health page shows a code's severity even when a sweep found none of it.
WARNING_CODES = frozenset(
    {
        "access_token_expiring_soon",
        "code_dates_mismatch",
        "contract_nearly_full",
        "course_enrollment_missing",
        "course_enrollment_state",
        "course_enrollment_mode",
        "staff_role_waiting",
    }
)


def severity_of(code: str) -> str:
    return "warning" if code in WARNING_CODES else "error"
