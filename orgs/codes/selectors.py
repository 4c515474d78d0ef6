"""Reads for the enrollment-code playbook: finding a contract or a code from what support typed,
and what stops a code from being redeemed."""

from __future__ import annotations

import datetime as dt
import unicodedata

from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Count

from orgs.codes.normalise import NormalisedCode, normalise_code
from orgs.models import Contract, EnrollmentCode
from orgs.selectors import resolve_organization
from support_tools.errors import ErrorKind, SupportError

CONTRACT_IDENTIFIER_EMPTY = 'Give a contract: its id, or "ORG:contract name".'
CONTRACT_NOT_FOUND = 'No contract matches {identifier!r}; give its id or "ORG:contract name".'
CONTRACT_NAME_AMBIGUOUS = (
    "The organization {org} has several contracts named {name!r} (ids {ids}); give the id."
)
CONTRACT_ID_OUT_OF_RANGE = (
    "{identifier} is not a contract id: contract ids are whole numbers up to {maximum}."
)
CODE_NOT_FOUND = "No enrollment code {code} exists; run diagnose_code to look for typos."

# The largest id the primary key's column holds (a 64-bit integer: BigAutoField).
ID_MAX = BaseDatabaseOperations.integer_field_ranges[Contract._meta.pk.get_internal_type()][1]

# What stops every code of a contract, as diagnose_code's problem codes, in its order.
CONTRACT_INACTIVE = "contract_inactive"
CONTRACT_NOT_STARTED = "contract_not_started"
CONTRACT_ENDED = "contract_ended"
CONTRACT_FULL = "contract_full"
ORGANIZATION_INACTIVE = "organization_inactive"


def resolve_contract(identifier: str | int | Contract) -> Contract:
    """A contract's id (ASCII digits), or "ORG:name" (organization short name or name,
    contract name, both case-insensitive). A contract is returned as it is."""
    if isinstance(identifier, Contract):
        return identifier
    text = str(identifier if identifier is not None else "").strip()
    if not text:
        raise SupportError(CONTRACT_IDENTIFIER_EMPTY)
    # The message shows the text by its repr: control characters come out escaped.
    not_found = SupportError(CONTRACT_NOT_FOUND.format(identifier=text), kind=ErrorKind.NOT_FOUND)
    if any(unicodedata.category(c) in {"Cc", "Cs"} for c in text):
        raise not_found  # NUL must never reach PostgreSQL
    queryset = Contract.objects.select_related("organization")
    # "²".isdigit() is true, and int("²") fails.
    if text.isascii() and text.isdigit():
        number = text.lstrip("0") or "0"
        # Compared as text first: int() refuses numbers of more than 4,300 digits.
        if len(number) > len(str(ID_MAX)) or int(number) > ID_MAX:
            raise SupportError(CONTRACT_ID_OUT_OF_RANGE.format(identifier=text, maximum=ID_MAX))
        contract = queryset.filter(pk=int(number)).first()
    elif ":" in text:
        org_part, name = (part.strip() for part in text.split(":", 1))
        try:
            org = resolve_organization(org_part)
        except SupportError:
            raise not_found from None
        matches = list(queryset.filter(organization=org, name__iexact=name).order_by("pk")[:5])
        if len(matches) > 1:
            ids = ", ".join(str(c.pk) for c in matches)
            raise SupportError(CONTRACT_NAME_AMBIGUOUS.format(org=org, name=name, ids=ids))
        contract = matches[0] if matches else None
    else:
        contract = None
    if contract is None:
        raise not_found
    return contract


def find_code(normalised: NormalisedCode) -> EnrollmentCode | None:
    """The code with its contract and organization; a malformed input is never looked up."""
    if not normalised.well_formed:
        return None
    return (
        EnrollmentCode.objects.select_related("contract__organization")
        .filter(code=normalised.text)
        .first()
    )


def resolve_code(identifier: str | EnrollmentCode) -> EnrollmentCode:
    """An existing code, as a learner or support person might paste it (link, quotes, case)."""
    if isinstance(identifier, EnrollmentCode):
        return identifier
    normalised = normalise_code(identifier)
    code = find_code(normalised)
    if code is None:
        raise SupportError(CODE_NOT_FOUND.format(code=normalised.text), kind=ErrorKind.NOT_FOUND)
    return code


def seats_used_of(contract: Contract) -> int:
    return contract.learners.count()


def contract_blockers(contract: Contract, *, at: dt.datetime, seats_used: int) -> list[str]:
    """Why no code of `contract` can be redeemed at `at`, as problem codes. The active flag
    switches a contract off inside its dates and never extends it beyond them, so the dates
    count whatever the flag says. Needs `contract.organization`."""
    found = []
    if not contract.active:
        found.append(CONTRACT_INACTIVE)
    if contract.start and at < contract.start:
        found.append(CONTRACT_NOT_STARTED)
    if contract.end and at >= contract.end:
        found.append(CONTRACT_ENDED)
    if contract.max_learners and seats_used >= contract.max_learners:
        found.append(CONTRACT_FULL)
    if not contract.organization.active:
        found.append(ORGANIZATION_INACTIVE)
    return found


def code_state(code: EnrollmentCode, *, redemptions: int, seats_used: int, at: dt.datetime) -> str:
    """One phrase for lists: the code's own state first, then the first thing its contract
    or organization stops it with ("contract full"), else "valid"."""
    if code.redemption_type == EnrollmentCode.RedemptionType.ONE_TIME and redemptions:
        return "used"
    if code.activation_date and at < code.activation_date:
        return "not yet active"
    if code.expiration_date and at >= code.expiration_date:
        return "expired"
    blockers = contract_blockers(code.contract, at=at, seats_used=seats_used)
    return blockers[0].replace("_", " ") if blockers else "valid"


def codes_with_state(
    contract: Contract, *, limit: int, at: dt.datetime
) -> list[tuple[EnrollmentCode, int, str]]:
    """A contract's first `limit` codes, each with its redemption count and state."""
    used = seats_used_of(contract)
    codes = (
        contract.codes.annotate(redemption_count=Count("redemptions"))
        .order_by("pk")
        .only("pk", "code", "activation_date", "expiration_date", "redemption_type")[:limit]
    )
    rows = []
    for code in codes:
        code.contract = contract  # known: no query per code
        state = code_state(code, redemptions=code.redemption_count, seats_used=used, at=at)
        rows.append((code, code.redemption_count, state))
    return rows
