"""Reads for the enrollment-code playbook: finding a contract or a code from what support typed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count

from orgs.codes.normalise import normalise_code
from orgs.models import Contract, EnrollmentCode
from orgs.selectors import resolve_organization
from support_tools.errors import ErrorKind, SupportError

CONTRACT_IDENTIFIER_EMPTY = 'Give a contract: its id, or "ORG:contract name".'
CONTRACT_NOT_FOUND = 'No contract matches {identifier!r}; give its id or "ORG:contract name".'
CONTRACT_NAME_AMBIGUOUS = (
    "The organization {org} has several contracts named {name!r} (ids {ids}); give the id."
)
CODE_NOT_FOUND = "No enrollment code {code} exists; run diagnose_code to look for typos."


def resolve_contract(identifier: str | int | Contract) -> Contract:
    """A contract's id, or "ORG:name" (organization short name or name, contract name, both
    case-insensitive)."""
    if isinstance(identifier, Contract):
        return identifier
    text = str(identifier if identifier is not None else "").strip()
    if not text:
        raise SupportError(CONTRACT_IDENTIFIER_EMPTY)
    queryset = Contract.objects.select_related("organization")
    if text.isdigit():
        contract = queryset.filter(pk=int(text)).first()
    elif ":" in text:
        org_part, name = (part.strip() for part in text.split(":", 1))
        try:
            org = resolve_organization(org_part)
        except SupportError:
            raise SupportError(
                CONTRACT_NOT_FOUND.format(identifier=text), kind=ErrorKind.NOT_FOUND
            ) from None
        matches = list(queryset.filter(organization=org, name__iexact=name).order_by("pk")[:5])
        if len(matches) > 1:
            ids = ", ".join(str(c.pk) for c in matches)
            raise SupportError(CONTRACT_NAME_AMBIGUOUS.format(org=org, name=name, ids=ids))
        contract = matches[0] if matches else None
    else:
        contract = None
    if contract is None:
        raise SupportError(CONTRACT_NOT_FOUND.format(identifier=text), kind=ErrorKind.NOT_FOUND)
    return contract


def resolve_code(identifier: str | EnrollmentCode) -> EnrollmentCode:
    """An existing code, as a learner or support person might paste it (link, quotes, case)."""
    if isinstance(identifier, EnrollmentCode):
        return identifier
    normalised = normalise_code(identifier)
    code = (
        EnrollmentCode.objects.select_related("contract__organization")
        .filter(code=normalised.text)
        .first()
    )
    if code is None:
        raise SupportError(CODE_NOT_FOUND.format(code=normalised.text), kind=ErrorKind.NOT_FOUND)
    return code


def identify(obj: Any) -> str:
    """How the inputs of an audit row name a code or a contract."""
    if isinstance(obj, EnrollmentCode):
        return obj.code
    if isinstance(obj, Contract):
        return str(obj.pk)
    return str(obj)


def code_state(code: EnrollmentCode, *, redemptions: int, at: dt.datetime) -> str:
    """The code's own state (its contract's state is shown with the contract)."""
    if code.redemption_type == EnrollmentCode.RedemptionType.ONE_TIME and redemptions:
        return "used"
    if code.activation_date and at < code.activation_date:
        return "not yet active"
    if code.expiration_date and at >= code.expiration_date:
        return "expired"
    return "valid"


def codes_with_state(
    contract: Contract, *, limit: int, at: dt.datetime
) -> list[tuple[EnrollmentCode, int, str]]:
    """A contract's first `limit` codes, each with its redemption count and state."""
    codes = (
        contract.codes.annotate(redemption_count=Count("redemptions"))
        .order_by("pk")
        .only("pk", "code", "activation_date", "expiration_date", "redemption_type")[:limit]
    )
    return [
        (code, code.redemption_count, code_state(code, redemptions=code.redemption_count, at=at))
        for code in codes
    ]
