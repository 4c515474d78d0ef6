"""Runners for the job machinery's own tests: real work on the real database, in steps."""

from __future__ import annotations

import threading

from support_tools.errors import SupportError
from tests.factories import OrganizationFactory

# Set by a test to hold a runner between two steps (never a sleep: the test releases it).
GATE = threading.Event()
STEPPED = threading.Event()


def make_orgs(job, context):
    """Creates the organizations `payload["names"]`, one step each, skipping those that exist."""
    from orgs.models import Organization

    names = job.payload["names"]
    created = 0
    for done, name in enumerate(names, start=1):
        if not Organization.objects.filter(short_name=name).exists():
            OrganizationFactory(short_name=name)
            created += 1
        context.progress(done, len(names))
        if job.payload.get("hold_after") == done:
            STEPPED.set()
            GATE.wait(timeout=30)
    return {"created": created, "unchanged": len(names) - created}


def refuse(job, context):
    raise SupportError("The sheet names a program that does not exist.")


def crash(job, context):
    context.progress(1, 2)
    raise ZeroDivisionError
