"""The AMC playbook's doors: command, REST API, admin pages. Parsing, permissions, rendering."""

import json
import os
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from knox.models import AuthToken
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from accounts.models import AmcAccount
from orgs.amc.services import ensure_amc_token
from support_tools.actors import Actor
from support_tools.models import SupportAction
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def org(db):
    return OrganizationFactory(short_name="acme", email_domains=["example.com"])


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", email="ann@example.com")


def run_command(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- command ---------------------------------------------------------------------------------


def test_command_json_and_second_run(amc_app, org, ann):
    first = json.loads(
        run_command("ensure_amc_token", "--user", "ANN@example.com", "--org", "acme", "--json")
    )
    assert first["changed"] is True and first["dry_run"] is False
    assert first["access_token"]["created"] is True and first["refresh_token"]["created"] is True
    assert first["amc_account"]["updated"] is True and first["user"] == "ann"
    token = AmcAccount.objects.get(user=ann).access_token
    assert first["access_token"]["token"] == "…" + token[-4:]
    second = json.loads(run_command("ensure_amc_token", "--user", "ann", "--org", "acme", "--json"))
    assert second["changed"] is False
    assert SupportAction.objects.first().door == "command"


def test_command_dry_run(amc_app, org, ann):
    out = json.loads(
        run_command("ensure_amc_admin", "--user", "ann", "--org", "acme", "--dry-run", "--json")
    )
    assert out == {
        "changed": True,
        "dry_run": True,
        "user": "ann",
        "organization": "acme",
        "mappings": {"organization": "created", "site": "created"},
    }
    assert not ann.organization_mappings.exists()


def test_command_diagnose_text_output(amc_app, org, ann):
    text = run_command("diagnose_amc_user", "--user", "ann")
    assert "Problems found:" in text and "x no_organization:" in text


def test_command_errors_are_one_line(amc_app, org):
    with pytest.raises(CommandError, match="No user has the email address or username 'zed'"):
        run_command("ensure_amc_token", "--user", "zed", "--org", "acme", "--json")


@pytest.mark.django_db(transaction=True)
def test_command_process_prints_one_line_and_exits_non_zero(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the subprocess uses the default SQLite settings")
    env = {
        **os.environ,
        "SUPPORT_TOOLS_INSECURE_DEV": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    done = subprocess.run(
        [sys.executable, "manage.py", "ensure_amc_token", "--user", "zed", "--org", "x", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "CommandError: No user has the email address or username 'zed'."
    ]
    missing_arg = subprocess.run(
        [sys.executable, "manage.py", "ensure_amc_admin", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert missing_arg.returncode == 2 and len(missing_arg.stderr.strip().splitlines()) == 1
    assert "--user" in missing_arg.stderr


# --- REST API --------------------------------------------------------------------------------


def test_api_needs_authentication(amc_app, org, ann):
    response = APIClient().post("/api/v1/amc/ensure-token", {"user": "ann", "org": "acme"})
    assert response.status_code in (401, 403)
    assert not AccessToken.objects.exists()


def test_api_token_auth_and_same_json_as_command(amc_app, org, ann, support_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(support_user)[1]}")
    response = client.post(
        "/api/v1/amc/ensure-token", {"user": "ann", "org": "acme", "dry_run": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["dry_run"] is True and response.json()["changed"] is True
    assert not AccessToken.objects.exists()
    response = client.post(
        "/api/v1/amc/ensure-token", {"user": "ann", "org": "acme"}, format="json"
    )
    assert set(response.json()) == set(
        json.loads(run_command("ensure_amc_token", "--user", "ann", "--org", "acme", "--json"))
    )
    diagnosis = client.get("/api/v1/amc/diagnose", {"user": "ann"}).json()
    assert {p["code"] for p in diagnosis["problems"]} == {
        "org_mapping_inactive",
        "site_mapping_inactive",
    }
    assert diagnosis["token_check"]["authenticates"] is True


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"user": "zed", "org": "acme"}, 404, "No user"),
        ({"user": "ann", "org": "zzz"}, 404, "No organization"),
        ({"user": "ann"}, 400, "org"),
    ],
)
def test_api_bad_input(amc_app, org, ann, support_user, payload, status, fragment):
    client = APIClient()
    client.force_authenticate(support_user)
    response = client.post("/api/v1/amc/ensure-admin", payload, format="json")
    assert response.status_code == status and fragment in response.json()["error"]


def test_api_refuses_without_permission(amc_app, org, ann, viewer_user):
    client = APIClient()
    client.force_authenticate(viewer_user)
    response = client.post(
        "/api/v1/amc/ensure-admin", {"user": "ann", "org": "acme"}, format="json"
    )
    assert response.status_code == 403
    assert not ann.organization_mappings.exists()
    assert client.get("/api/v1/amc/diagnose", {"user": "ann"}).status_code == 200


def test_me_endpoint_takes_oauth_tokens_only(amc_app, org, ann, support_user):
    ensure_amc_token(user="ann", organization="acme", actor=Actor.system("t"))
    token = AmcAccount.objects.get(user=ann).access_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/me").json() == {"username": "ann", "email": "ann@example.com"}
    client.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    assert client.get("/api/v1/me").status_code == 401


def test_schema_and_docs_are_served_without_cdn(client, support_user):
    client.force_login(support_user)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/amc/ensure-token" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content and b"swagger-ui" in docs.content


# --- admin pages -----------------------------------------------------------------------------


def test_user_page_shows_tools_and_the_diagnosis_checklist(amc_app, org, ann, client, support_user):
    client.force_login(support_user)
    page = client.get(reverse("admin:auth_user_change", args=[ann.pk]))
    assert page.status_code == 200
    diagnose_url = reverse("support:diagnose-amc-user", kwargs={"user_id": ann.pk})
    assert diagnose_url.encode() in page.content
    checklist = client.get(diagnose_url)
    assert checklist.status_code == 200
    body = checklist.content.decode()
    assert 'data-code="no_organization"' in body and "Problems found." in body
    fix = reverse("support:ensure-amc-admin", kwargs={"user_id": ann.pk})
    assert fix in body


def test_admin_action_confirmation_then_apply(amc_app, org, ann, client, support_user):
    UserOrganizationMappingFactory(user=ann, organization=org)
    client.force_login(support_user)
    # The changelist action leads to the confirmation page for the selected user.
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "tool_ensure_amc_token", "_selected_action": [ann.pk]},
    )
    url = reverse("support:ensure-amc-token", kwargs={"user_id": ann.pk})
    assert response.status_code == 302 and response["Location"] == url
    preview = client.get(url, {"org": "acme"})
    body = preview.content.decode()
    assert "Dry run: nothing has been written yet" in body and 'id="apply-button"' in body
    assert not AccessToken.objects.exists()
    applied = client.post(url, {"org": "acme", "apply": "1"})
    assert applied.status_code == 200 and "Done: changes applied." in applied.content.decode()
    assert AmcAccount.objects.get(user=ann).access_token
    row = SupportAction.objects.filter(dry_run=False).get()
    assert row.actor == support_user and row.door == "admin"


def test_admin_page_refuses_apply_without_permission(amc_app, org, ann, client, viewer_user):
    client.force_login(viewer_user)
    url = reverse("support:ensure-amc-admin", kwargs={"user_id": ann.pk})
    preview = client.get(url, {"org": "acme"}).content.decode()
    assert "Dry run: nothing has been written yet" in preview
    assert "You do not have the permission to apply this." in preview
    assert 'id="apply-button"' not in preview
    assert client.post(url, {"org": "acme", "apply": "1"}).status_code == 403
    assert not ann.organization_mappings.exists()


def test_admin_page_shows_support_errors(amc_app, org, ann, client, support_user):
    OrganizationFactory(short_name="globex", email_domains=["globex.example"])
    client.force_login(support_user)
    url = reverse("support:ensure-amc-admin", kwargs={"user_id": ann.pk})
    # The organization is picked from the learner's own; one a link names is still checked.
    response = client.post(url, {"org": "globex", "preview": "1"})
    assert "Nothing ties ann to globex" in response.content.decode()
    unknown = client.post(url, {"org": "nowhere", "preview": "1"})
    assert "Select a valid choice" in unknown.content.decode()


def test_audit_trail_is_read_only_in_admin(client, admin_user, amc_app, org, ann):
    ensure_amc_token(user="ann", organization="acme", actor=Actor.system("t"))
    client.force_login(admin_user)
    row = SupportAction.objects.get()
    assert client.get(reverse("admin:support_tools_supportaction_changelist")).status_code == 200
    assert (
        client.post(
            reverse("admin:support_tools_supportaction_delete", args=[row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert SupportAction.objects.filter(pk=row.pk).exists()


def test_token_admins_never_show_whole_tokens(client, admin_user, amc_app, org, ann):
    ensure_amc_token(user="ann", organization="acme", actor=Actor.system("t"))
    token = AmcAccount.objects.get(user=ann)
    client.force_login(admin_user)
    pages = [
        reverse("admin:oauth2_provider_accesstoken_changelist"),
        reverse("admin:oauth2_provider_refreshtoken_changelist"),
        reverse("admin:oauth2_provider_accesstoken_change", args=[AccessToken.objects.get().pk]),
        reverse("admin:accounts_amcaccount_change", args=[token.pk]),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert token.access_token not in body and token.refresh_token not in body, url


# --- concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_at_once_end_with_one_usable_token(settings):
    from tests.factories import ApplicationFactory

    settings.AMC_OAUTH_CLIENT_ID = "amc-client"
    ApplicationFactory(client_id="amc-client")
    OrganizationFactory(short_name="acme", email_domains=["example.com"])
    user = UserFactory(username="ann")
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            ensure_amc_token(user="ann", organization="acme", actor=Actor.system("race"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AccessToken.objects.filter(user=user).count() == 1
    account = AmcAccount.objects.get(user=user)
    assert account.access_token == AccessToken.objects.get(user=user).token
    outcomes = sorted(SupportAction.objects.values_list("outcome", flat=True))
    assert outcomes == ["changed", "unchanged", "unchanged", "unchanged"]
