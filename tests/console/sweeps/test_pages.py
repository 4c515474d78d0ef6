"""The Health page: counts and their change, drill-down linked to the console, CSV export, the
bulk fix's preview and Apply, who may do what."""

import csv
import io

import pytest
from django.urls import reverse

from console.sweeps.models import Sweep
from console.sweeps.pages import NOTHING_CHOSEN
from console.sweeps.service import run_sweep
from support_tools.jobs.models import Job
from support_tools.models import SupportAction
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db
URL = "/admin/support/health/"


@pytest.fixture
def acme(settings, amc_app):
    settings.KEYCLOAK_SERVER_URL = None
    return OrganizationFactory(short_name="acme")


def admin_of(org, name):
    user = UserFactory(username=name, email=f"{name}=1+1@example.com")
    UserOrganizationMappingFactory(user=user, organization=org, is_amc_admin=True)
    return user


def test_the_page_is_in_the_support_urls():
    assert reverse("support:health") == URL


def test_no_sweep_yet_offers_to_run_one(client, support_user, acme):
    client.force_login(support_user)
    page = client.get(URL)
    assert page.status_code == 200 and b'id="no-sweep"' in page.content

    response = client.post(URL, {"run": "1"})

    assert response.status_code == 302 and Sweep.objects.get().door == "admin"


def test_counts_change_and_drill_down(client, support_user, acme, system_actor):
    ann = admin_of(acme, "ann")
    run_sweep(actor=system_actor)
    admin_of(acme, "bob")
    sweep = run_sweep(actor=system_actor)
    client.force_login(support_user)

    page = client.get(URL).content.decode()
    drill = client.get(URL, {"sweep": sweep.sweep_id, "code": "access_token_missing"})

    assert 'data-code="access_token_missing"' in page
    # In words, as the console says them; the code as small text beside, for engineers.
    assert '>No AMC access token</a> <code class="health-code">access_token_missing</code>' in page
    assert "<td>AMC</td>" in page and "<td>amc</td>" not in page
    assert '<td class="count">2</td>' in page and "+1</span> (was 1)" in page
    assert "Findings of access_token_missing" not in drill.content.decode()
    assert ": No AMC access token <code" in drill.content.decode()
    assert drill.context["drill"]["page"].paginator.count == 2
    console = reverse("support:console-learner", kwargs={"user_id": ann.pk})
    assert f'<a href="{console}">ann</a>' in drill.content.decode()


def test_csv_export_of_a_code_with_formulas_neutralised(client, support_user, acme, system_actor):
    admin_of(acme, "=cmd")
    sweep = run_sweep(playbooks=["amc"], actor=system_actor)
    client.force_login(support_user)

    response = client.get(
        URL, {"sweep": sweep.sweep_id, "code": "amc_account_missing", "format": "csv"}
    )

    assert response["Content-Type"] == "text/csv"
    assert f"sweep-{sweep.sweep_id}-amc_account_missing.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["playbook", "code", "severity", "user", "target", "message", "fix"]
    assert [r[:5] for r in rows[1:]] == [["amc", "amc_account_missing", "error", "'=cmd", "acme"]]


def test_preview_then_apply(client, support_user, acme, system_actor):
    admin_of(acme, "ann")
    sweep = run_sweep(playbooks=["amc"], actor=system_actor)
    client.force_login(support_user)
    form = {"sweep": sweep.sweep_id, "codes": ["access_token_missing", "site_mapping_missing"]}

    preview = client.post(URL, {**form, "preview": "1"})

    assert preview.status_code == 200 and b'id="apply-button"' in preview.content
    assert "<td>Make AMC admin</td>" in preview.content.decode()
    assert "<td>No AMC access token</td>" in preview.content.decode()
    assert 'value="access_token_missing"' in preview.content.decode()  # the form posts codes
    assert "No AMC access token</label>" in preview.content.decode()
    assert '<td class="status-would_change">would change</td>' in preview.content.decode()
    assert [(o["fix"], o["status"]) for o in preview.context["outcomes"]] == [
        ("ensure_amc_admin", "would_change"),
        ("ensure_amc_token", "would_change"),
    ]
    assert not SupportAction.objects.filter(action="ensure_amc_token", dry_run=False).exists()

    applied = client.post(URL, {**form, "apply": "1"})

    assert [(o["fix"], o["status"]) for o in applied.context["outcomes"]] == [
        ("ensure_amc_admin", "changed"),
        ("ensure_amc_token", "changed"),
    ]
    rows = SupportAction.objects.filter(dry_run=False, door="admin").values_list(
        "action", flat=True
    )
    assert sorted(rows) == ["ensure_amc_admin", "ensure_amc_token"]
    again = client.post(URL, {**form, "apply": "1"})
    assert {o["status"] for o in again.context["outcomes"]} == {"unchanged"}


def test_a_viewer_sees_the_preview_without_apply_and_a_posted_apply_is_refused(
    client, viewer_user, acme, system_actor
):
    admin_of(acme, "ann")
    sweep = run_sweep(playbooks=["amc"], actor=system_actor)
    client.force_login(viewer_user)
    form = {"sweep": sweep.sweep_id, "codes": ["access_token_missing"]}

    preview = client.post(URL, {**form, "preview": "1"})
    refused = client.post(URL, {**form, "apply": "1"})

    assert preview.status_code == 200 and b'id="apply-button"' not in preview.content
    assert refused.status_code == 403
    assert SupportAction.objects.filter(action="sweep", outcome="failed").exists()
    assert not SupportAction.objects.filter(action="ensure_amc_token", dry_run=False).exists()


def test_nothing_chosen(client, support_user, acme, system_actor):
    admin_of(acme, "ann")
    sweep = run_sweep(playbooks=["amc"], actor=system_actor)
    client.force_login(support_user)
    page = client.post(URL, {"sweep": sweep.sweep_id, "preview": "1"})
    assert NOTHING_CHOSEN in page.content.decode()


def test_staff_who_may_not_see_users_are_refused(client):
    client.force_login(UserFactory(username="nobody", is_staff=True))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"run": "1"}).status_code == 403


def test_a_large_bulk_fix_runs_as_a_background_job(
    client, support_user, acme, settings, system_actor
):
    settings.BULK_SYNC_LIMIT = 1
    for name in ("ann", "bob"):
        admin_of(acme, name)
    sweep = run_sweep(playbooks=["amc"], actor=system_actor)
    client.force_login(support_user)

    response = client.post(
        URL, {"sweep": sweep.sweep_id, "codes": ["access_token_missing"], "apply": "1"}
    )

    job = Job.objects.get()
    assert response.status_code == 302
    assert (job.action, job.payload, job.progress_total, job.actor) == (
        "sweep",
        {"sweep": sweep.sweep_id, "fix": ["access_token_missing"]},
        2,
        support_user,
    )
    assert not SupportAction.objects.filter(action="ensure_amc_token").exists()


def test_a_sweep_too_big_for_a_request_runs_as_a_background_job(
    client, support_user, acme, settings
):
    settings.SWEEP_IN_REQUEST_LIMIT = 0
    admin_of(acme, "ann")
    client.force_login(support_user)

    response = client.post(URL, {"run": "1"})

    assert response.status_code == 302 and not Sweep.objects.exists()
    assert Job.objects.get().payload == {"playbook": [], "fix": []}


def test_a_large_bulk_fix_without_the_permission_is_refused_before_any_job(
    client, viewer_user, acme, settings, system_actor
):
    settings.BULK_SYNC_LIMIT = 0
    admin_of(acme, "ann")
    sweep = run_sweep(playbooks=["amc"], actor=system_actor)
    client.force_login(viewer_user)

    refused = client.post(
        URL, {"sweep": sweep.sweep_id, "codes": ["access_token_missing"], "apply": "1"}
    )

    assert refused.status_code == 403 and not Job.objects.exists()
    assert SupportAction.objects.filter(action="sweep", outcome="failed").count() == 1
