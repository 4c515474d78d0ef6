"""A learner's history on the console: about(user), bulk runs included, previews on request."""

import pytest

from console.history import HISTORY_LENGTH, action_label, learner_history
from orgs.amc.services import ensure_amc_admin
from support_tools.models import SupportAction, SupportActionLearner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _row(action, *, subject=None, door="admin", dry_run=False, outcome="changed"):
    return SupportAction.objects.create(
        actor_label="support-sam",
        door=door,
        action=action,
        subject_user=subject,
        dry_run=dry_run,
        outcome=outcome,
    )


def test_previews_and_the_consoles_own_checks_are_left_out_unless_asked(mat, support_actor):
    ensure_amc_admin(user=mat, organization="acme", actor=support_actor, dry_run=True)
    ensure_amc_admin(user=mat, organization="acme", actor=support_actor)
    _row("diagnose_amc_user", subject=mat, door="console", outcome="problems")
    _row("diagnose_amc_user", subject=mat, door="admin", outcome="problems")

    history = learner_history(mat)
    assert [(r.action, r.door, r.dry_run) for r in history.rows] == [
        ("diagnose_amc_user", "admin", False),
        ("ensure_amc_admin", "admin", False),
    ]
    assert history.previews_hidden == 2 and not history.previews_shown

    everything = learner_history(mat, previews=True)
    assert len(everything.rows) == 4 and everything.previews_hidden == 0
    (preview,) = [r for r in everything.rows if r.dry_run]
    assert preview.outcome_words == "would change"  # a preview changed nothing
    assert history.rows[1].outcome_words == "changed"


def test_bulk_runs_that_touched_the_learner_are_included_once(db):
    lea = UserFactory(username="lea")
    run = _row("link_program_enrollments")
    SupportActionLearner.objects.create(action=run, user=lea, key="K-1", outcome="linked")
    SupportActionLearner.objects.create(action=run, user=lea, key="K-2", outcome="linked")
    _row("link_program_enrollments")  # someone else's sheet
    (row,) = learner_history(lea).rows
    assert row.id == run.pk and row.bulk and row.as_dict()["bulk"] is True


def test_the_list_is_bounded_and_says_when_more_exist(db):
    lea = UserFactory(username="lea")
    for _ in range(HISTORY_LENGTH + 1):
        _row("sync_code_dates", subject=lea)
    history = learner_history(lea)
    assert len(history.rows) == HISTORY_LENGTH and history.more
    assert not learner_history(lea, limit=HISTORY_LENGTH + 1).more


def test_actions_are_named_in_words():
    assert action_label("ensure_amc_token") == "Renew the AMC tokens"
    assert action_label("link_program_enrollments") == "Link program enrollments"
    assert action_label("something_new") == "Something new"
