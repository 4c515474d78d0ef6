"""The job machinery's test helpers, shared by every test that needs a real worker: a Celery
worker in a thread of the test process, consuming from the real Redis (make test starts it)."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        message = 'needs Redis: run `eval "$(scripts/redis.sh start)"` (make test does)'
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@contextmanager
def worker_thread() -> Iterator[object]:
    """A Celery worker consuming from the real broker, in a thread of this process."""
    from celery.contrib.testing.worker import start_worker

    from project.celery import app

    app.conf.broker_url = redis_url()
    app.conf.broker_connection_retry_on_startup = True
    app.control.purge()  # messages of earlier tests' jobs, whose rows are gone
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING") as w:
        yield w


def wait_for(condition, timeout=60.0):
    """Polls a condition of the real system until it holds (a bound, not a sleep-and-hope)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def finished(job):
    """A condition: the job (read again from the database) has finished."""

    def check():
        job.refresh_from_db()
        return job.finished

    return check
