import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.selectors import USER_NOT_FOUND
from support_tools.errors import PERMISSION_DENIED
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    CourseAccessRoleAssignmentFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

URL = "/api/v1/programs/diagnose"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lea():
    lea = UserFactory(username="lea", email="lea@example.com")
    pce = ProgramCourseEnrollmentFactory(
        program_enrollment=ProgramEnrollmentFactory(user=lea, external_user_key="UNI-1")
    )
    CourseAccessRoleAssignmentFactory(enrollment=pce)
    return lea


@pytest.fixture
def api(support_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(support_user)[1]}")
    return client


def test_needs_authentication():
    assert APIClient().get(URL, {"user": "lea"}).status_code in (401, 403)
    assert not SupportAction.objects.exists()


def test_gives_the_same_json_as_the_command(api):
    response = api.get(URL, {"user": "LEA@example.com"})

    assert response.status_code == 200
    data = response.json()
    assert sorted(p["code"] for p in data["problems"]) == [
        "course_enrollment_missing",
        "staff_role_waiting",
    ]
    out = io.StringIO()
    call_command("diagnose_program_enrollments", "--user", "lea", "--json", stdout=out)
    assert json.loads(out.getvalue()) == data
    assert SupportAction.objects.filter(door="api", action="diagnose_program_enrollments").exists()


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ({}, 400, {"error": "user: This field is required.", "kind": "bad_input"}),
        (
            {"user": "zed"},
            404,
            {"error": USER_NOT_FOUND.format(identifier="zed"), "kind": "not_found"},
        ),
    ],
)
def test_bad_input(api, query, status, body):
    response = api.get(URL, query)
    assert response.status_code == status
    assert response.json() == body


def test_staff_without_view_access_are_refused():
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = APIClient()
    client.force_authenticate(clerk)

    response = client.get(URL, {"user": "lea"})

    assert response.status_code == 403
    assert response.json() == {
        "error": PERMISSION_DENIED.format(action="diagnose_program_enrollments"),
        "kind": "permission",
    }


def test_the_endpoint_is_documented_with_an_example():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["get"]
    assert operation["summary"]
    assert "examples" in operation["responses"]["200"]["content"]["application/json"]
