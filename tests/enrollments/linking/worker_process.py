"""A Celery worker in a process of its own, for the test of a worker killed mid-job.

    DATABASE_URL=... REDIS_URL=... LINK_BATCH_SIZE=2 [HOLD_FILE=path HOLD_STEP=n] \\
        python -m tests.enrollments.linking.worker_process

Links in steps of LINK_BATCH_SIZE rows. With HOLD_FILE, the worker stops inside step HOLD_STEP,
after that step's writes and before its commit, writes HOLD_FILE and waits there for ever: the
test kills it then. Unacknowledged messages come back to a worker after
JOB_VISIBILITY_TIMEOUT_SECONDS (set short by the test); each worker looks for them every second.
"""

import os
import threading
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from enrollments.linking import service
    from project.celery import app

    service.BATCH_SIZE = int(os.environ.get("LINK_BATCH_SIZE", service.BATCH_SIZE))
    service.STEP_BATCHES = 1
    hold_file = os.environ.get("HOLD_FILE")
    if hold_file:
        real, steps = service.write_batch, []

        def write_then_hold(*args, **kwargs):
            real(*args, **kwargs)
            steps.append(1)
            if len(steps) == int(os.environ["HOLD_STEP"]):
                Path(hold_file).write_text("holding inside the step, before its commit")
                threading.Event().wait()  # until the test kills this process

        service.write_batch = write_then_hold
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    app.worker_main(
        ["worker", "--pool=solo", "--loglevel=WARNING", "--without-mingle", "--without-gossip"]
    )


if __name__ == "__main__":
    main()
