"""The scheduled sweep: Celery beat, with a schedule of a second, sends the task; the real
worker on the real broker runs it; a sweep appears."""

import threading
import time

import pytest
from celery.beat import Service

from console.sweeps.models import Sweep
from console.sweeps.tasks import SCHEDULE_ACTOR, TASK_NAME, run_scheduled_sweep
from support_tools.models import SupportAction


@pytest.mark.django_db
def test_the_task_runs_a_whole_sweep_as_the_schedule(settings, amc_app):
    settings.KEYCLOAK_SERVER_URL = None
    sweep = Sweep.objects.get(pk=run_scheduled_sweep())
    assert sweep.door == "schedule" and sweep.actor_label == SCHEDULE_ACTOR.label
    assert sweep.playbooks == ["amc", "membership", "codes", "programs"]
    assert SupportAction.objects.get(action="sweep").door == "schedule"


@pytest.mark.django_db(transaction=True)
def test_beat_sends_the_sweep_and_the_worker_runs_it(settings, worker, tmp_path):
    from project.celery import app, beat_schedule

    settings.KEYCLOAK_SERVER_URL = None
    settings.SWEEP_SCHEDULE = "1s"
    kept = app.conf.beat_schedule
    app.conf.beat_schedule = beat_schedule()
    assert app.conf.beat_schedule["sweep"]["task"] == TASK_NAME
    beat = Service(app, max_interval=0.2, schedule_filename=str(tmp_path / "beat-schedule"))
    thread = threading.Thread(target=beat.start, kwargs={"embedded_process": True}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not Sweep.objects.filter(door="schedule").exists():
            assert time.monotonic() < deadline, "no scheduled sweep within 60 s"
            time.sleep(0.1)
    finally:
        beat.stop()
        thread.join(timeout=10)
        app.conf.beat_schedule = kept
    assert Sweep.objects.filter(door="schedule").first().actor_label == SCHEDULE_ACTOR.label
