"""A real Celery worker on the real Redis (started by make test) for the job tests."""

import pytest

from tests.support_tools.jobs.fixtures import worker_thread

RUNNERS = {
    "make_orgs": "tests.support_tools.jobs.runners.make_orgs",
    "refuse": "tests.support_tools.jobs.runners.refuse",
    "crash": "tests.support_tools.jobs.runners.crash",
}


@pytest.fixture
def runners(settings):
    settings.JOB_RUNNERS = {**settings.JOB_RUNNERS, **RUNNERS}
    return settings.JOB_RUNNERS


@pytest.fixture
def worker(runners):
    """A worker, with the test runners configured."""
    with worker_thread() as w:
        yield w
