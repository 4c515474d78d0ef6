"""A real Celery worker on the real Redis (started by make test) for the job tests."""

import os

import pytest

RUNNERS = {
    "make_orgs": "tests.support_tools.jobs.runners.make_orgs",
    "refuse": "tests.support_tools.jobs.runners.refuse",
    "crash": "tests.support_tools.jobs.runners.crash",
}


@pytest.fixture
def runners(settings):
    settings.JOB_RUNNERS = {**settings.JOB_RUNNERS, **RUNNERS}
    return settings.JOB_RUNNERS


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        message = 'needs Redis: run `eval "$(scripts/redis.sh start)"` (make test does)'
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture
def worker(runners):
    """A Celery worker consuming from the real broker, in a thread of this process."""
    from celery.contrib.testing.worker import start_worker

    from project.celery import app

    app.conf.broker_url = redis_url()
    app.conf.broker_connection_retry_on_startup = True
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING") as w:
        yield w
