"""diagnose_org_membership: why a learner is missing from an organization or its contracts.

Reads Keycloak (through orgs.keycloak) and the local database; writes only its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.selectors import resolve_user
from orgs.membership.state import ACTION_DIAGNOSE, inspect_membership, problems_of
from orgs.models import Organization
from orgs.selectors import resolve_organization
from support_tools.actors import Actor
from support_tools.audit import support_action
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from support_tools.results import Problem, is_ok

VIEW_PERMISSION = "orgs.view_userorganizationmapping"
DIAGNOSE_ORG_MEMBERSHIP = ActionSpec(ACTION_DIAGNOSE, preview=VIEW_PERMISSION)


@dataclass(frozen=True)
class MembershipDiagnosis:
    user: str
    organization: str
    problems: tuple[Problem, ...]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return is_ok(self.problems)

    @property
    def fixes(self) -> list[str]:
        return [str(p.fix) for p in self.problems if p.fix]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "user": self.user,
            "organization": self.organization,
            "problems": [p.as_dict() for p in self.problems],
            **self.details,
        }


def diagnose_org_membership(
    *, user: str | Any, organization: str | Organization, actor: Actor
) -> MembershipDiagnosis:
    inputs = {"user": _ident(user), "organization": _ident(organization)}
    with support_action(DIAGNOSE_ORG_MEMBERSHIP, actor=actor, inputs=inputs) as trail:
        user_obj = resolve_user(user) if isinstance(user, str) else user
        trail.about(user_obj)
        org = resolve_organization(organization) if isinstance(organization, str) else organization
        trail.about(target=org)
        state = inspect_membership(user_obj, org)
        result = MembershipDiagnosis(
            user=user_obj.username,
            organization=org.short_name,
            problems=tuple(problems_of(state)),
            details=state.summary(),
        )
        trail.result = result.as_dict()
        trail.outcome = SupportAction.Outcome.OK if result.ok else SupportAction.Outcome.PROBLEMS
    return result


def _ident(value: Any) -> str:
    if isinstance(value, str):
        return value
    return getattr(value, "short_name", None) or value.get_username()
