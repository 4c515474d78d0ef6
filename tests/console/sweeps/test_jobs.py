"""The sweep's job runner: a sweep with fixes, or the fix of a kept sweep (the Health page's
when large), run by the jobs' own `run` as the worker would, as the person who asked."""

import pytest

from console.sweeps.jobs import ACTION, ACTOR_GONE
from console.sweeps.service import get_sweep, run_sweep
from support_tools.actors import Actor
from support_tools.jobs import service as jobs
from support_tools.models import SupportAction
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(settings, amc_app):
    settings.KEYCLOAK_SERVER_URL = None
    org = OrganizationFactory(short_name="acme")
    user = UserFactory(username="ann")
    UserOrganizationMappingFactory(user=user, organization=org, is_amc_admin=True)
    return user


def enqueue(actor, payload, *, dry_run=False):
    return jobs.enqueue(ACTION, actor=actor, payload=payload, summary={}, total=1, dry_run=dry_run)


def test_the_fix_of_a_kept_sweep_runs_as_its_asker(ann, support_user, system_actor):
    sweep = run_sweep(playbooks=["amc"], actor=system_actor)
    asker = Actor.for_user(support_user, door="admin")
    job = enqueue(asker, {"sweep": sweep.sweep_id, "fix": ["amc_account_missing"]})

    done = jobs.run(job.pk)

    assert done.status == "done", done.error
    assert [f["status"] for f in done.result["fixes"]] == ["changed"]
    assert [f["code"] for f in done.result["findings"]] == ["amc_account_missing"]
    row = SupportAction.objects.get(action="ensure_amc_token", dry_run=False)
    assert (row.actor, row.door) == (support_user, "admin")
    assert get_sweep(sweep.sweep_id).fixes[0]["status"] == "changed"


def test_a_sweep_job_reports_progress_and_the_commands_json(ann, support_user):
    asker = Actor.for_user(support_user, door="api")
    job = enqueue(
        asker, {"playbook": ["amc", "codes"], "fix": ["amc_account_missing"]}, dry_run=True
    )

    done = jobs.run(job.pk)

    assert (done.progress_done, done.progress_total) == (3, 3)  # two playbooks, one fix
    assert done.result["dry_run"] is True and done.result["changed"] is True
    assert {"findings", "counts", "changed", "dry_run"} <= set(done.result)


def test_a_job_whose_asker_is_gone_does_nothing(ann, support_user, system_actor):
    sweep = run_sweep(playbooks=["amc"], actor=system_actor)
    job = enqueue(
        Actor.for_user(support_user, door="admin"),
        {"sweep": sweep.sweep_id, "fix": ["amc_account_missing"]},
    )
    support_user.delete()

    done = jobs.run(job.pk)

    assert (done.status, done.error) == ("failed", ACTOR_GONE)
    assert not SupportAction.objects.filter(action="ensure_amc_token").exists()
