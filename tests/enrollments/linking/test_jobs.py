"""A link sheet as a background job, on the real task queue (Redis and a Celery worker)."""

import os
import signal
import subprocess
import sys
import threading
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from enrollments.linking import jobs as link_jobs
from enrollments.linking import service as linking
from enrollments.linking.jobs import NOT_A_PREVIEW, apply_link_job, run_link_job, start_link_job
from enrollments.linking.service import PROGRAM_NOT_FOUND, link_program_enrollments
from support_tools.actors import Actor
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.jobs import service as jobs
from support_tools.jobs.models import Job, JobRow
from support_tools.models import SupportAction
from support_tools.permissions import SUPPORT_GROUP
from tests.enrollments.factories import PROGRAM
from tests.enrollments.linking.cohort import HeldStep, cohort, fully_linked, untouched
from tests.factories import UserFactory
from tests.support_tools.jobs.fixtures import finished, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def small_steps(monkeypatch):
    """Steps of two rows: a sheet of a few rows runs as several steps."""
    monkeypatch.setattr(linking, "BATCH_SIZE", 2)
    monkeypatch.setattr(linking, "STEP_BATCHES", 1)


@pytest.fixture
def sheet():
    return cohort(6)  # 6 learners and an error row: 4 steps


@pytest.fixture
def actor(support_user):
    return Actor.for_user(support_user, door="api")


def test_a_link_job_runs_to_completion_and_its_result_is_the_direct_calls(job_worker, actor, sheet):
    direct = link_program_enrollments(program_uuid=PROGRAM, pairs=sheet, actor=actor, dry_run=True)

    preview = start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=actor, dry_run=True)
    wait_for(finished(preview))

    assert (preview.status, preview.error) == ("done", "")
    assert jobs.as_dict(preview)["result"] == direct.as_dict()
    assert (preview.progress_done, preview.progress_total) == (7, 7)
    assert all(untouched(i) for i in range(6))  # a preview writes nothing

    real = apply_link_job(preview.pk, actor=actor)
    wait_for(finished(real))

    done, preview_rows = jobs.as_dict(real)["result"], direct.as_dict()["results"]
    assert done == {**direct.as_dict(), "dry_run": False, "results": done["results"]}
    assert [r["status"] for r in done["results"]] == [r["status"] for r in preview_rows]
    assert (
        preview_rows[0]["message"]
        == "Would link to learner0; masters course enrollments: 2 would be created."
    )
    assert (
        done["results"][0]["message"]
        == "Linked to learner0; masters course enrollments: 2 created."
    )
    assert all(fully_linked(i) for i in range(6))
    steps = SupportAction.objects.filter(inputs__job=str(real.pk))  # in the order they ended
    assert sorted(s.inputs["sheet_rows"] for s in steps) == [
        "1-2 of 7",
        "3-4 of 7",
        "5-6 of 7",
        "7-7 of 7",
    ]
    assert {s.door for s in steps} == {"api"} and not any(s.dry_run for s in steps)
    # What the job did is whole: the same sheet again changes nothing.
    again = link_program_enrollments(program_uuid=PROGRAM, pairs=sheet, actor=actor)
    assert [r.status for r in again.rows] == ["unchanged"] * 6 + ["error"]


def test_progress_moves_between_steps(job_worker, actor, sheet, monkeypatch):
    held = HeldStep(monkeypatch, at=3)
    job = start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=actor)

    assert held.reached.wait(timeout=60)
    # Steps 1 and 2 may run at once: the one that ends last reports 4; steps 3 and 4 wait.
    wait_for(lambda: Job.objects.get(pk=job.pk).progress_done == 4)
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total) == ("running", 4, 7)
    assert [fully_linked(i) for i in range(6)] == [True] * 4 + [False] * 2
    held.released.set()
    wait_for(finished(job))
    assert (job.status, job.progress_done) == ("done", 7)
    assert all(fully_linked(i) for i in range(6))


def test_cancel_stops_the_job_at_its_next_step(job_worker, actor, sheet, monkeypatch, settings):
    settings.LINK_WORKERS = 1  # one step at a time: the cancel lands between steps 1 and 2
    held = HeldStep(monkeypatch, at=2)
    job = start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=actor)
    assert held.reached.wait(timeout=60)

    jobs.cancel_job(job.pk, actor=actor)
    held.released.set()
    wait_for(finished(job))

    assert job.status == "failed"
    assert job.error == jobs.JOB_CANCELLED.format(who="support-sam", done=4, total=7)
    assert [fully_linked(i) for i in range(6)] == [True] * 4 + [False] * 2
    assert untouched(4) and untouched(5)
    # The rows done stay kept, for the page that says what was done.
    assert list(JobRow.objects.filter(job=job).values_list("index", flat=True)) == [0, 1, 2, 3]


@pytest.mark.postgres
def test_cancel_with_steps_at_once_lets_the_started_ones_finish(
    job_worker, actor, sheet, monkeypatch, settings
):
    """Two steps at a time: the first one is done, the next two are held as they start. After
    the cancel both finish (each is whole), and the last step never starts."""
    settings.LINK_WORKERS = 2
    held = HeldStep(monkeypatch, at=2)
    job = start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=actor)
    wait_for(lambda: held.calls == 3)

    jobs.cancel_job(job.pk, actor=actor)
    held.released.set()
    wait_for(finished(job))

    assert (job.status, held.calls) == ("failed", 3)
    assert job.error == jobs.JOB_CANCELLED.format(who="support-sam", done=6, total=7)
    assert all(fully_linked(i) for i in range(6))
    assert sorted(JobRow.objects.filter(job=job).values_list("index", flat=True)) == list(range(6))


def test_a_failed_job_reports_its_sentence(job_worker, actor, sheet):
    missing = uuid.uuid4()
    job = jobs.enqueue(
        linking.ACTION,
        actor=actor,
        payload={"program_uuid": str(missing), "rows": sheet},
        summary={},
        total=len(sheet),
    )
    wait_for(finished(job))
    assert (job.status, job.error) == ("failed", PROGRAM_NOT_FOUND.format(program=missing))


def test_a_job_whose_starter_lost_the_permission_stops_with_the_refusal(
    job_worker, support_user, sheet
):
    actor = Actor.for_user(support_user, door="admin")
    with jobs_paused():
        job = start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=actor)
        support_user.groups.remove(Group.objects.get(name=SUPPORT_GROUP))
    wait_for(finished(job))
    assert job.error == PERMISSION_DENIED.format(action="link_program_enrollments")
    assert all(untouched(i) for i in range(6))


class jobs_paused:  # noqa: N801 - reads as a statement
    """Jobs enqueued inside are sent to the queue only on leaving (as on a commit)."""

    def __enter__(self):
        self.sent = []
        self.real = jobs._send
        jobs._send = self.sent.append

    def __exit__(self, *exc):
        jobs._send = self.real
        for job in self.sent:
            self.real(job)


def unqueued_job(actor, sheet):
    """A link job as the queue holds it, run by the test itself (`jobs.run`)."""
    return Job.objects.create(
        action=linking.ACTION,
        actor=actor.user,
        actor_label=actor.label,
        door=actor.door,
        payload={"program_uuid": str(PROGRAM), "rows": sheet},
        progress_total=len(sheet),
    )


def test_a_retried_job_resumes_after_its_last_kept_step(actor, sheet, monkeypatch):
    """A worker that dies mid-job leaves its job running; the message comes back and the job
    runs again: the steps it kept stay as they were, the rest is done once."""

    class WorkerDied(BaseException):  # not an Exception: nothing catches it, as a kill
        pass

    calls = []
    real = link_jobs.link_step

    def dies_before_step_3(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 3:
            raise WorkerDied
        return real(*args, **kwargs)

    monkeypatch.setattr(link_jobs, "link_step", dies_before_step_3)
    job = unqueued_job(actor, sheet)
    with pytest.raises(WorkerDied):
        jobs.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.progress_done, JobRow.objects.filter(job=job).count()) == (
        "running",
        4,
        4,
    )

    monkeypatch.setattr(link_jobs, "link_step", real)
    job = jobs.run(job.pk)

    assert (job.status, job.attempts) == ("done", 2)
    result = jobs.as_dict(job)["result"]
    assert [r["status"] for r in result["results"]] == ["linked", "relinked"] + ["linked"] * 4 + [
        "error"
    ]
    assert result["counts"] == {"linked": 5, "relinked": 1, "unchanged": 0, "error": 1}
    assert all(fully_linked(i) for i in range(6))
    assert SupportAction.objects.filter(inputs__job=str(job.pk), outcome="changed").count() == 3


@pytest.mark.postgres
def test_a_retried_job_runs_again_only_the_steps_it_did_not_keep(
    actor, sheet, monkeypatch, settings
):
    """Two steps at a time: step 2 dies after the other thread has done steps 3 and 4, so the
    steps kept have a gap. Run again, the job runs step 2 alone."""

    class WorkerDied(BaseException):
        pass

    settings.LINK_WORKERS = 2
    real, ran, others_done = link_jobs.link_step, [], threading.Event()

    def step_2_dies_last(sheet_, start, stop, **kwargs):
        ran.append(start)
        if start == 2:
            assert others_done.wait(timeout=60)
            raise WorkerDied
        rows = real(sheet_, start, stop, **kwargs)
        if start == 6:  # the last step: the other thread has done 1, 3 and 4 by now
            others_done.set()
        return rows

    monkeypatch.setattr(link_jobs, "link_step", step_2_dies_last)
    job = unqueued_job(actor, sheet)
    with pytest.raises(WorkerDied):
        jobs.run(job.pk)
    kept = sorted(JobRow.objects.filter(job=job).values_list("index", flat=True))
    assert (sorted(ran), kept) == ([0, 2, 4, 6], [0, 1, 4, 5, 6])
    assert untouched(2) and untouched(3)

    ran.clear()
    monkeypatch.setattr(link_jobs, "link_step", lambda *a, **k: ran.append(a[1]) or real(*a, **k))
    job = jobs.run(job.pk)

    assert (job.status, job.attempts, ran) == ("done", 2, [2])
    result = jobs.as_dict(job)["result"]
    assert result["counts"] == {"linked": 5, "relinked": 1, "unchanged": 0, "error": 1}
    assert all(fully_linked(i) for i in range(6))
    steps = SupportAction.objects.filter(inputs__job=str(job.pk), outcome="changed")
    assert sorted(s.inputs["sheet_rows"] for s in steps) == ["1-2 of 7", "3-4 of 7", "5-6 of 7"]


def test_only_a_finished_preview_can_be_applied(actor, sheet):
    job = start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=actor, dry_run=True)
    with pytest.raises(SupportError) as refused:
        apply_link_job(job.pk, actor=actor)  # not run yet
    assert refused.value.kind == ErrorKind.CONFLICT
    assert refused.value.message == NOT_A_PREVIEW.format(id=job.pk)
    other = Actor.for_user(UserFactory(username="other", is_staff=True), door="admin")
    with pytest.raises(SupportError) as not_yours:
        apply_link_job(job.pk, actor=other)
    assert not_yours.value.kind == ErrorKind.PERMISSION


def test_starting_refuses_at_once_what_the_first_step_would(viewer_user, actor, sheet):
    viewer = Actor.for_user(viewer_user, door="api")
    with pytest.raises(SupportError) as refused:
        start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=viewer)
    assert refused.value.kind == ErrorKind.PERMISSION
    assert start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=viewer, dry_run=True)
    missing = uuid.uuid4()
    with pytest.raises(SupportError) as not_found:
        start_link_job(program_uuid=missing, pairs=sheet, actor=actor)
    assert not_found.value.message == PROGRAM_NOT_FOUND.format(program=missing)
    failed = SupportAction.objects.filter(outcome="failed").order_by("seq")
    assert [(f.actor_label, f.error) for f in failed] == [
        ("viewer-val", PERMISSION_DENIED.format(action="link_program_enrollments")),
        ("support-sam", PROGRAM_NOT_FOUND.format(program=missing)),
    ]
    assert Job.objects.count() == 1  # the viewer's preview


def test_the_runner_is_the_one_the_settings_name(settings):
    assert settings.JOB_RUNNERS[linking.ACTION] == "enrollments.linking.jobs.run_link_job"
    assert run_link_job is link_jobs.run_link_job


# --- A worker killed mid-job (PostgreSQL: the workers are processes on the test database) -----


def worker_process(**env):
    from django.db import connection

    from tests.support_tools.jobs.fixtures import redis_url

    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    database_url = f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return subprocess.Popen(
        [sys.executable, "-m", "tests.enrollments.linking.worker_process"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url(),
            "CELERY_BROKER_URL": redis_url(),
            "JOB_VISIBILITY_TIMEOUT_SECONDS": "3",
            "LINK_BATCH_SIZE": "2",
            **env,
        },
    )


@pytest.mark.postgres
def test_a_worker_killed_mid_job_leaves_no_learner_half_written_and_another_finishes(
    tmp_path, actor, sheet
):
    from project.celery import app
    from tests.support_tools.jobs.fixtures import redis_url

    app.conf.broker_url = redis_url()
    app.control.purge()
    held = tmp_path / "held"
    # One step at a time in the worker that is killed: step 1 is done, step 2 is cut off.
    first = worker_process(HOLD_FILE=str(held), HOLD_STEP="2", LINK_WORKERS="1")
    try:
        job = start_link_job(program_uuid=PROGRAM, pairs=sheet, actor=actor)
        wait_for(held.exists)
        job.refresh_from_db()
        assert (job.status, job.progress_done, job.attempts) == ("running", 2, 1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    # The killed step had written learners 2 and 3, uncommitted: the database rolled it back.
    assert [fully_linked(i) for i in (0, 1)] == [True, True]
    assert [untouched(i) for i in (2, 3, 4, 5)] == [True] * 4

    second = worker_process()
    try:
        wait_for(finished(job), timeout=120)
    finally:
        second.terminate()
        second.wait(timeout=30)

    assert (job.status, job.attempts, job.error) == ("done", 2, "")
    assert all(fully_linked(i) for i in range(6))
    result = jobs.as_dict(job)["result"]
    assert result["counts"] == {"linked": 5, "relinked": 1, "unchanged": 0, "error": 1}
    assert [r["status"] for r in result["results"]][:2] == ["linked", "relinked"]
    steps = SupportAction.objects.filter(inputs__job=str(job.pk), outcome="changed")
    assert sorted(s.inputs["sheet_rows"] for s in steps) == ["1-2 of 7", "3-4 of 7", "5-6 of 7"]
