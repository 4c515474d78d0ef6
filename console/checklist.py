"""The support console: one checklist per learner, built from every diagnosis that applies.

A ticket starts with a person, not a playbook. `learner_checklist` runs each applicable diagnosis
(each writes its own audit row) and turns its problems into one list of sections. A section that
cannot run (Keycloak slow or down, a missing setting) carries its message and the other sections
still render.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from accounts.selectors import resolve_user
from console.history import HISTORY_LENGTH, LearnerHistory, learner_history
from console.search import SEARCH_EMPTY, find_learners
from enrollments.linking.pages import link_page_url
from enrollments.linking.service import LINK_PROGRAM_ENROLLMENTS
from enrollments.programs import WORDING as PROGRAM_WORDING
from enrollments.programs.diagnosis import FIX_LINK, diagnose_program_enrollments
from orgs.amc import DIAGNOSE_AMC_USER, FIX_ADMIN, FIX_TOKEN, amc_traces, diagnose_amc_user
from orgs.amc import WORDING as AMC_WORDING
from orgs.codes import FIX_ADD_SEATS, FIX_SYNC_DATES, diagnose_code
from orgs.codes import WORDING as CODE_WORDING
from orgs.membership import WORDING as MEMBERSHIP_WORDING
from orgs.membership import Fix as MembershipFix
from orgs.membership import diagnose_org_membership, permission_for
from orgs.selectors import organizations_to_check, redemptions_of
from support_tools.actors import Actor
from support_tools.doors.wording import Wording
from support_tools.errors import SupportError
from support_tools.results import Problem

log = logging.getLogger(__name__)

__all__ = [
    "HISTORY_LENGTH",
    "SEARCH_EMPTY",
    "LearnerChecklist",
    "Section",
    "find_learners",
    "learner_checklist",
]

AMC_TITLE = "AMC access (the spinning wheel)"
NOT_AN_AMC_ADMIN = "Not an AMC admin: {facts}. The AMC checks were not run."
DIAGNOSE_AMC_ANYWAY = "Diagnose AMC anyway"
SAME_CAUSE = "The same cause as “{title}” under {section} above: its fix there covers this too."


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
    wording: Wording = Wording()
    note: str | None = None  # the section's checks do not apply: say why (no colour)
    links: tuple[tuple[str, str], ...] = ()  # (label, url): pages to go further
    same_cause: Mapping[str, str] = field(default_factory=dict)  # code -> where it is fixed

    @property
    def status(self) -> str:
        if self.error is not None or any(p.severity == "error" for p in self.problems):
            return "error"
        if self.note is not None:
            return "not_checked"
        return "warning" if self.problems else "ok"

    def as_dict(self, actor: Actor | None = None) -> dict[str, Any]:
        """The problems keep their JSON (code, severity, message, fix) and gain what a person
        reads: title, fix_label, and a fix_url only for a fix that can work and that `actor`
        may run, else a fix_note saying why there is no button."""
        fixes = {f.fix: f for f in self.fixes}
        problems = self.wording.present(
            [p.as_dict() for p in self.problems],
            may_apply=lambda fix: (
                fix in fixes and (actor is None or actor.has_perm(fixes[fix].permission))
            ),
            fix_url=lambda problem: fixes[problem["fix"]].url,
        )
        for problem in problems:
            if problem["code"] in self.same_cause:
                problem.update(fix_url=None, fix_note=self.same_cause[problem["code"]])
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "error": self.error,
            "note": self.note,
            "links": [{"label": label, "url": url} for label, url in self.links],
            "problems": problems,
            "details": self.details,
        }


@dataclass(frozen=True)
class LearnerChecklist:
    user_id: int
    username: str
    email: str
    sections: tuple[Section, ...]
    history: LearnerHistory
    actor: Actor | None = None

    @property
    def ok(self) -> bool:
        return all(s.status != "error" for s in self.sections)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "user": {"id": self.user_id, "username": self.username, "email": self.email},
            "sections": [s.as_dict(self.actor) for s in self.sections],
            "history": [row.as_dict() for row in self.history.rows],
            "history_previews_hidden": self.history.previews_hidden,
        }


SectionBuilder = Callable[[Any, Actor], list[Section]]


def learner_checklist(*, user: str | Any, actor: Actor, previews: bool = False) -> LearnerChecklist:
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
        sections=tuple(one_name_per_cause(sections)),
        history=learner_history(user_obj, previews=previews),
        actor=actor,
    )


def one_name_per_cause(sections: list[Section]) -> list[Section]:
    """One cause, one fix button: a membership the AMC section already reports (inactive, or
    none at all) is pointed there instead of offering a second fix under another name."""
    amc = next((s for s in sections if s.key == "amc" and s.problems), None)
    if amc is None:
        return sections
    codes = {p.code for p in amc.problems}
    admin_orgs = set(amc.details.get("organizations") or ())
    out = []
    for section in sections:
        local = (section.details.get("local") or {}).get("membership")
        org = section.key.removeprefix("membership-")
        cause = None
        if section.key.startswith("membership-"):
            if "org_mapping_inactive" in codes and local == "inactive" and org in admin_orgs:
                cause = "org_mapping_inactive"
            elif "no_organization" in codes and local == "missing":
                cause = "no_organization"
        if cause and any(p.code == "local_membership_missing" for p in section.problems):
            note = SAME_CAUSE.format(title=AMC_WORDING.title(cause), section=AMC_TITLE)
            section = replace(section, same_cause={"local_membership_missing": note})
        out.append(section)
    return out


def _title(build: SectionBuilder) -> str:
    return build.__name__.removeprefix("_").replace("_", " ").capitalize()


def console_url(learner: Any) -> str:
    return reverse("support:console-learner", kwargs={"user_id": learner.pk})


def fix_url(name: str, learner: Any, query: dict[str, Any] | None = None, **kwargs: Any) -> str:
    """The confirmation page of a fix, which leads back to the learner's console page."""
    url = reverse(name, kwargs=kwargs or None)
    return f"{url}?{urlencode({**(query or {}), 'next': console_url(learner)})}"


# --- Sections ---------------------------------------------------------------------------------

ENSURE_PERMISSIONS = {FIX_TOKEN: "run_ensure_amc_token", FIX_ADMIN: "run_ensure_amc_admin"}


def amc_section(user: Any, actor: Actor) -> list[Section]:
    """Always a section: the AMC's checks for anyone the AMC knows (an AMC account or token,
    an AMC-admin mapping); for anyone else, a line saying why they were not run and a link
    to run them anyway (a plain learner has no AMC tokens to miss)."""
    traces = amc_traces(user)
    if not traces.any:
        member = (
            f"a member of {', '.join(traces.member_of)} but not as AMC admin"
            if traces.member_of
            else "no organization"
        )
        anyway = fix_url("support:diagnose-amc-user", user, user_id=user.pk)
        return [
            Section(
                key="amc",
                title=AMC_TITLE,
                note=NOT_AN_AMC_ADMIN.format(facts=f"{member}, no AMC account, no AMC token"),
                links=((DIAGNOSE_AMC_ANYWAY, anyway),),
            )
        ]
    diagnosis = diagnose_amc_user(user=user, actor=actor)
    org = {"org": diagnosis.organizations[0]} if diagnosis.organizations else None
    fixes = (
        Fix(
            FIX_TOKEN,
            fix_url("support:ensure-amc-token", user, org, user_id=user.pk),
            ENSURE_PERMISSIONS[FIX_TOKEN],
        ),
        Fix(
            FIX_ADMIN,
            fix_url("support:ensure-amc-admin", user, org, user_id=user.pk),
            ENSURE_PERMISSIONS[FIX_ADMIN],
        ),
    )
    return [
        Section(
            key="amc",
            title=AMC_TITLE,
            problems=diagnosis.problems,
            fixes=fixes,
            wording=AMC_WORDING,
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
            Section(
                key=key,
                title=title,
                problems=diagnosis.problems,
                fixes=fixes,
                details=details,
                wording=MEMBERSHIP_WORDING,
            )
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
                wording=CODE_WORDING,
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
    back = console_url(user)
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
                wording=PROGRAM_WORDING,
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
