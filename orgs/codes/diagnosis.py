"""diagnose_code: why an enrollment code can or cannot be redeemed. Writes only its audit row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.selectors import resolve_user
from orgs.codes.normalise import NormalisedCode, escape_controls, normalise_code, parse_at
from orgs.codes.selectors import (
    CONTRACT_ENDED,
    CONTRACT_FULL,
    CONTRACT_NOT_STARTED,
    contract_blockers,
    find_code,
    seats_used_of,
)
from orgs.codes.suggestions import suggest_codes
from orgs.models import CodeRedemption, Contract, EnrollmentCode
from support_tools.actors import Actor
from support_tools.audit import ident, support_action
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from support_tools.results import Diagnosis, Problem, error, format_when, warning

FIX_SYNC_DATES = "sync_code_dates"
FIX_ADD_SEATS = "add_contract_seats"
DIAGNOSE_PERMISSION = "orgs.view_enrollmentcode"
DIAGNOSE_CODE = ActionSpec("diagnose_code", preview=DIAGNOSE_PERMISSION)

MSG = {
    "malformed_code": "{input!r} is not an enrollment code: a code is a UUID, 32 hexadecimal "
    "digits like 3f2b8c4e-1d7a-4b9e-8c21-5a6f0e9d7b13.",
    "code_not_found": "No enrollment code {code} exists.",
    "suggestions": " It may be a typo of: {codes}.",
    "no_suggestion": " No existing code is within two typos of it.",
    "code_not_yet_active": "The code becomes valid on {when}.",
    "code_expired": "The code expired on {when}.",
    "code_used": "The code is for one use only and was already redeemed by {who} on {when}.",
    "used_by_this_user": " That is the user you asked about: the code did work for them.",
    "already_redeemed_by_user": "{who} already redeemed this code on {when}; it can be "
    "redeemed once per user.",
    "contract_inactive": "The contract {contract} is switched off (its active flag is off).",
    "contract_not_started": "The contract {contract} starts on {when}.",
    "contract_ended": "The contract {contract} ended on {when}.",
    "contract_full": "The contract {contract} is full: {used} of {total} seats are used.",
    "organization_inactive": "The organization {org} of the contract is inactive.",
    "code_dates_mismatch": "The code's window ({code_window}) differs from its contract's "
    "dates ({contract_window}).",
    "sync_would_help": " Its contract runs {contract_window}: aligning the code's dates with "
    "the contract's would make it valid.",
}


@dataclass(frozen=True)
class CodeDiagnosis(Diagnosis):
    input: str
    code: str
    at: dt.datetime
    user: str | None
    problems: tuple[Problem, ...]
    suggestions: tuple[str, ...] = ()
    found: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "input": self.input,
            "found": self.found,
            "suggestions": list(self.suggestions),
            "at": self.at.isoformat(),
            "user": self.user,
            **self.details,
        }


def diagnose_code(
    *,
    code_text: str,
    user: str | Any | None = None,
    at: dt.datetime | str | None = None,
    actor: Actor,
) -> CodeDiagnosis:
    """Every reason `code_text` (a code or a redemption link, as pasted) cannot be redeemed
    at `at` (default: now), by `user` when given."""
    inputs = {
        # As pasted, but for the control characters the database cannot keep (NUL).
        "code": escape_controls(code_text) if code_text else code_text,
        "user": ident(user),
        "at": at.isoformat() if isinstance(at, dt.datetime) else at,
    }
    with support_action(DIAGNOSE_CODE, actor=actor, inputs=inputs) as trail:
        when = parse_at(at) or timezone.now()
        user_obj = resolve_user(user) if user is not None else None
        normalised = normalise_code(code_text)
        code = find_code(normalised)
        trail.about(user_obj, target=code)
        if code is None:
            result = _not_found(code_text, normalised, when, user_obj)
        else:
            result = _diagnose_found(code_text, code, when, user_obj)
        trail.result = result.as_dict()
        trail.outcome = SupportAction.Outcome.OK if result.ok else SupportAction.Outcome.PROBLEMS
    return result


def _not_found(raw: str, normalised: NormalisedCode, when: dt.datetime, user: Any) -> CodeDiagnosis:
    suggestions = suggest_codes(normalised.digits)
    tail = (
        MSG["suggestions"].format(codes=", ".join(suggestions))
        if suggestions
        else MSG["no_suggestion"]
    )
    if normalised.well_formed:
        problem = error("code_not_found", MSG["code_not_found"].format(code=normalised.text) + tail)
    else:
        shown = raw.strip() if len(raw.strip()) <= 80 else raw.strip()[:77] + "..."
        problem = error("malformed_code", MSG["malformed_code"].format(input=shown) + tail)
    return CodeDiagnosis(
        input=escape_controls(raw),
        code=normalised.text,
        at=when,
        user=_username(user),
        problems=(problem,),
        suggestions=suggestions,
    )


def _diagnose_found(raw: str, code: EnrollmentCode, when: dt.datetime, user: Any) -> CodeDiagnosis:
    contract = code.contract
    org = contract.organization
    used_seats = seats_used_of(contract)
    redemptions = code.redemptions.select_related("user")
    redemption_count = redemptions.count()
    latest = list(redemptions.order_by("-redeemed_on", "-pk")[:5]) if redemption_count else []
    by_user = None
    if user is not None and redemption_count:
        by_user = redemptions.filter(user=user).order_by("-redeemed_on", "-pk").first()

    problems = [
        *_window_problems(code, contract, when),
        *_use_problems(code, latest, by_user, user),
        *_contract_problems(contract, when, used_seats),
    ]
    if not _same_window(code, contract):
        problems.append(
            warning(
                "code_dates_mismatch",
                MSG["code_dates_mismatch"].format(
                    code_window=_window(code.activation_date, code.expiration_date),
                    contract_window=_window(contract.start, contract.end),
                ),
                FIX_SYNC_DATES,
            )
        )
    details = {
        "redemption_type": code.redemption_type,
        "activation_date": _iso(code.activation_date),
        "expiration_date": _iso(code.expiration_date),
        "redemptions": redemption_count,
        "latest_redemptions": [
            {"user": _who(r.user), "redeemed_on": r.redeemed_on.isoformat()} for r in latest
        ],
        "contract": {
            "id": contract.pk,
            "name": contract.name,
            "active": contract.active,
            "start": _iso(contract.start),
            "end": _iso(contract.end),
        },
        "organization": {"short_name": org.short_name, "name": org.name, "active": org.active},
        "seats_used": used_seats,
        "seats_total": contract.max_learners or None,
    }
    return CodeDiagnosis(
        input=escape_controls(raw),
        code=code.code,
        at=when,
        user=_username(user),
        problems=tuple(problems),
        found=True,
        details=details,
    )


def _window_problems(code: EnrollmentCode, contract: Contract, when: dt.datetime) -> list[Problem]:
    problems = []
    # Aligning the code with its contract fixes its window only when the contract's own dates
    # admit `when`: the classic case of a contract extended without its codes.
    sync_helps = not _same_window(code, contract) and _inside(contract.start, contract.end, when)
    fix = FIX_SYNC_DATES if sync_helps else None
    hint = (
        MSG["sync_would_help"].format(contract_window=_window(contract.start, contract.end))
        if sync_helps
        else ""
    )
    if code.activation_date and when < code.activation_date:
        text = MSG["code_not_yet_active"].format(when=format_when(code.activation_date))
        problems.append(error("code_not_yet_active", text + hint, fix))
    if code.expiration_date and when >= code.expiration_date:
        text = MSG["code_expired"].format(when=format_when(code.expiration_date))
        problems.append(error("code_expired", text + hint, fix))
    return problems


def _use_problems(
    code: EnrollmentCode, latest: list[CodeRedemption], by_user: CodeRedemption | None, user: Any
) -> list[Problem]:
    kind = code.redemption_type
    if kind == EnrollmentCode.RedemptionType.ONE_TIME and latest:
        first = (
            latest[0]
            if len(latest) == 1
            else code.redemptions.select_related("user").order_by("redeemed_on", "pk").first()
        )
        text = MSG["code_used"].format(who=_who(first.user), when=format_when(first.redeemed_on))
        if user is not None and first.user_id == user.pk:
            text += MSG["used_by_this_user"]
        return [error("code_used", text)]
    if kind == EnrollmentCode.RedemptionType.ONE_TIME_PER_USER and by_user is not None:
        text = MSG["already_redeemed_by_user"].format(
            who=_who(by_user.user), when=format_when(by_user.redeemed_on)
        )
        return [error("already_redeemed_by_user", text)]
    return []


def _contract_problems(contract: Contract, when: dt.datetime, used_seats: int) -> list[Problem]:
    facts = {"contract": contract, "org": contract.organization}
    facts |= {"used": used_seats, "total": contract.max_learners}
    moments = {CONTRACT_NOT_STARTED: contract.start, CONTRACT_ENDED: contract.end}
    problems = []
    for blocker in contract_blockers(contract, at=when, seats_used=used_seats):
        moment = moments.get(blocker)
        text = MSG[blocker].format(**facts, when=format_when(moment) if moment else "")
        problems.append(error(blocker, text, FIX_ADD_SEATS if blocker == CONTRACT_FULL else None))
    return problems


def _same_window(code: EnrollmentCode, contract: Contract) -> bool:
    return (code.activation_date, code.expiration_date) == (contract.start, contract.end)


def _inside(start: dt.datetime | None, end: dt.datetime | None, when: dt.datetime) -> bool:
    return (start is None or start <= when) and (end is None or when < end)


def _window(start: dt.datetime | None, end: dt.datetime | None) -> str:
    since = format_when(start) if start else "no start date"
    until = format_when(end) if end else "no end date"
    return f"{since} to {until}"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _who(user: Any) -> str:
    return f"{user.username} ({user.email})" if user.email else user.username


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None
