"""The audit list answers "who did what to this learner, and when"."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from support_tools.admin import CSV_COLUMNS, SupportActionAdmin
from support_tools.models import SupportAction, SupportActionLearner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "admin:support_tools_supportaction_changelist"


def _row(action="ensure_amc_token", **fields):
    fields = {"actor_label": "support-sam", "door": "admin", "outcome": "changed", **fields}
    return SupportAction.objects.create(action=action, **fields)


@pytest.fixture
def trail(support_user):
    """Mat's repair by support-sam, a command's sync, a link sheet that relinked Ann."""
    mat = UserFactory(username="mat", email="mat@example.com")
    ann = UserFactory(username="ann", email="ann@example.com")
    repair = _row(actor=support_user, subject_user=mat)
    command = _row("sync_code_dates", actor_label="manage.py sync_code_dates", door="command")
    sheet = _row("link_program_enrollments", actor=support_user, dry_run=True)
    SupportActionLearner.objects.create(action=sheet, user=ann, key="ACME-0099", outcome="relinked")
    return {"repair": repair, "command": command, "sheet": sheet, "mat": mat, "ann": ann}


def _listed(client, **query):
    response = client.get(reverse(LIST), query)
    assert response.status_code == 200, response.get("Location")
    return {row.pk for row in response.context["cl"].result_list}


def test_filters_by_actor_learner_and_dates(client, admin_user, support_user, trail):
    client.force_login(admin_user)
    assert _listed(client, actor=support_user.pk) == {trail["repair"].pk, trail["sheet"].pk}
    assert _listed(client, actor="system") == {trail["command"].pk}
    assert _listed(client, learner="MAT@example.com") == {trail["repair"].pk}
    # A bulk run is found through the learners it touched: by username, email or key.
    for who in ("ann", "ann@example.com", "acme-0099"):
        assert _listed(client, learner=who) == {trail["sheet"].pk}
    today = timezone.now().astimezone(dt.UTC).date()
    assert len(_listed(client, created_from=today.isoformat(), created_to=today.isoformat())) == 3
    assert _listed(client, created_to=(today - dt.timedelta(days=1)).isoformat()) == set()
    assert _listed(client, dry_run__exact="1") == {trail["sheet"].pk}
    bad = client.get(reverse(LIST), {"created_from": "yesterday"})
    assert bad.status_code == 302 and "e=1" in bad["Location"]


def test_search_by_learner_identifiers_includes_bulk_runs(client, admin_user, trail):
    client.force_login(admin_user)
    assert _listed(client, q="ACME-0099") == {trail["sheet"].pk}
    assert _listed(client, q="ann@example.com") == {trail["sheet"].pk}
    assert _listed(client, q="mat") == {trail["repair"].pk}


def test_rows_link_to_the_learners_console_and_the_columns_fit(client, admin_user, trail):
    client.force_login(admin_user)
    page = client.get(reverse(LIST)).content.decode()
    console = reverse("support:console-learner", kwargs={"user_id": trail["mat"].pk})
    assert f'href="{console}"' in page
    assert "bulk run: 1 learner" in page and "preview" in page
    assert "would change" in page  # a preview changed nothing
    assert len(SupportActionAdmin.list_display) <= 6


def test_csv_download_of_the_filtered_list(client, support_user, trail):
    failed = _row(subject_user=trail["mat"], outcome="failed", error="=HYPERLINK(1)")
    client.force_login(support_user)  # view access is enough
    page = client.get(reverse(LIST), {"learner": "mat"}).content.decode()
    export = reverse("admin:support_tools_supportaction_export")
    assert f'href="{export}?learner=mat"' in page
    response = client.get(export, {"learner": "mat"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == CSV_COLUMNS
    assert {r[0] for r in rows[1:]} == {str(trail["repair"].pk), str(failed.pk)}
    assert all(r[6] == "mat" for r in rows[1:])
    assert "'=HYPERLINK(1)" in {r[-1] for r in rows[1:]}  # a formula stays text
    assert client.get(export, {"created_from": "soon"}).status_code == 400


def test_the_csv_needs_view_access(client, trail):
    client.force_login(UserFactory(username="staff-only", is_staff=True))
    assert client.get(reverse("admin:support_tools_supportaction_export")).status_code == 403
