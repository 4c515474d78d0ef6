"""diagnose_org_membership: why a learner is missing from an organization or its contracts.

Reads Keycloak (through orgs.keycloak) and the local database; writes only its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.selectors import resolve_user
from orgs.membership.checks import problems_of
from orgs.membership.inspect import inspect_membership
from orgs.membership.names import ACTION_DIAGNOSE, VIEW_PERMISSION
from orgs.models import Organization
from orgs.selectors import resolve_organization
from support_tools.actors import Actor
from support_tools.audit import ident, support_action
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from support_tools.results import Diagnosis, Problem

DIAGNOSE_ORG_MEMBERSHIP = ActionSpec(ACTION_DIAGNOSE, preview=VIEW_PERMISSION)


@dataclass(frozen=True)
class MembershipDiagnosis(Diagnosis):
    user: str
    organization: str
    problems: tuple[Problem, ...]
    details: dict[str, Any] = field(default_factory=dict)  # both sides as read: state.summary()

    def payload(self) -> dict[str, Any]:
        return {"user": self.user, "organization": self.organization, **self.details}


def diagnose_org_membership(
    *, user: str | Any, organization: str | Organization, actor: Actor
) -> MembershipDiagnosis:
    inputs = {"user": ident(user), "organization": ident(organization)}
    with support_action(DIAGNOSE_ORG_MEMBERSHIP, actor=actor, inputs=inputs) as trail:
        user_obj = resolve_user(user)
        trail.about(user_obj)
        org = resolve_organization(organization)
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
