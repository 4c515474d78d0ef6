"""A long sheet's steps at once (service.in_parallel), and the collector paused for the run.

On PostgreSQL, outside any transaction, LINK_WORKERS threads link the steps, each on its own
connection. The tests prove the overlap with a barrier that two steps must reach together
(it breaks, and the test fails, if the steps ran one after the other), not with timing.
"""

import gc
import threading

import pytest
from django.db import connection, transaction

from enrollments.linking import service as linking
from enrollments.linking.service import in_parallel, link_program_enrollments
from support_tools.actors import Actor
from support_tools.audit_verify import verify_audit_trail
from support_tools.errors import SupportError
from support_tools.models import SupportAction, SupportActionLearner
from tests.enrollments.factories import PROGRAM
from tests.enrollments.linking.cohort import cohort, fully_linked, untouched

WAIT_LIMIT = 60  # seconds: a bound that only a broken run reaches


@pytest.fixture
def small_steps(monkeypatch, settings):
    """Steps of two rows, two at a time."""
    monkeypatch.setattr(linking, "BATCH_SIZE", 2)
    monkeypatch.setattr(linking, "STEP_BATCHES", 1)
    settings.LINK_WORKERS = 2


class Steps:
    """Wraps service.link_step: records each step's thread and connection; the first `meet`
    steps wait for each other at a barrier before they link."""

    def __init__(self, monkeypatch, meet=2):
        self.real = linking.link_step
        self.barrier = threading.Barrier(meet) if meet else None
        self.lock = threading.Lock()
        self.started, self.pids = [], set()
        monkeypatch.setattr(linking, "link_step", self)

    def __call__(self, sheet, start, stop, **kwargs):
        with self.lock:
            self.started.append(start)
            first = len(self.started) <= (self.barrier.parties if self.barrier else 0)
        if first:
            self.barrier.wait(timeout=WAIT_LIMIT)
        with connection.cursor() as cursor:
            on_postgres = connection.vendor == "postgresql"
            cursor.execute("SELECT pg_backend_pid()" if on_postgres else "SELECT 1")
            self.pids.add(cursor.fetchone()[0])
        return self.real(sheet, start, stop, **kwargs)


def link(sheet, **kwargs):
    return link_program_enrollments(
        program_uuid=PROGRAM, pairs=sheet, actor=Actor.system("bulk"), **kwargs
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_steps_run_at_once_on_their_own_connections_with_the_result_of_one_run(
    small_steps, monkeypatch
):
    sheet = cohort(6)  # 6 learners and a row of an unknown user: steps 1-2, 3-4, 5-6, 7
    steps = Steps(monkeypatch)
    seen = []

    result = link(sheet, progress=lambda done, total: seen.append((done, total)))

    assert sorted(steps.started) == [0, 2, 4, 6] and len(steps.pids) == 2
    assert [(r.external_user_key, r.status) for r in result.rows] == [
        ("UNI-0", "linked"),
        ("UNI-1", "relinked"),
        *[(f"UNI-{i}", "linked") for i in range(2, 6)],
        ("UNI-404", "error"),
    ]
    assert all(fully_linked(i) for i in range(6))
    # Progress counts the rows done, whichever step finished: up to the whole sheet, in order.
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (7, 7) and len(seen) == 4
    # One audit row per step, all of the one run, and each learner found from it.
    rows = SupportAction.objects.filter(action=linking.ACTION, dry_run=False)
    parts = ["1-2 of 7", "3-4 of 7", "5-6 of 7", "7-7 of 7"]
    assert sorted(r.inputs["sheet_rows"] for r in rows) == parts
    assert len({r.inputs["run"] for r in rows}) == 1
    assert SupportActionLearner.objects.filter(action__in=rows, outcome="linked").count() == 5
    assert verify_audit_trail().ok  # two writers at once, one unbroken chain


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dry_run_of_steps_at_once_writes_nothing_and_says_the_same(small_steps, monkeypatch):
    sheet = cohort(6)
    Steps(monkeypatch)

    preview = link(sheet, dry_run=True)
    assert all(untouched(i) for i in range(6))
    done = link(sheet)

    assert [r.status for r in preview.rows] == [r.status for r in done.rows]
    would = "Would link to learner0; masters course enrollments: 2 would be created."
    assert preview.rows[0].message == would


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_step_fails_the_run_and_each_step_stays_whole(small_steps, monkeypatch):
    sheet = cohort(6)
    steps = Steps(monkeypatch)
    real = steps.real

    def step_2_refused(sheet_, start, stop, **kwargs):
        if start == 2:
            raise SupportError("refused in step 2")
        return real(sheet_, start, stop, **kwargs)

    steps.real = step_2_refused
    with pytest.raises(SupportError, match="refused in step 2"):
        link(sheet)

    assert untouched(2) and untouched(3)
    # Every learner is linked whole or not at all; step 1 ran beside the failing one.
    assert fully_linked(0) and fully_linked(1)
    assert all(fully_linked(i) or untouched(i) for i in range(6))


@pytest.mark.postgres
def test_the_first_failing_step_is_raised_and_no_step_starts_after_the_failures(settings):
    """in_parallel itself (no database work in the steps): steps 1 and 2 run at once and both
    fail, step 2 first; the run raises step 1's failure and steps 3 and 4 never start."""
    settings.LINK_WORKERS = 2
    barrier, second_failed = threading.Barrier(2), threading.Event()
    started = []

    def run(start, stop):
        started.append(start)
        barrier.wait(timeout=WAIT_LIMIT)
        if start == 0:
            assert second_failed.wait(timeout=WAIT_LIMIT)
            raise ValueError("step 1")
        second_failed.set()
        raise KeyError("step 2")

    with pytest.raises(ValueError, match="step 1"):
        in_parallel([(0, 2), (2, 4), (4, 6), (6, 8)], run)
    assert sorted(started) == [0, 2]


@pytest.mark.django_db(transaction=True)
def test_steps_run_one_after_the_other_inside_a_transaction_or_on_sqlite(small_steps, monkeypatch):
    sheet = cohort(6)
    steps = Steps(monkeypatch, meet=0)

    with transaction.atomic():
        result = link(sheet)

    assert steps.started == [0, 2, 4, 6] and len(steps.pids) == 1
    assert result.counts == {"linked": 5, "relinked": 1, "unchanged": 0, "error": 1}


@pytest.mark.django_db
def test_the_cyclic_collector_is_paused_for_the_run_and_resumed_after(small_steps):
    sheet = cohort(3)
    enabled = []

    link(sheet, progress=lambda done, total: enabled.append(gc.isenabled()))
    assert enabled and not any(enabled)
    assert gc.isenabled()

    with pytest.raises(SupportError):
        link_program_enrollments(program_uuid="not a uuid", pairs=sheet, actor=Actor.system("t"))
    assert gc.isenabled()
