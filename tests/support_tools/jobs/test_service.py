"""Background jobs on the real task queue: run, progress, cancel, failures, the API door."""

import pytest
from django.urls import reverse

from orgs.models import Organization
from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError
from support_tools.jobs import service
from support_tools.jobs.models import Job
from tests.support_tools.jobs import runners as test_runners
from tests.support_tools.jobs.fixtures import finished, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_job_runs_on_the_worker_and_matches_the_direct_call(worker, support_user):
    actor = Actor.for_user(support_user, door="api")
    job = service.enqueue(
        "make_orgs", actor=actor, payload={"names": ["a1", "a2", "a3"]}, summary={}, total=3
    )
    wait_for(finished(job))
    assert (job.status, job.error, job.result) == ("done", "", {"created": 3, "unchanged": 0})
    assert (job.progress_done, job.progress_total, job.attempts) == (3, 3, 1)
    assert set(Organization.objects.values_list("short_name", flat=True)) >= {"a1", "a2", "a3"}

    # The same work run directly changes nothing now: what the job did is whole and done.
    again = service.enqueue(
        "make_orgs", actor=actor, payload={"names": ["a1", "a2", "a3"]}, summary={}, total=3
    )
    assert service.run(again.pk).result == {"created": 0, "unchanged": 3}


def test_progress_moves_and_cancel_stops_at_the_next_step(worker, support_user):
    actor = Actor.for_user(support_user, door="api")
    test_runners.GATE.clear()
    test_runners.STEPPED.clear()
    job = service.enqueue(
        "make_orgs",
        actor=actor,
        payload={"names": ["c1", "c2", "c3", "c4"], "hold_after": 2},
        summary={},
        total=4,
    )
    assert test_runners.STEPPED.wait(timeout=30)
    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("running", 2)
    service.cancel_job(job.pk, actor=actor)
    test_runners.GATE.set()
    wait_for(finished(job))
    assert job.status == "failed" and job.error.startswith("Cancelled by support-sam after 3 of 4")
    assert not Organization.objects.filter(short_name="c4").exists()
    with pytest.raises(SupportError) as again:
        service.cancel_job(job.pk, actor=actor)
    assert again.value.kind == ErrorKind.CONFLICT


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ("refuse", "The sheet names a program that does not exist."),
        ("crash", "An unexpected error stopped the job (ZeroDivisionError) after 1 of 2"),
    ],
)
def test_a_failed_job_reports_its_sentence(worker, support_user, action, error):
    job = service.enqueue(
        action, actor=Actor.for_user(support_user, door="api"), payload={}, summary={}, total=2
    )
    wait_for(finished(job))
    assert job.status == "failed" and job.error.startswith(error)


def test_a_queued_job_cancelled_never_runs(runners, support_user):
    actor = Actor.for_user(support_user, door="api")
    job = Job.objects.create(action="make_orgs", actor=support_user, actor_label="x", door="api")
    service.cancel_job(job.pk, actor=actor)
    job.refresh_from_db()
    assert job.status == "failed" and "Cancelled by support-sam" in job.error
    assert service.run(job.pk).status == "failed"  # a late delivery does nothing


def test_a_message_that_outlived_its_job_is_dropped_with_one_line(caplog):
    from support_tools.jobs.tasks import run_job

    gone = "0b6b7f3e-0000-4000-8000-000000000000"
    with caplog.at_level("WARNING", logger="support_tools.jobs.service"):
        assert run_job(gone) is None  # the task's body: no exception for the worker to trace
    assert [r.getMessage() for r in caplog.records] == [
        f"job {gone} no longer exists: its message is dropped"
    ]
    assert not Job.objects.exists()


def test_the_api_shows_a_job_to_its_owner_and_to_job_viewers(client, runners, viewer_user):
    from tests.factories import UserFactory

    owner = UserFactory(username="owner", is_staff=True)
    job = Job.objects.create(
        action="make_orgs",
        actor=owner,
        actor_label="owner",
        door="api",
        progress_total=5,
    )
    url = reverse("api-job", kwargs={"job_id": job.pk})
    client.force_login(owner)
    body = client.get(url).json()
    assert body == {
        "id": str(job.pk),
        "action": "make_orgs",
        "status": "queued",
        "progress": {"done": 0, "total": 5},
        "result": None,
        "error": None,
        "url": url,
    }
    other = Job.objects.create(
        action="make_orgs", actor=viewer_user, actor_label="viewer-val", door="api"
    )
    refused = client.get(reverse("api-job", kwargs={"job_id": other.pk}))
    assert refused.status_code == 403 and refused.json()["kind"] == "permission"
    client.force_login(viewer_user)  # holds jobs.view_job: sees everyone's
    assert client.get(url).json()["id"] == str(job.pk)
    client.force_login(owner)
    missing = client.get(
        reverse("api-job", kwargs={"job_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12})
    )
    assert missing.status_code == 404 and missing.json()["kind"] == "not_found"
    cancelled = client.post(reverse("api-cancel-job", kwargs={"job_id": job.pk}))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "failed"


def test_a_broker_that_is_down_fails_the_job_with_a_sentence(runners, support_user, monkeypatch):
    from kombu.exceptions import OperationalError

    from support_tools.jobs.tasks import run_job

    def refuse(*args, **kwargs):  # the edge of the system: the broker's connection
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(run_job, "apply_async", refuse)
    job = service.enqueue(
        "make_orgs",
        actor=Actor.for_user(support_user, door="api"),
        payload={"names": []},
        summary={},
        total=0,
    )
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == service.QUEUE_DOWN.format(detail="OperationalError")
