"""The enrollment-code doors: commands, REST API, admin pages. Parsing, permissions, rendering."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from orgs.codes import AT_INVALID
from orgs.codes.repairs import REASON_REQUIRED
from orgs.models import Contract, EnrollmentCode
from support_tools.models import SupportAction
from tests.factories import EnrollmentCodeFactory, UserFactory
from tests.orgs.code_factories import DAY, fill, redeem, valid_code

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CODE = "3f2b8c4e-1d7a-4b9e-8c21-5a6f0e9d7b13"


@pytest.fixture
def code():
    return valid_code(CODE)


@pytest.fixture
def full(code):
    contract = code.contract
    contract.max_learners = 2
    contract.save()
    fill(contract, 2)
    return contract


@pytest.fixture
def drifted(code):
    code.expiration_date = code.contract.end - 5 * DAY
    code.save()
    return code


def run_command(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- commands ----------------------------------------------------------------------------------


def test_diagnose_command_json(code):
    redeem(code, UserFactory(username="bob"))
    link = f"https://learn.example.com/enrollmentcode/{CODE}/?x=1"
    out = json.loads(run_command("diagnose_code", link, "--user", "bob", "--json"))
    assert out["ok"] is False and out["code"] == CODE and out["suggestions"] == []
    assert [p["code"] for p in out["problems"]] == ["code_used"]
    assert set(out["problems"][0]) == {"code", "severity", "message", "fix"}
    assert SupportAction.objects.get().door == "command"


def test_diagnose_command_at_and_suggestions(code):
    at = (code.contract.end + DAY).isoformat()
    out = json.loads(run_command("diagnose_code", CODE, "--at", at, "--json"))
    assert {p["code"] for p in out["problems"]} == {"code_expired", "contract_ended"}
    typo = json.loads(run_command("diagnose_code", CODE[:-1], "--json"))
    assert typo["suggestions"] == [CODE] and typo["problems"][0]["code"] == "malformed_code"


def test_diagnose_command_text_output(full):
    text = run_command("diagnose_code", CODE)
    assert "Problems found:" in text
    assert "x contract_full: " in text and "[fix: add_contract_seats]" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "tomorrow"], AT_INVALID.format(value="tomorrow")),
        (["--user", "zed"], "No user has the email address or username 'zed'."),
    ],
)
def test_diagnose_command_bad_input_is_one_error(code, args, message):
    with pytest.raises(CommandError) as caught:
        run_command("diagnose_code", CODE, "--json", *args)
    assert str(caught.value) == message


def test_sync_command_dry_run_then_real_then_nothing(drifted):
    contract_id = str(drifted.contract_id)
    dry = json.loads(
        run_command("sync_code_dates", "--contract", contract_id, "--dry-run", "--json")
    )
    assert dry["changed"] is True and dry["dry_run"] is True and dry["codes_updated"] == 1
    drifted.refresh_from_db()
    assert drifted.expiration_date != drifted.contract.end
    real = json.loads(run_command("sync_code_dates", "--code", CODE, "--json"))
    assert real["changed"] is True and real["results"][0]["code"] == CODE
    again = json.loads(run_command("sync_code_dates", "--contract", "acme:Spring", "--json"))
    assert again == {**again, "changed": False, "dry_run": False, "codes_updated": 0}


def test_add_seats_command(full):
    args = ["add_contract_seats", str(full.pk), "--seats", "3", "--reason", "Order 9", "--json"]
    out = json.loads(run_command(*args, "--from", "2"))
    assert out["changed"] is True and out["max_learners_after"] == 5
    assert json.loads(run_command(*args, "--from", "2"))["changed"] is False
    assert Contract.objects.get().max_learners == 5
    text = run_command("add_contract_seats", str(full.pk), "--seats", "1", "--reason", "x")
    assert "Something changed." in text


def test_add_seats_command_refuses_a_blank_reason(full):
    with pytest.raises(CommandError) as caught:
        run_command("add_contract_seats", str(full.pk), "--seats", "3", "--reason", " ")
    assert str(caught.value) == REASON_REQUIRED


@pytest.mark.django_db(transaction=True)
def test_command_processes_print_one_line_and_exit_non_zero(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the subprocess uses its own SQLite file")
    env = {
        **os.environ,
        "SUPPORT_TOOLS_INSECURE_DEV": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    def run(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )

    bad_at = run("diagnose_code", CODE, "--at", "soon", "--json")
    assert bad_at.returncode == 1 and bad_at.stdout == ""
    assert bad_at.stderr.strip().splitlines() == [
        f"CommandError: {AT_INVALID.format(value='soon')}"
    ]
    found_nothing = run("diagnose_code", "hello", "--json")
    assert found_nothing.returncode == 0 and found_nothing.stderr == ""
    assert json.loads(found_nothing.stdout)["problems"][0]["code"] == "malformed_code"
    no_reason = run("add_contract_seats", "1", "--seats", "2", "--json")
    assert no_reason.returncode == 2 and len(no_reason.stderr.strip().splitlines()) == 1
    assert "--reason" in no_reason.stderr
    both = run("sync_code_dates", "--code", CODE, "--contract", "1")
    assert both.returncode == 2 and len(both.stderr.strip().splitlines()) == 1


# --- REST API ----------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


def test_api_needs_authentication(api, code):
    assert api.get("/api/v1/codes/diagnose", {"code": CODE}).status_code in (401, 403)
    response = api.post("/api/v1/codes/sync-dates", {"code": CODE}, format="json")
    assert response.status_code in (401, 403)
    assert not SupportAction.objects.exists()


def test_api_diagnose_returns_the_command_json(api, full, viewer_user):
    api.force_authenticate(viewer_user)
    response = api.get("/api/v1/codes/diagnose", {"code": f"  '{CODE.upper()}' "})
    assert response.status_code == 200
    body = response.json()
    command = json.loads(run_command("diagnose_code", CODE, "--json"))
    assert set(body) == set(command) and body["problems"] == command["problems"]
    assert [p["code"] for p in body["problems"]] == ["contract_full"]
    at = api.get("/api/v1/codes/diagnose", {"code": CODE, "at": "2000-01-01"}).json()
    assert "contract_not_started" in {p["code"] for p in at["problems"]}


@pytest.mark.parametrize(
    ("query", "status", "fragment"),
    [
        ({"code": CODE, "at": "later"}, 400, "is not an ISO 8601"),
        ({"code": CODE, "user": "zed"}, 404, "No user"),
        ({}, 400, "code"),
    ],
)
def test_api_diagnose_bad_input(api, code, viewer_user, query, status, fragment):
    api.force_authenticate(viewer_user)
    response = api.get("/api/v1/codes/diagnose", query)
    assert response.status_code == status and fragment in response.json()["error"]


def test_api_diagnose_needs_view_permission(api, code):
    api.force_authenticate(UserFactory(username="nobody", is_staff=True))
    assert api.get("/api/v1/codes/diagnose", {"code": CODE}).status_code == 403


def test_api_sync_dates_permission_and_dry_run(api, drifted, viewer_user, support_user):
    api.force_authenticate(viewer_user)
    refused = api.post("/api/v1/codes/sync-dates", {"code": CODE}, format="json")
    assert refused.status_code == 403
    api.force_authenticate(support_user)
    dry = api.post("/api/v1/codes/sync-dates", {"code": CODE, "dry_run": True}, format="json")
    assert dry.status_code == 200 and dry.json()["changed"] is True
    drifted.refresh_from_db()
    assert drifted.expiration_date != drifted.contract.end
    real = api.post(
        "/api/v1/codes/sync-dates", {"contract": str(drifted.contract_id)}, format="json"
    )
    assert real.json()["changed"] is True and real.json()["dry_run"] is False
    drifted.refresh_from_db()
    assert drifted.expiration_date == drifted.contract.end
    both = api.post("/api/v1/codes/sync-dates", {"code": CODE, "contract": "1"}, format="json")
    assert both.status_code == 400


def test_api_add_seats_needs_the_leads_permission(api, full, support_user, lead_user):
    payload = {"contract": str(full.pk), "seats": 5, "reason": "Order 12"}
    api.force_authenticate(support_user)
    assert api.post("/api/v1/contracts/add-seats", payload, format="json").status_code == 403
    api.force_authenticate(lead_user)
    response = api.post(
        "/api/v1/contracts/add-seats", {**payload, "expected_max_learners": 2}, format="json"
    )
    assert response.status_code == 200 and response.json()["max_learners_after"] == 7
    again = api.post(
        "/api/v1/contracts/add-seats", {**payload, "expected_max_learners": 2}, format="json"
    )
    assert again.json()["changed"] is False
    stale = api.post(
        "/api/v1/contracts/add-seats", {**payload, "expected_max_learners": 4}, format="json"
    )
    assert stale.status_code == 409
    no_reason = api.post("/api/v1/contracts/add-seats", {**payload, "reason": ""}, format="json")
    assert no_reason.status_code == 400
    zero = api.post("/api/v1/contracts/add-seats", {**payload, "seats": 0}, format="json")
    assert zero.status_code == 400
    assert Contract.objects.get().max_learners == 7
    # Refused, added, unchanged, conflict; the serializer turned the last two away first.
    assert SupportAction.objects.filter(action="add_contract_seats", door="api").count() == 4


def test_codes_are_in_the_api_schema(client, support_user):
    client.force_login(support_user)
    schema = client.get("/api/schema/").content
    for route in (b"/api/v1/codes/diagnose", b"/api/v1/codes/sync-dates"):
        assert route in schema
    assert b"/api/v1/contracts/add-seats" in schema


def test_enrollment_code_rows_created_by_the_orm_get_their_segments(db):
    code = EnrollmentCodeFactory(code=CODE)
    code = EnrollmentCode.objects.get(pk=code.pk)
    segments = [getattr(code, f"segment_{n}") for n in range(1, 6)]
    assert segments == ["3f2b8c", "4e1d7a", "4b9e8c2", "15a6f0", "e9d7b13"]
