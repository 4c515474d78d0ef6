import io
import json

import pytest
from django.core.management import call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from enrollments.linking.api import (
    BAD_DRY_RUN,
    BODY_NOT_AN_OBJECT,
    JSON_TOO_DEEP,
    NO_ROWS_GIVEN,
    ROWS_NOT_A_LIST,
)
from enrollments.linking.csv_rows import CSV_NOT_TEXT, CSV_NOT_UTF8, CSV_TOO_LARGE
from enrollments.linking.rows import MALFORMED_ROW, TOO_MANY_ROWS
from enrollments.linking.service import PROGRAM_NOT_FOUND
from enrollments.models import CourseEnrollment, ProgramEnrollment
from support_tools.errors import PERMISSION_DENIED
from support_tools.models import SupportAction
from support_tools.text import TEXT_CONTROL, TEXT_NOT_UTF8
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


# --- the input boundary: never a 500 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"[]", "a list"),
        (b'[{"external_user_key": "EXT-1", "username": "ann"}]', "a list"),
        (b'"EXT-1,ann"', "str"),
        (b"42", "a number"),
        (b"1.5", "a number"),
        (b"true", "a boolean"),
        (b"null", "null"),
    ],
)
def test_a_json_body_that_is_no_object_is_400(api, body, kind):
    response = api.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": BODY_NOT_AN_OBJECT.format(kind=kind), "kind": "bad_input"}
    assert not SupportAction.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"csv": 123}, CSV_NOT_TEXT.format(kind="a number")),
        ({"csv": None}, CSV_NOT_TEXT.format(kind="null")),
        ({"csv": ["EXT-1,ann"]}, CSV_NOT_TEXT.format(kind="a list")),
        ({"csv": "EXT-1,a\x00nn"}, TEXT_CONTROL.format(field="Line 1", char="U+0000")),
        ({"rows": {"EXT-1": "ann"}}, ROWS_NOT_A_LIST),
        ({"rows": ROWS, "dry_run": None}, BAD_DRY_RUN),
        ({"rows": ROWS, "dry_run": [True]}, BAD_DRY_RUN),
        ({"rows": ROWS, "dry_run": {"a": 1}}, BAD_DRY_RUN),
    ],
)
def test_wrong_types_are_400_with_their_sentence(api, body, message):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": message, "kind": "bad_input"}
    assert linked() == {}


def test_deeply_nested_json_is_400(api):
    body = b'{"rows": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = api.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": JSON_TOO_DEEP, "kind": "bad_input"}


@pytest.mark.parametrize(
    "body", [b'{"rows": [', b"\xff\xfe{}", b'{"rows": NaN}', b'{"rows": [["\\ud800", "ann"]]']
)
def test_unreadable_json_is_400(api, body):
    response = api.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["kind"] == "bad_input"
    assert response.json()["error"].startswith("The body is not valid JSON (")


def test_nul_in_a_csv_body_is_refused_before_any_query(api, django_assert_max_num_queries):
    body = b"EXT-1,ann\nEXT-2,b\x00ob\n"
    with django_assert_max_num_queries(3):  # the caller's token and user: no linking query
        response = api.post(URL, body, content_type="text/csv")
    assert response.status_code == 400
    assert response.json() == {
        "error": TEXT_CONTROL.format(field="Line 2", char="U+0000"),
        "kind": "bad_input",
    }
    assert linked() == {}


def test_nul_or_a_surrogate_in_a_json_row_is_that_rows_error_and_audited(api):
    rows = [["EXT-1", "ann\x00"], ["EXT-\ud8002", "bob"], ["EXT-2", "bob"]]
    # json.dumps escapes the lone surrogate as JSON allows ("\ud800"); a client could not
    # encode it raw.
    response = api.post(URL, json.dumps({"rows": rows}), content_type="application/json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["error", "error", "linked"]
    assert results[0]["message"] == TEXT_CONTROL.format(field="username", char="U+0000")
    assert results[0]["username"] == "ann\\u0000"
    assert results[1]["message"] == TEXT_NOT_UTF8.format(field="external user key")
    assert linked() == {"EXT-2": "bob"}
    audit = SupportAction.objects.get()
    assert audit.outcome == "changed" and "\x00" not in json.dumps(audit.result)


def test_rows_as_lists_as_in_the_contract(api):
    response = api.post(URL, {"rows": [["EXT-1", "ann"], ["EXT-2"]]}, format="json")
    assert [r["status"] for r in response.json()["results"]] == ["linked", "error"]
    assert linked() == {"EXT-1": "ann"}


def test_a_csv_body_over_the_byte_cap_is_413_and_nothing_is_stored(api, settings):
    settings.LINK_MAX_BYTES = 1000
    body = b"".join(b"EXT-%d,ann\n" % i for i in range(200))
    response = api.post(URL + "?dry_run=true", body, content_type="text/csv")
    assert response.status_code == 413
    assert response.json() == {"error": CSV_TOO_LARGE.format(limit=1000), "kind": "too_large"}
    assert not SupportAction.objects.exists()


@pytest.mark.parametrize("form", ["json", "multipart", "file"])
def test_every_body_form_has_the_byte_cap(api, settings, form):
    settings.LINK_MAX_BYTES = 1000
    sheet = "".join(f"EXT-{i},ann\n" for i in range(200))
    if form == "file":
        upload = io.BytesIO(sheet.encode())
        upload.name = "sheet.csv"
        response = api.post(URL, {"csv": upload}, format="multipart")
    else:
        response = api.post(URL, {"csv": sheet}, format=form)
    assert response.status_code == 413
    assert response.json()["kind"] == "too_large"


def test_a_form_field_over_djangos_memory_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.post(URL, {"csv": "EXT-1,ann\n" * 50}, format="multipart")
    assert response.status_code == 413 and response.json()["kind"] == "too_large"


def test_more_json_rows_than_the_cap_is_413(api, settings):
    settings.LINK_MAX_ROWS = 1
    response = api.post(URL, {"rows": ROWS * 2, "dry_run": True}, format="json")
    assert response.status_code == 413
    assert response.json() == {"error": TOO_MANY_ROWS.format(limit=1), "kind": "too_large"}
    assert not SupportAction.objects.exists()


@pytest.mark.parametrize("segment", ["not-a-uuid", "%00", "%C3%A9" * 100])
def test_a_malformed_program_uuid_is_400_not_the_routers_404(api, segment):
    response = api.post(f"/api/v1/programs/{segment}/link", {"rows": ROWS}, format="json")
    assert response.status_code == 400
    assert response.json()["kind"] == "bad_input"
    assert response.json()["error"].endswith(
        "is not a program UUID (expected e.g. 0b6b7f3e-...-...)."
    )
    assert not SupportAction.objects.exists()
