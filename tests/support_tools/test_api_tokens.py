"""API tokens: made by `create_api_token`, shown once, stored as digests, audited masked."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from support_tools.api_tokens import BAD_DAYS, MAX_DAYS, NO_SUCH_USER, NOT_STAFF
from support_tools.models import SupportAction
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue()


def test_the_token_is_printed_once_and_opens_the_api(support_user):
    out = create("--user", support_user.email, "--expires-days", "7")
    token = out.strip().splitlines()[-1]
    assert "shown only this once" in out and token.startswith("st_")

    stored = AuthToken.objects.get()
    assert stored.user == support_user
    assert stored.expiry - timezone.now() == pytest.approx(
        dt.timedelta(days=7), abs=dt.timedelta(minutes=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/amc/diagnose", {"user": "nobody"}).status_code == 404


def test_json_output_and_a_masked_audit_row(support_user):
    data = json.loads(create("--user", "support-sam", "--json"))
    assert set(data) == {"user", "token", "expires"} and data["user"] == "support-sam"

    row = SupportAction.objects.get(action="create_api_token")
    assert row.outcome == "changed" and row.subject_user == support_user
    assert row.inputs == {"user": "support-sam", "expires_days": 30}
    whole = json.dumps([row.inputs, row.changes, row.result], ensure_ascii=False)
    assert data["token"] not in whole and "…" + data["token"][-4:] in whole


def test_each_call_makes_a_new_token(support_user):
    first = create("--user", "support-sam").splitlines()[-1]
    second = create("--user", "support-sam").splitlines()[-1]
    assert first != second and AuthToken.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "zed"], NO_SUCH_USER.format(user="zed")),
        (["--user", "support-sam", "--expires-days", "0"], BAD_DAYS.format(max=MAX_DAYS, days=0)),
        (
            ["--user", "support-sam", "--expires-days", "400"],
            BAD_DAYS.format(max=MAX_DAYS, days=400),
        ),
    ],
)
def test_bad_input_is_refused(support_user, args, message):
    with pytest.raises(CommandError, match=message):
        create(*args)
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize("who", [{"is_staff": False}, {"is_staff": True, "is_active": False}])
def test_only_active_staff_get_a_token(who):
    UserFactory(username="pat", **who)
    with pytest.raises(CommandError, match=NOT_STAFF.format(user="pat")):
        create("--user", "pat")
    assert not AuthToken.objects.exists()
    assert SupportAction.objects.get().outcome == "failed"


def test_the_token_admin_never_shows_a_token(client, admin_user, support_user):
    token = create("--user", "support-sam").splitlines()[-1]
    client.force_login(admin_user)
    digest = AuthToken.objects.get().digest
    for url in [
        reverse("admin:knox_authtoken_changelist"),
        reverse("admin:knox_authtoken_change", args=[digest]),
    ]:
        page = client.get(url)
        assert page.status_code == 200 and token not in page.content.decode(), url
