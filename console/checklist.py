"""The support console: one checklist per learner, built from every diagnosis that applies.

A ticket starts with a person, not a playbook. `learner_checklist` runs each applicable diagnosis
(each writes its own audit row) and turns its problems into one list of sections. A section that
cannot run (Keycloak slow or down, a missing setting) carries its message and the other sections
still render.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode

from accounts.selectors import resolve_user
from enrollments.linking.pages import link_page_url
from enrollments.linking.service import LINK_PROGRAM_ENROLLMENTS
from enrollments.programs.diagnosis import FIX_LINK, diagnose_program_enrollments
from enrollments.selectors import user_ids_with_external_key
from orgs.amc import DIAGNOSE_AMC_USER, FIX_ADMIN, FIX_TOKEN, diagnose_amc_user, is_amc_user
from orgs.codes import FIX_ADD_SEATS, FIX_SYNC_DATES, diagnose_code
from orgs.membership import Fix as MembershipFix
from orgs.membership import diagnose_org_membership, permission_for
from orgs.selectors import organizations_to_check, redemptions_of
from support_tools.actors import Actor
from support_tools.errors import SupportError
from support_tools.models import SupportAction
from support_tools.results import Problem

log = logging.getLogger(__name__)
User = get_user_model()

SEARCH_EMPTY = "Type an email address, a username or an external user key."
HISTORY_LENGTH = 15


@dataclass(frozen=True)
class Fix:
    """A repair the console can offer: the admin page that confirms it, and who may run it."""

    fix: str
    url: str
    permission: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    problems: tuple[Problem, ...] = ()
    fixes: tuple[Fix, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the section could not run: say why, keep the page

    @property
    def status(self) -> str:
        if self.error is not None or any(p.severity == "error" for p in self.problems):
            return "error"
        return "warning" if self.problems else "ok"

    def as_dict(self, actor: Actor | None = None) -> dict[str, Any]:
        allowed = {f.fix: f for f in self.fixes if actor is None or actor.has_perm(f.permission)}
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "error": self.error,
            "problems": [
                {**p.as_dict(), "fix_url": allowed[p.fix].url if p.fix in allowed else None}
                for p in self.problems
            ],
            "details": self.details,
        }


@dataclass(frozen=True)
class LearnerChecklist:
    user_id: int
    username: str
    email: str
    sections: tuple[Section, ...]
    history: tuple[dict[str, Any], ...]
    actor: Actor | None = None

    @property
    def ok(self) -> bool:
        return all(s.status != "error" for s in self.sections)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "user": {"id": self.user_id, "username": self.username, "email": self.email},
            "sections": [s.as_dict(self.actor) for s in self.sections],
            "history": list(self.history),
        }


SectionBuilder = Callable[[Any, Actor], list[Section]]


def find_learners(query: str, *, limit: int = 20) -> list[Any]:
    """By email (case-insensitive, exact or partial), username, or external user key."""
    query = (query or "").strip()
    if not query:
        raise SupportError(SEARCH_EMPTY)
    exact = Q(email__iexact=query) | Q(username=query)
    partial = Q(email__icontains=query) | Q(username__icontains=query)
    users = list(User.objects.filter(exact).order_by("username")[:limit])
    keyed = user_ids_with_external_key(query)
    users += [u for u in User.objects.filter(pk__in=keyed) if u not in users]
    if not users:
        users = list(User.objects.filter(partial).order_by("username")[:limit])
    return users[:limit]


def learner_checklist(*, user: str | Any, actor: Actor) -> LearnerChecklist:
    if not DIAGNOSE_AMC_USER.can_preview(actor):  # the console's own door: who may see users
        actor.require(DIAGNOSE_AMC_USER.preview, action="the support console")
    user_obj = resolve_user(user)
    sections: list[Section] = []
    for build in SECTION_BUILDERS:
        try:
            sections.extend(build(user_obj, actor))
        except SupportError as exc:
            sections.append(Section(key=build.__name__, title=_title(build), error=exc.message))
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
            log.exception("console section %s failed", build.__name__)
            sections.append(
                Section(
                    key=build.__name__,
                    title=_title(build),
                    error=f"This section could not be checked ({type(exc).__name__}).",
                )
            )
    return LearnerChecklist(
        user_id=user_obj.pk,
        username=user_obj.username,
        email=user_obj.email,
        sections=tuple(sections),
        history=tuple(recent_history(user_obj)),
        actor=actor,
    )


def recent_history(user: Any) -> list[dict[str, Any]]:
    # The console's own diagnoses (one per section per page view) would drown the rest.
    own_reads = Q(
        door="console", outcome__in=[SupportAction.Outcome.OK, SupportAction.Outcome.PROBLEMS]
    )
    rows = (
        SupportAction.objects.filter(subject_user=user)
        .exclude(own_reads)
        .order_by("-created_at", "-id")
    )
    return [
        {
            "when": row.created_at.isoformat(),
            "action": row.action,
            "actor": row.actor_label,
            "door": row.door,
            "dry_run": row.dry_run,
            "outcome": row.outcome,
            "error": row.error,
        }
        for row in rows[:HISTORY_LENGTH]
    ]


def _title(build: SectionBuilder) -> str:
    return build.__name__.removeprefix("_").replace("_", " ").capitalize()


def fix_url(name: str, learner: Any, query: dict[str, Any] | None = None, **kwargs: Any) -> str:
    """The confirmation page of a fix, which leads back to the learner's console page."""
    back = reverse("support:console-learner", kwargs={"user_id": learner.pk})
    url = reverse(name, kwargs=kwargs or None)
    return f"{url}?{urlencode({**(query or {}), 'next': back})}"


# --- Sections ---------------------------------------------------------------------------------


def amc_section(user: Any, actor: Actor) -> list[Section]:
    """Only for AMC users: someone with an AMC account or an AMC-admin mapping."""
    if not is_amc_user(user):
        return []
    diagnosis = diagnose_amc_user(user=user, actor=actor)
    org = {"org": diagnosis.organizations[0]} if diagnosis.organizations else None
    fixes = (
        Fix(
            FIX_TOKEN,
            fix_url("support:ensure-amc-token", user, org, user_id=user.pk),
            "run_ensure_amc_token",
        ),
        Fix(
            FIX_ADMIN,
            fix_url("support:ensure-amc-admin", user, org, user_id=user.pk),
            "run_ensure_amc_admin",
        ),
    )
    return [
        Section(
            key="amc",
            title="AMC access (the spinning wheel)",
            problems=diagnosis.problems,
            fixes=fixes,
            details={
                "organizations": list(diagnosis.organizations),
                "token_check": diagnosis.token_check,
            },
        )
    ]


def membership_sections(user: Any, actor: Actor) -> list[Section]:
    """One section per organization the learner is in, or belongs in by email domain or
    contract: each runs diagnose_org_membership (Keycloak-controlled ones ask Keycloak)."""
    sections = []
    for org in organizations_to_check(user):
        key, title = f"membership-{org.short_name}", f"Membership of {org.name} ({org.short_name})"
        try:
            diagnosis = diagnose_org_membership(user=user, organization=org, actor=actor)
        except SupportError as exc:
            sections.append(Section(key=key, title=title, error=exc.message))
            continue
        fixes = tuple(
            Fix(
                fix.value,
                fix_url(
                    "support:repair-org-membership",
                    user,
                    {"org": org.short_name, "fix": fix.value},
                    user_id=user.pk,
                ),
                permission_for(fix),
            )
            for fix in MembershipFix
        )
        details = {
            k: v
            for k, v in diagnosis.as_dict().items()
            if k not in {"ok", "problems", "user", "organization"}
        }
        sections.append(
            Section(key=key, title=title, problems=diagnosis.problems, fixes=fixes, details=details)
        )
    return sections


# A code the learner redeemed is "used" by them: that is not the problem they call about.
_EXPECTED_FOR_REDEEMER = {"code_used", "already_redeemed_by_user"}


def redeemed_code_sections(user: Any, actor: Actor) -> list[Section]:
    sections = []
    for redemption in redemptions_of(user, limit=10):
        code = redemption.code
        diagnosis = diagnose_code(code_text=code, user=user, actor=actor)
        contract = diagnosis.details.get("contract")
        fixes = [
            Fix(
                FIX_SYNC_DATES,
                fix_url("support:sync-code-dates", user, {"code": code}),
                "run_sync_code_dates",
            )
        ]
        if contract:
            fixes.append(
                Fix(
                    FIX_ADD_SEATS,
                    fix_url("support:add-contract-seats", user, contract_id=contract["id"]),
                    "run_add_contract_seats",
                )
            )
        sections.append(
            Section(
                key=f"code-{code}",
                title=f"Code {code} (redeemed {redemption.redeemed_on:%Y-%m-%d})",
                problems=tuple(
                    p for p in diagnosis.problems if p.code not in _EXPECTED_FOR_REDEEMER
                ),
                fixes=tuple(fixes),
                details={
                    "contract": contract,
                    "organization": diagnosis.details.get("organization"),
                },
            )
        )
    return sections


def program_sections(user: Any, actor: Actor) -> list[Section]:
    """One section per program enrollment of the learner (enrollments' own diagnosis)."""
    diagnosis = diagnose_program_enrollments(user=user, actor=actor)
    back = reverse("support:console-learner", kwargs={"user_id": user.pk})
    sections = []
    for program in diagnosis.programs:
        fixes = ()
        if program.external_user_key:
            url = link_page_url(
                program.program_uuid,
                [(program.external_user_key, user.username)],
                next_url=back,
            )
            fixes = (Fix(FIX_LINK, url, LINK_PROGRAM_ENROLLMENTS.apply[0]),)
        sections.append(
            Section(
                key=f"program-{program.program_uuid}",
                title=f"Program {program.program_uuid} ({program.status})",
                problems=program.problems,
                fixes=fixes,
                details={
                    "external_user_key": program.external_user_key,
                    "courses": [c.as_dict() for c in program.courses],
                },
            )
        )
    return sections


# Every section of the page, in order.
SECTION_BUILDERS: list[SectionBuilder] = [
    amc_section,
    membership_sections,
    redeemed_code_sections,
    program_sections,
]
