import pytest

from tests.support_tools.jobs.fixtures import worker_thread


@pytest.fixture
def job_worker():
    """A Celery worker on the real Redis, in a thread: link jobs run on it."""
    with worker_thread() as w:
        yield w
