"""Two link runs at once, on PostgreSQL: real threads, each with its own connection.

The runs are stepped with events at the service's progress hook (called after each batch,
inside the run's transaction) and with PostgreSQL's own view of who waits on whom
(`pg_blocking_pids`), so that each test reaches the interleaving it is about every time,
instead of hoping that timing produces it.
"""

import threading
import time

import pytest
from django.db import connection

from enrollments.linking.service import link_program_enrollments
from enrollments.models import CourseEnrollment, ProgramEnrollment
from support_tools.actors import Actor
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    PROGRAM,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:UNI+C1+2025"
WAIT_LIMIT = 60  # seconds: a bound that only a broken run reaches, never a pause


@pytest.fixture(autouse=True)
def one_step_at_a_time(settings):
    """Each run takes its steps one after the other: these tests step two runs against each
    other batch by batch (a run's own steps at once are tested in test_parallel_steps.py)."""
    settings.LINK_WORKERS = 1


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def blocks(holder_pid, waiter_pid):
    """Whether `waiter_pid` waits on a lock that `holder_pid` holds (asked on this thread's
    own connection, also inside its open transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [holder_pid, waiter_pid])
        return cursor.fetchone()[0]


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        threading.Event().wait(0.01)


class Run(threading.Thread):
    """One link run in its own thread and connection; `hook` is its progress callback."""

    def __init__(self, name, pairs, hook=None, start_after=None):
        super().__init__(name=name)
        self.pairs, self.hook, self.start_after = pairs, hook, start_after
        self.pid = None
        self.ready = threading.Event()  # the connection is open and its pid known
        self.result = self.error = None

    def run(self):
        try:
            self.pid = backend_pid()
            self.ready.set()
            if self.start_after is not None:
                self.start_after.wait(WAIT_LIMIT)
            self.result = link_program_enrollments(
                program_uuid=PROGRAM,
                pairs=self.pairs,
                actor=Actor.system(self.name),
                progress=self.hook,
            )
        except Exception as exc:  # noqa: BLE001 - asserted by the test
            self.error = exc
        finally:
            self.ready.set()
            connection.close()

    def statuses(self):
        return [row.status for row in self.result.rows]


def finish(*runs):
    for run in runs:
        run.join(WAIT_LIMIT * 2)
        assert not run.is_alive(), f"{run.name} never finished"
    assert [run.error for run in runs] == [None] * len(runs)


def program_of(count):
    CourseModeFactory(course_key=COURSE, mode_slug="masters")
    CourseModeFactory(course_key=COURSE, mode_slug="audit")
    keys = [f"KEY-{i}" for i in range(count)]
    for key in keys:  # ids grow with the keys' order
        ProgramCourseEnrollmentFactory(
            program_enrollment=ProgramEnrollmentFactory(external_user_key=key), course_key=COURSE
        )
    return keys


def test_overlapping_sheets_in_reverse_orders_queue_instead_of_deadlocking(monkeypatch):
    """Each run pauses after its first batch until the other has done its first batch too, or
    waits on it. Taken batch by batch in each sheet's own order, the two first batches are
    disjoint and the second ones cross: PostgreSQL aborted one run with a deadlock."""
    monkeypatch.setattr("enrollments.linking.service.BATCH_SIZE", 2)
    keys = program_of(6)
    for i in range(6):
        UserFactory(username=f"user{i}")
    sheet = [(key, f"user{i}") for i, key in enumerate(keys)]
    first_batch = {"a": threading.Event(), "b": threading.Event()}
    runs = {}

    def hook_of(me, other):
        def hook(done, total):
            if done > 2:
                return
            first_batch[me].set()
            wait_until(
                lambda: first_batch[other].is_set() or blocks(runs[me].pid, runs[other].pid),
                f"run {other} to finish its first batch or wait on run {me}",
            )

        return hook

    runs["a"] = Run("run-a", sheet, hook_of("a", "b"))
    runs["b"] = Run("run-b", sheet[::-1], hook_of("b", "a"))
    for run in runs.values():
        run.start()
    finish(*runs.values())

    # A run commits step by step (a batch each): the two runs interleave at batch boundaries,
    # and each key is linked by exactly one of them, the other finding it done.
    by_key = {}
    for run in runs.values():
        for row in run.result.rows:
            by_key.setdefault(row.external_user_key, []).append(row.status)
    assert {key: sorted(statuses) for key, statuses in by_key.items()} == {
        key: ["linked", "unchanged"] for key in keys
    }
    assert dict(
        ProgramEnrollment.objects.values_list("external_user_key", "user__username")
    ) == dict(sheet)
    assert "failed" not in set(SupportAction.objects.values_list("outcome", flat=True))


def test_two_runs_linking_the_same_keys_to_different_users_report_and_audit_the_relink():
    """Run b starts while run a holds the keys' locks and has written its links; it waits
    on them, and must then see a's users: every key `relinked` from a's user, audited so."""
    keys = program_of(3)
    anns = [UserFactory(username=f"ann{i}").username for i in range(3)]
    bobs = [UserFactory(username=f"bob{i}").username for i in range(3)]
    a_written = threading.Event()
    runs = {}

    def hold_until_b_waits(done, total):
        a_written.set()
        wait_until(lambda: blocks(runs["a"].pid, runs["b"].pid), "run b to wait on run a")

    runs["a"] = Run("run-a", list(zip(keys, anns, strict=True)), hold_until_b_waits)
    runs["b"] = Run("run-b", list(zip(keys, bobs, strict=True)), start_after=a_written)
    for run in runs.values():
        run.start()
    finish(*runs.values())

    assert runs["a"].statuses() == ["linked"] * 3
    assert runs["b"].statuses() == ["relinked"] * 3
    for row, ann in zip(runs["b"].result.rows, anns, strict=True):
        assert row.message.startswith(f"Relinked from {ann} to ")
    assert dict(
        ProgramEnrollment.objects.values_list("external_user_key", "user__username")
    ) == dict(zip(keys, bobs, strict=True))
    # a's learners lost the course enrollments linking gave them; b's have theirs.
    assert set(CourseEnrollment.objects.values_list("user__username", "mode", "is_active")) == {
        (ann, "audit", False) for ann in anns
    } | {(bob, "masters", True) for bob in bobs}

    audit = SupportAction.objects.get(actor_label__startswith="run-b ")
    relinks = [c for c in audit.changes if c["object"].startswith("enrollments.ProgramEnrollment")]
    assert sorted((c["before"], c["after"]) for c in relinks) == list(zip(anns, bobs, strict=True))
