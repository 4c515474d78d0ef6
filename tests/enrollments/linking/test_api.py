import io
import json

import pytest
from django.core.management import call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from enrollments.linking.api import BAD_DRY_RUN, NO_ROWS_GIVEN, ROWS_NOT_A_LIST
from enrollments.linking.csv_rows import CSV_NOT_UTF8
from enrollments.linking.rows import MALFORMED_ROW
from enrollments.linking.service import PROGRAM_NOT_FOUND
from enrollments.models import CourseEnrollment, ProgramEnrollment
from support_tools.errors import PERMISSION_DENIED
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    PROGRAM,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
COURSE = "course-v1:UNI+C1+2025"
URL = f"/api/v1/programs/{PROGRAM}/link"
ROWS = [{"external_user_key": "EXT-1", "username": "ann"}]


@pytest.fixture(autouse=True)
def program():
    CourseModeFactory(course_key=COURSE, mode_slug="masters")
    for key in ("EXT-1", "EXT-2"):
        ProgramCourseEnrollmentFactory(
            program_enrollment=ProgramEnrollmentFactory(external_user_key=key), course_key=COURSE
        )
    UserFactory(username="ann")
    UserFactory(username="bob")


@pytest.fixture
def api(support_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(support_user)[1]}")
    return client


def linked():
    return dict(
        ProgramEnrollment.objects.filter(user__isnull=False).values_list(
            "external_user_key", "user__username"
        )
    )


def test_needs_authentication():
    response = APIClient().post(URL, {"rows": ROWS}, format="json")
    assert response.status_code in (401, 403)
    assert linked() == {} and not SupportAction.objects.exists()


def test_json_rows_give_the_same_json_as_the_command(api):
    response = api.post(URL, {"rows": ROWS, "dry_run": True}, format="json")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True and response.json()["changed"] is True
    assert linked() == {}

    response = api.post(URL, {"rows": ROWS}, format="json")
    assert response.json()["results"][0]["status"] == "linked"
    assert linked() == {"EXT-1": "ann"}
    out = io.StringIO()
    call_command(
        "link_program_enrollments",
        str(PROGRAM),
        "--json",
        stdin=io.TextIOWrapper(io.BytesIO(b"EXT-1,ann\n")),
        stdout=out,
    )
    command = json.loads(out.getvalue())
    assert set(command) == set(response.json())
    assert command["results"][0]["status"] == "unchanged"
    assert SupportAction.objects.filter(door="api", dry_run=False).count() == 1


def test_csv_body_with_dry_run_in_the_query(api):
    body = "\ufeffexternal_user_key,username\n\nEXT-1 , ann\nEXT-2,bob\n".encode()
    response = api.post(URL + "?dry_run=true", body, content_type="text/csv")
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["linked", "linked"]
    assert response.json()["dry_run"] is True and linked() == {}

    response = api.post(URL, body, content_type="text/csv")
    assert response.json()["dry_run"] is False and linked() == {"EXT-1": "ann", "EXT-2": "bob"}


def test_csv_field_as_an_uploaded_file_or_text(api):
    upload = io.BytesIO(b"EXT-1,ann\n")
    upload.name = "sheet.csv"
    response = api.post(URL, {"csv": upload, "dry_run": "false"}, format="multipart")
    assert response.status_code == 200 and linked() == {"EXT-1": "ann"}

    response = api.post(URL, {"csv": "EXT-2,bob", "dry_run": "true"}, format="json")
    assert response.json()["dry_run"] is True
    assert response.json()["results"][0]["status"] == "linked"
    assert linked() == {"EXT-1": "ann"}


def test_a_malformed_json_row_is_that_rows_error(api):
    rows = [
        {"external_user_key": "EXT-1"},
        "EXT-2,bob",
        {"external_user_key": "EXT-2", "username": "bob"},
    ]
    response = api.post(URL, {"rows": rows}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["message"] for r in results[:2]] == [MALFORMED_ROW, MALFORMED_ROW]
    assert results[2]["status"] == "linked"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ({}, "json", NO_ROWS_GIVEN),
        ({"rows": "EXT-1,ann"}, "json", ROWS_NOT_A_LIST),
        ({"rows": ROWS, "dry_run": "perhaps"}, "json", BAD_DRY_RUN),
        (b"EXT-1,\xffann\n", "text/csv", CSV_NOT_UTF8.format(position=6)),
    ],
)
def test_bad_requests_are_400_with_one_message(api, body, content_type, message):
    if content_type == "json":
        response = api.post(URL, body, format="json")
    else:
        response = api.post(URL, body, content_type=content_type)
    assert response.status_code == 400
    assert response.json() == {"error": message, "kind": "bad_input"}
    assert linked() == {} and not CourseEnrollment.objects.exists()


def test_unknown_program_is_404(api):
    other = "0b6b7f3e-0000-4000-8000-000000000000"
    response = api.post(f"/api/v1/programs/{other}/link", {"rows": ROWS}, format="json")
    assert response.status_code == 404
    assert response.json()["error"] == PROGRAM_NOT_FOUND.format(program=other)


def test_without_the_permission_only_the_dry_run_is_allowed(viewer_user):
    client = APIClient()
    client.force_authenticate(viewer_user)

    assert client.post(URL, {"rows": ROWS, "dry_run": True}, format="json").status_code == 200
    refused = client.post(URL, {"rows": ROWS}, format="json")

    assert refused.status_code == 403
    assert refused.json()["error"] == PERMISSION_DENIED.format(action="link_program_enrollments")
    assert linked() == {}
    nobody = APIClient()
    nobody.force_authenticate(UserFactory(username="plain", is_staff=False))
    assert nobody.post(URL, {"rows": ROWS, "dry_run": True}, format="json").status_code == 403


def test_the_endpoint_is_in_the_schema(client, support_user):
    client.force_login(support_user)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/programs/{program_uuid}/link" in schema.content
