"""The enrollment-code REST API: parsing, permissions, the commands' JSON, errors as JSON."""

import json

import pytest
from rest_framework.test import APIClient

from orgs.codes.repairs import SEATS_LIMIT_MAX
from orgs.models import Contract
from support_tools.models import SupportAction
from tests.factories import UserFactory
from tests.orgs.codes.factories import CODE, run_command

pytestmark = pytest.mark.django_db


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


def test_api_add_seats_beyond_the_column_is_a_400(api, full, lead_user):
    # Issue 11: a 500 from PostgreSQL's integer overflow.
    api.force_authenticate(lead_user)
    payload = {"contract": str(full.pk), "seats": 2**31, "reason": "Order 12"}
    response = api.post("/api/v1/contracts/add-seats", payload, format="json")
    assert response.status_code == 400 and response.json()["kind"] == "bad_input"
    assert str(SEATS_LIMIT_MAX) in response.json()["error"]
    assert Contract.objects.get().max_learners == 2


def test_api_add_seats_with_an_invisible_reason_is_a_400(api, full, lead_user):
    api.force_authenticate(lead_user)
    payload = {"contract": str(full.pk), "seats": 1, "reason": "\u200b\u200b"}
    response = api.post("/api/v1/contracts/add-seats", payload, format="json")
    assert response.status_code == 400 and response.json()["kind"] == "bad_input"
    assert Contract.objects.get().max_learners == 2


@pytest.mark.parametrize("contract", ["²", "99999999999999999999"])
def test_api_sync_dates_with_an_id_that_is_no_id(api, code, support_user, contract):
    # Issue 11: "²" passed isdigit() and int() failed with a 500.
    api.force_authenticate(support_user)
    response = api.post("/api/v1/codes/sync-dates", {"contract": contract}, format="json")
    assert response.status_code in (400, 404) and set(response.json()) == {"error", "kind"}


def test_api_diagnose_a_link_ending_in_an_encoded_nul(api, code, viewer_user):
    api.force_authenticate(viewer_user)
    link = "https://learn.example.com/enrollmentcode/%00"
    response = api.get("/api/v1/codes/diagnose", {"code": link})
    assert response.status_code == 200
    assert [p["code"] for p in response.json()["problems"]] == ["malformed_code"]
    assert response.json()["code"] == "\\x00"
