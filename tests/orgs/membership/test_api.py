"""The org-membership playbook's REST API: the same JSON as the commands, errors as JSON."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from orgs.membership import REPAIR_STOPPED
from orgs.models import UserOrganizationMapping
from support_tools.models import SupportAction
from tests.factories import ContractFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(no_keycloak):
    org = OrganizationFactory(short_name="local", name="Local College", email_domains=["local.edu"])
    ContractFactory(organization=org, membership_type="managed", name="Managed")
    return org


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", email="ann@local.edu")


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_diagnose_and_repair_return_the_command_json(org, ann, support_user):
    url = reverse("api-diagnose-org-membership")
    diagnosis = api(support_user).get(url, {"user": "ann", "org": "local"})
    assert diagnosis.status_code == 200
    assert diagnosis.json()["problems"][0]["code"] == "local_membership_missing"

    repair = api(support_user).post(
        reverse("api-repair-org-membership"),
        {"user": "ann", "org": "local", "fixes": ["create_local_membership"], "dry_run": False},
        format="json",
    )
    assert repair.status_code == 200
    body = repair.json()
    assert body["changed"] is True and body["results"][0]["status"] == "done"
    assert UserOrganizationMapping.objects.filter(user=ann).exists()
    assert list(SupportAction.objects.filter(door="api").values_list("action", flat=True)) == [
        "repair_org_membership",
        "diagnose_org_membership",
    ]


def test_api_refusals_and_bad_input(org, ann, viewer_user, support_user):
    url = reverse("api-repair-org-membership")
    refused = api(viewer_user).post(url, {"user": "ann", "org": "local"}, format="json")
    assert refused.status_code == 403 and refused.json()["kind"] == "permission"
    bad = api(support_user).post(
        url, {"user": "ann", "org": "local", "fixes": ["reboot"]}, format="json"
    )
    assert bad.status_code == 400 and "fixes" in bad.json()["error"]
    missing = api(support_user).get(
        reverse("api-diagnose-org-membership"), {"user": "ann", "org": "nowhere"}
    )
    assert missing.status_code == 404
    assert APIClient().get(reverse("api-diagnose-org-membership")).status_code in (401, 403)


def test_api_keycloak_down_is_503(settings, ann, support_user, closed_port):
    settings.KEYCLOAK_SERVER_URL = f"http://127.0.0.1:{closed_port}"
    settings.KEYCLOAK_REALM = "r"
    settings.KEYCLOAK_CLIENT_ID = "c"
    settings.KEYCLOAK_CLIENT_SECRET = "s"
    OrganizationFactory(
        short_name="ctl", sso_organization_id="00000000-0000-4000-8000-0000000000cc"
    )

    response = api(support_user).post(
        reverse("api-repair-org-membership"), {"user": "ann", "org": "ctl"}, format="json"
    )

    assert response.status_code == 503 and "did not answer" in response.json()["error"]
    assert not UserOrganizationMapping.objects.exists()


def test_api_gives_a_viewer_the_dry_run(org, ann, viewer_user):
    response = api(viewer_user).post(
        reverse("api-repair-org-membership"),
        {"user": "ann", "org": "local", "dry_run": True},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True and body["changed"] is True
    create = next(r for r in body["results"] if r["fix"] == "create_local_membership")
    assert create["status"] == "would_do"
    assert create["message"].endswith("applying it needs the permission run_repair_org_membership")
    assert not UserOrganizationMapping.objects.exists()


@pytest.mark.keycloak
def test_api_answers_503_when_keycloak_stops_the_repair_part_way(stopped_part_way, support_user):
    kc_org, org, learner = stopped_part_way

    response = api(support_user).post(
        reverse("api-repair-org-membership"),
        {"user": learner.email, "org": org.short_name},
        format="json",
    )

    assert response.status_code == 503
    body = response.json()
    assert set(body) == {"error", "kind"} and body["kind"] == "unavailable"
    assert body["error"].startswith(REPAIR_STOPPED.split("{")[0] + "end_sessions")
    row = SupportAction.objects.get(action="repair_org_membership")
    assert row.door == "api" and row.outcome == "failed" and row.error == body["error"]
    assert [c["external"] for c in row.changes] == row.result["keycloak_calls"]
    assert len(row.changes) == 1 and "added the user" in row.changes[0]["external"]
    assert not UserOrganizationMapping.objects.filter(user=learner.user).exists()
