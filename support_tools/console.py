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

from accounts.models import AmcAccount
from accounts.selectors import resolve_user
from support_tools.actors import Actor
from support_tools.errors import SupportError
from support_tools.models import SupportAction

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
    problems: tuple[dict[str, Any], ...] = ()
    fixes: tuple[Fix, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the section could not run: say why, keep the page

    @property
    def status(self) -> str:
        if self.error is not None or any(p["severity"] == "error" for p in self.problems):
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
                {**p, "fix_url": allowed[p["fix"]].url if p.get("fix") in allowed else None}
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
SECTION_BUILDERS: list[SectionBuilder] = []


def section_builder(fn: SectionBuilder) -> SectionBuilder:
    SECTION_BUILDERS.append(fn)
    return fn


def find_learners(query: str, *, limit: int = 20) -> list[Any]:
    """By email (case-insensitive, exact or partial), username, or external user key."""
    query = (query or "").strip()
    if not query:
        raise SupportError(SEARCH_EMPTY)
    from enrollments.models import ProgramEnrollment

    exact = Q(email__iexact=query) | Q(username=query)
    partial = Q(email__icontains=query) | Q(username__icontains=query)
    users = list(User.objects.filter(exact).order_by("username")[:limit])
    keyed = ProgramEnrollment.objects.filter(
        external_user_key__iexact=query, user__isnull=False
    ).values_list("user_id", flat=True)
    users += [u for u in User.objects.filter(pk__in=keyed) if u not in users]
    if not users:
        users = list(User.objects.filter(partial).order_by("username")[:limit])
    return users[:limit]


def learner_checklist(*, user: str | Any, actor: Actor) -> LearnerChecklist:
    actor.require("auth.view_user", action="the support console")
    user_obj = resolve_user(user) if isinstance(user, str) else user
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


@section_builder
def amc_section(user: Any, actor: Actor) -> list[Section]:
    """Only for AMC admins: someone with an AMC account, an AMC-admin mapping or AMC tokens."""
    from orgs.amc_diagnosis import FIX_ADMIN, FIX_TOKEN, diagnose_amc_user
    from orgs.models import UserOrganizationMapping

    is_amc_user = (
        AmcAccount.objects.filter(user=user).exists()
        or UserOrganizationMapping.objects.filter(user=user, is_amc_admin=True).exists()
    )
    if not is_amc_user:
        return []
    diagnosis = diagnose_amc_user(user=user, actor=actor).as_dict()
    org = {"org": diagnosis["organizations"][0]} if diagnosis["organizations"] else None
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
            problems=tuple(diagnosis["problems"]),
            fixes=fixes,
            details={
                "organizations": diagnosis["organizations"],
                "token_check": diagnosis["token_check"],
            },
        )
    ]
