"""The sweeps' REST door: GET a kept sweep, POST to run one (with fixes: a background job, 202),
the command's JSON, permissions, errors as JSON."""

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from console.sweeps.service import NO_SWEEP
from support_tools.jobs.models import Job
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.urls("tests.console.sweeps.urls")
URL = "/api/v1/sweeps"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def ann(db, amc_app, settings):
    settings.KEYCLOAK_SERVER_URL = None
    org = OrganizationFactory(short_name="acme")
    user = UserFactory(username="ann")
    UserOrganizationMappingFactory(user=user, organization=org, is_amc_admin=True)
    return user


def command_json(*args):
    out = StringIO()
    call_command("sweep", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def without_ids(data):
    return {k: v for k, v in data.items() if k != "sweep"}


@pytest.mark.django_db
def test_post_runs_a_sweep_and_answers_the_commands_json(api, ann, support_user):
    api.force_authenticate(support_user)

    response = api.post(URL, {"playbook": ["amc"]}, format="json")

    assert response.status_code == 200
    assert without_ids(response.json()) == without_ids(command_json("--playbook", "amc"))
    assert response.json()["sweep"]["playbooks"] == ["amc"]


@pytest.mark.django_db
def test_get_answers_the_latest_sweep_filtered(api, ann, support_user):
    api.force_authenticate(support_user)
    assert api.get(URL).json() == {"error": NO_SWEEP, "kind": "not_found"}
    first = api.post(URL, {}, format="json").json()

    latest = api.get(URL)
    one_code = api.get(URL, {"code": "amc_account_missing"}).json()
    by_id = api.get(URL, {"sweep": first["sweep"]["id"], "playbook": "codes"}).json()

    assert latest.status_code == 200 and latest.json()["findings"] == first["findings"]
    assert [f["code"] for f in one_code["findings"]] == ["amc_account_missing"]
    assert by_id["findings"] == [] and by_id["sweep"]["id"] == first["sweep"]["id"]
    assert api.get(URL, {"sweep": 999}).status_code == 404
    assert api.get(URL, {"code": "nope"}).json()["kind"] == "bad_input"


@pytest.mark.django_db
def test_post_with_fixes_answers_202_with_the_job(api, ann, support_user):
    api.force_authenticate(support_user)

    response = api.post(URL, {"fix": ["access_token_missing"], "dry_run": True}, format="json")

    assert response.status_code == 202
    job = Job.objects.get()
    assert response.json() == {
        "job": {"id": str(job.pk), "url": f"/api/v1/jobs/{job.pk}", "status": "queued"}
    }
    assert (job.action, job.dry_run, job.payload["fix"]) == (
        "sweep",
        True,
        ["access_token_missing"],
    )


@pytest.mark.django_db
def test_permissions(api, ann, viewer_user):
    assert api.get(URL).status_code == 401
    api.force_authenticate(UserFactory(username="nobody", is_staff=True))
    assert api.get(URL).json()["kind"] == "permission"
    assert api.post(URL, {}, format="json").status_code == 403
    api.force_authenticate(viewer_user)  # may look, may not fix
    assert (
        api.post(URL, {"fix": ["access_token_missing"], "dry_run": True}, format="json").status_code
        == 202
    )
    refused = api.post(URL, {"fix": ["access_token_missing"]}, format="json")
    assert refused.status_code == 403 and "run_ensure_amc_token" in refused.json()["error"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"playbook": ["nope"]}, "Unknown playbook 'nope'"),
        ({"fix": ["nope"]}, "Unknown problem code 'nope'"),
        ({"fix": "access_token_missing"}, "fix:"),
        ({"dry_run": "maybe"}, "dry_run:"),
    ],
)
def test_bad_input(api, ann, support_user, body, fragment):
    api.force_authenticate(support_user)
    response = api.post(URL, body, format="json")
    assert response.status_code == 400 and fragment in response.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_the_job_finds_and_fixes_on_the_worker_with_progress(api, ann, support_user, worker):
    api.force_authenticate(support_user)

    job_url = api.post(URL, {"fix": ["access_token_missing"]}, format="json").json()["job"]["url"]
    deadline = time.monotonic() + 60
    while (job := api.get(job_url).json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)

    assert job["status"] == "done" and job["error"] is None
    assert job["progress"] == {"done": 5, "total": 5}  # four playbooks, then one fix
    assert [f["status"] for f in job["result"]["fixes"]] == ["changed"]
    assert job["result"]["changed"] is True and "access_token_missing" in job["result"]["counts"]
    assert "access_token_missing" not in command_json("--playbook", "amc")["counts"]


@pytest.mark.django_db
def test_the_schema_documents_both_methods_with_an_example():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="tests.console.sweeps.urls").get_schema(public=True)
    item = schema["paths"]["/api/v1/sweeps"]
    assert set(item) == {"get", "post"}
    for operation in item.values():
        assert operation["summary"]
        media = operation["responses"]["200"]["content"]["application/json"]
        assert "examples" in media or "example" in media
    names = {p["name"] for p in item["get"]["parameters"]}
    assert {"sweep", "playbook", "code"} <= names


@pytest.mark.django_db
def test_a_sweep_too_big_for_a_request_is_a_job_even_without_fixes(
    api, ann, support_user, settings
):
    settings.SWEEP_IN_REQUEST_LIMIT = 0
    api.force_authenticate(support_user)

    response = api.post(URL, {"playbook": ["amc"]}, format="json")

    assert response.status_code == 202
    assert Job.objects.get().payload == {"playbook": ["amc"], "fix": []}
