"""A learner's support history on the console: every action about them, bulk runs included.

Previews (dry runs, such as the one every confirmation page runs when it opens) and the
console's own checks (one per section at each page view) are in the audit trail like every
other run, but they changed nothing: the console leaves them out of the list unless asked
(`previews=True`, the page's "Show previews and checks" toggle).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from enrollments.programs import FIX_LABELS as PROGRAM_FIX_LABELS
from orgs.amc import FIX_LABELS as AMC_FIX_LABELS
from orgs.codes import FIX_LABELS as CODE_FIX_LABELS
from support_tools.doors.wording import humanize
from support_tools.models import SupportAction

HISTORY_LENGTH = 15
OUTCOMES = set(SupportAction.Outcome.values)

# What each action is called on the page; the action's name stays beside it as small text.
ACTION_LABELS = {
    **AMC_FIX_LABELS,
    **CODE_FIX_LABELS,
    **PROGRAM_FIX_LABELS,
    "link_program_enrollments": "Link program enrollments",
    "diagnose_amc_user": "Diagnose AMC",
    "diagnose_code": "Diagnose enrollment code",
    "diagnose_org_membership": "Diagnose membership",
    "repair_org_membership": "Repair membership",
    "diagnose_program_enrollments": "Diagnose programs",
    "retire_learner_audit": "Retire personal data",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or humanize(action)


@dataclass(frozen=True)
class HistoryRow:
    id: int
    when: dt.datetime
    action: str
    actor: str
    door: str
    dry_run: bool
    outcome: str
    error: str
    bulk: bool  # found through the learners of a bulk run, not as its one subject

    @property
    def label(self) -> str:
        return action_label(self.action)

    @property
    def outcome_words(self) -> str:
        # A preview changed nothing: it "would change".
        if self.dry_run and self.outcome == SupportAction.Outcome.CHANGED:
            return "would change"
        return (
            SupportAction.Outcome(self.outcome).label if self.outcome in OUTCOMES else self.outcome
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "when": self.when.isoformat(),
            "action": self.action,
            "actor": self.actor,
            "door": self.door,
            "dry_run": self.dry_run,
            "outcome": self.outcome,
            "error": self.error,
            "bulk": self.bulk,
        }


@dataclass(frozen=True)
class LearnerHistory:
    rows: tuple[HistoryRow, ...]
    more: bool  # older rows exist beyond the list (the audit list has them all)
    previews_shown: bool
    previews_hidden: int  # how many previews and checks the list leaves out


def _quiet() -> Q:
    """Runs that changed nothing by design: dry runs, and the console's own checks."""
    console_reads = Q(
        door="console",
        outcome__in=[SupportAction.Outcome.OK, SupportAction.Outcome.PROBLEMS],
    )
    return Q(dry_run=True) | console_reads


def learner_history(
    user: Any, *, previews: bool = False, limit: int = HISTORY_LENGTH
) -> LearnerHistory:
    rows = SupportAction.objects.about(user)
    hidden = 0
    if not previews:
        hidden = rows.filter(_quiet()).count()
        rows = rows.exclude(_quiet())
    found = list(rows[: limit + 1])
    return LearnerHistory(
        rows=tuple(
            HistoryRow(
                id=row.pk,
                when=row.created_at,
                action=row.action,
                actor=row.actor_label,
                door=row.door,
                dry_run=row.dry_run,
                outcome=row.outcome,
                error=row.error,
                bulk=row.subject_user_id != user.pk,
            )
            for row in found[:limit]
        ),
        more=len(found) > limit,
        previews_shown=previews,
        previews_hidden=hidden,
    )
