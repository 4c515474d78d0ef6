"""The REST API's access rules and error shape: active staff only, 401 with WWW-Authenticate,
expiring hashed tokens, session with CSRF, schema and docs for staff, the contract's JSON for
DRF's own errors and for bugs."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from support_tools.doors.api import (
    STATUS_MESSAGES,
    THROTTLED,
    UNEXPECTED,
    exception_handler,
)
from support_tools.doors.api_access import STAFF_ONLY
from support_tools.permissions import SUPPORT_GROUP
from tests.factories import UserFactory
from tests.project.log_capture import captured_logs

pytestmark = pytest.mark.django_db

DIAGNOSE = "/api/v1/amc/diagnose"
ENSURE_ADMIN = "/api/v1/amc/ensure-admin"


def with_token(user, **expiry):
    client = APIClient()
    _, token = AuthToken.objects.create(user, expiry=dt.timedelta(**(expiry or {"days": 1})))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_no_credentials_is_a_401_with_www_authenticate():
    response = APIClient().get(DIAGNOSE, {"user": "ann"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": "Authentication credentials were not provided.",
        "kind": "unauthenticated",
    }


def test_a_wrong_token_is_a_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token st_0123456789abcdef")
    response = client.get(DIAGNOSE, {"user": "ann"})
    assert response.status_code == 401 and response.json()["kind"] == "unauthenticated"


def test_a_staff_token_opens_the_api(support_user):
    response = with_token(support_user).get(DIAGNOSE, {"user": "nobody"})
    assert response.status_code == 404  # past authentication: the service's own answer
    assert response.json()["kind"] == "not_found"


def test_an_expired_token_is_refused_and_deleted(support_user):
    client = with_token(support_user)
    AuthToken.objects.update(expiry=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(DIAGNOSE, {"user": "nobody"})
    assert response.status_code == 401 and response.json()["kind"] == "unauthenticated"
    assert not AuthToken.objects.exists()


def test_tokens_are_stored_as_digests_only(support_user):
    _, token = AuthToken.objects.create(support_user)
    row = AuthToken.objects.values().get()
    assert token.startswith("st_")
    assert all(token not in str(value) for value in row.values())


def test_support_group_without_staff_status_is_refused():
    member = UserFactory(username="not-staff", is_staff=False)
    member.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    by_token = with_token(member).get(DIAGNOSE, {"user": "nobody"})
    assert by_token.status_code == 403
    assert by_token.json() == {"error": STAFF_ONLY, "kind": "permission"}
    session = APIClient()
    session.force_login(member)
    assert session.get(DIAGNOSE, {"user": "nobody"}).status_code == 403


def test_an_inactive_staff_token_is_refused(support_user):
    client = with_token(support_user)
    support_user.is_active = False
    support_user.save()
    assert client.get(DIAGNOSE, {"user": "nobody"}).status_code == 401


def test_the_session_works_with_csrf_and_not_without(support_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(support_user)
    browser.get("/admin/")  # the admin's logout form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value

    refused = browser.post(ENSURE_ADMIN, {"user": "nobody", "org": "x"}, "application/json")
    assert refused.status_code == 403
    assert refused.json()["kind"] == "permission" and "CSRF" in refused.json()["error"]

    allowed = browser.post(
        ENSURE_ADMIN, {"user": "nobody", "org": "x"}, "application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert allowed.status_code == 404 and allowed.json()["kind"] == "not_found"


def test_schema_and_docs_are_for_logged_in_staff(client, support_user):
    assert client.get("/api/schema/").status_code == 401
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/admin/login/")

    client.force_login(UserFactory(username="learner", is_staff=False))
    assert client.get("/api/schema/").status_code == 403
    assert client.get("/api/docs/").status_code == 302

    client.force_login(support_user)
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200 and b"<script>" not in page.content  # no inline script
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_drf_errors_answer_the_contract_json(support_user):
    client = with_token(support_user)
    malformed = client.post(ENSURE_ADMIN, "{not json", content_type="application/json")
    assert malformed.status_code == 400 and malformed.json()["kind"] == "bad_input"
    wrong_method = client.get(ENSURE_ADMIN)
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"error": 'Method "GET" not allowed.', "kind": "bad_input"}


@pytest.mark.parametrize("authenticated", [False, True])
def test_an_unknown_api_url_is_json_too(client, support_user, authenticated):
    if authenticated:
        client.force_login(support_user)
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": STATUS_MESSAGES[404], "kind": "not_found"}


def test_throttling_is_a_429_unavailable():
    response = exception_handler(Throttled(wait=2.5), {})
    assert response.status_code == 429 and response["Retry-After"] == "3"
    assert response.data == {"error": THROTTLED.format(seconds=3), "kind": "unavailable"}


class Broken(APIView):
    def get(self, request):
        raise RuntimeError("token=Zx81aQ0pL3mN7vB2cD4eF6gH8jK0lM2n went wrong")


def test_a_bug_is_a_json_500_logged_as_one_line(support_user):
    request = APIRequestFactory().get("/api/v1/broken")
    force_authenticate(request, user=support_user)
    with captured_logs(level="WARNING") as out:
        response = Broken.as_view()(request)
    assert isinstance(response, Response) and response.status_code == 500
    assert response.data == {"error": UNEXPECTED, "kind": "unavailable"}
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert "GET /api/v1/broken: RuntimeError" in lines[0] and "test_api.py" in lines[0]
    assert "Zx81aQ0pL3mN7vB2cD4eF6gH8jK0lM2n" not in lines[0]
