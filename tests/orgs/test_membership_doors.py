"""The org-membership playbook's doors: commands, REST API, admin pages."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from orgs.management.commands.repair_org_membership import FIXES_FAILED
from orgs.models import UserOrganizationMapping
from support_tools.models import SupportAction
from tests.factories import (
    ContractFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_keycloak(settings):
    settings.KEYCLOAK_SERVER_URL = None


@pytest.fixture
def org(no_keycloak):
    org = OrganizationFactory(short_name="local", name="Local College", email_domains=["local.edu"])
    ContractFactory(organization=org, membership_type="managed", name="Managed")
    return org


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", email="ann@local.edu")


def run_command(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# -- commands ----------------------------------------------------------------------------------


def test_diagnose_command_json(org, ann):
    out = json.loads(
        run_command(
            "diagnose_org_membership", "--user", "ANN@local.edu", "--org", "LOCAL", "--json"
        )
    )

    assert out["ok"] is False and out["user"] == "ann" and out["organization"] == "local"
    assert [p["code"] for p in out["problems"]] == [
        "local_membership_missing",
        "contract_membership_missing",
    ]
    assert set(out["problems"][0]) == {"code", "severity", "message", "fix"}
    assert SupportAction.objects.get().door == "command"


def test_diagnose_command_text(org, ann):
    text = run_command("diagnose_org_membership", "--user", "ann", "--org", "local")
    assert "Problems found:" in text and "x local_membership_missing:" in text
    assert "[fix: create_local_membership]" in text


def test_repair_command_dry_run_then_real_then_again(org, ann):
    dry = json.loads(
        run_command(
            "repair_org_membership", "--user", "ann", "--org", "local", "--dry-run", "--json"
        )
    )
    assert dry["changed"] is True and dry["dry_run"] is True
    assert not UserOrganizationMapping.objects.exists()

    real = json.loads(
        run_command(
            "repair_org_membership",
            "--user",
            "ann",
            "--org",
            "local",
            "--fix",
            "create_local_membership",
            "--fix",
            "add_contract_memberships",
            "--json",
        )
    )
    assert [(r["fix"], r["status"]) for r in real["results"]] == [
        ("create_local_membership", "done"),
        ("add_contract_memberships", "done"),
    ]
    assert real["failed_fixes"] == [] and real["keycloak_calls"] == []
    again = json.loads(
        run_command("repair_org_membership", "--user", "ann", "--org", "local", "--json")
    )
    assert again["changed"] is False


def test_command_errors_are_one_line(org):
    with pytest.raises(CommandError, match="No user has the email address or username 'zed'"):
        run_command("repair_org_membership", "--user", "zed", "--org", "local", "--json")
    with pytest.raises(CommandError, match="invalid choice: 'reboot'"):
        run_command("repair_org_membership", "--user", "zed", "--org", "local", "--fix", "reboot")


@pytest.mark.keycloak
def test_repair_command_exits_1_after_printing_a_partial_failure(kc, settings, capsys):
    settings.KEYCLOAK_CLIENT_ID, settings.KEYCLOAK_CLIENT_SECRET = kc.service_client(
        ["view-users", "manage-realm"]
    )
    kc_org = kc.org()
    org = OrganizationFactory(
        short_name=kc_org.alias, sso_organization_id=kc_org.id, email_domains=[kc_org.domain]
    )
    email = f"partial.{kc.tag}@{kc_org.domain}"
    UserFactory(username=f"partial-{kc.tag}", email=email)
    kc.sign_in(kc.user(email, password=True))

    with pytest.raises(SystemExit) as exit_:
        call_command("repair_org_membership", "--user", email, "--org", org.short_name, "--json")

    assert exit_.value.code == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["failed_fixes"] == ["end_sessions"] and len(out["keycloak_calls"]) == 1
    assert captured.err.strip() == FIXES_FAILED.format(fixes="end_sessions")


# -- REST API ----------------------------------------------------------------------------------


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


# -- admin -------------------------------------------------------------------------------------


def test_user_page_links_to_the_diagnosis_with_fix_buttons(org, ann, client, support_user):
    client.force_login(support_user)
    page = client.get(reverse("admin:auth_user_change", args=[ann.pk]))
    url = reverse("support:diagnose-org-membership", kwargs={"user_id": ann.pk})
    assert url.encode() in page.content

    form = client.get(url)
    assert form.status_code == 200 and b'name="org"' in form.content

    checklist = client.get(url, {"org": "local"}).content.decode()
    assert 'data-code="local_membership_missing"' in checklist
    repair = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})
    assert f"{repair}?org=local&amp;fix=create_local_membership" in checklist


def test_fix_button_previews_then_applies_on_confirmation(org, ann, client, support_user):
    client.force_login(support_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})

    preview = client.get(url, {"org": "local", "fix": "create_local_membership"})
    body = preview.content.decode()
    assert 'id="apply-button"' in body and "would_do" in body
    assert not UserOrganizationMapping.objects.exists()

    applied = client.post(url, {"org": "local", "fix": "create_local_membership", "apply": "1"})
    assert "Done: changes applied." in applied.content.decode()
    assert UserOrganizationMapping.objects.filter(user=ann, organization=org).exists()
    row = SupportAction.objects.filter(action="repair_org_membership", dry_run=False).get()
    assert row.actor == support_user and row.door == "admin"


def test_viewer_sees_the_checklist_but_cannot_apply(org, ann, client, viewer_user):
    client.force_login(viewer_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})
    assert (
        client.get(
            reverse("support:diagnose-org-membership", kwargs={"user_id": ann.pk}), {"org": "local"}
        ).status_code
        == 200
    )
    preview = client.get(url, {"org": "local"})
    assert preview.status_code == 200 and 'id="apply-button"' not in preview.content.decode()
    assert client.post(url, {"org": "local", "apply": "1"}).status_code == 403
    assert not UserOrganizationMapping.objects.exists()


def test_keycloak_repairer_may_apply(org, ann, client, viewer_user):
    viewer_user.user_permissions.add(
        Permission.objects.get(codename="run_repair_keycloak_membership")
    )
    client.force_login(viewer_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})
    assert 'id="apply-button"' in client.get(url, {"org": "local"}).content.decode()


def test_mapping_admin_links_and_action_lead_to_the_diagnosis(org, ann, client, support_user):
    mapping = UserOrganizationMappingFactory(user=ann, organization=org)
    other = UserOrganizationMappingFactory(organization=org)
    client.force_login(support_user)
    changelist = reverse("admin:orgs_userorganizationmapping_changelist")
    url = reverse("support:diagnose-org-membership", kwargs={"user_id": ann.pk})

    assert f"{url}?org=local".encode() in client.get(changelist).content

    response = client.post(
        changelist, {"action": "diagnose_membership", "_selected_action": [mapping.pk]}
    )
    assert response.status_code == 302 and response["Location"] == f"{url}?org=local"
    several = client.post(
        changelist,
        {"action": "diagnose_membership", "_selected_action": [mapping.pk, other.pk]},
        follow=True,
    )
    assert "Choose the memberships of one learner" in several.content.decode()


def test_unknown_user_id_is_an_error_message(org, client, support_user):
    client.force_login(support_user)
    url = reverse("support:diagnose-org-membership", kwargs={"user_id": 999999})
    assert "No user has the id 999999." in client.get(url, {"org": "local"}).content.decode()
