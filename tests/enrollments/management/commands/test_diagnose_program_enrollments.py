import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.selectors import USER_NOT_FOUND
from enrollments.programs.diagnosis import diagnose_program_enrollments
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    CourseAccessRoleAssignmentFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lea():
    lea = UserFactory(username="lea", email="lea@example.com")
    pce = ProgramCourseEnrollmentFactory(
        program_enrollment=ProgramEnrollmentFactory(user=lea, external_user_key="UNI-1")
    )
    CourseAccessRoleAssignmentFactory(enrollment=pce)
    return lea


def run(*args):
    out = io.StringIO()
    call_command("diagnose_program_enrollments", *args, stdout=out)
    return out.getvalue()


def test_json_is_the_services_result(system_actor):
    data = json.loads(run("--user", "LEA@example.com", "--json"))

    assert set(data) == {"ok", "user", "programs", "problems"}
    assert data == diagnose_program_enrollments(user="lea", actor=system_actor).as_dict()
    assert set(data["programs"][0]) == {"program_uuid", "status", "external_user_key", "courses"}
    assert set(data["programs"][0]["courses"][0]) == {"course", "status", "mode", "active"}
    assert set(data["problems"][0]) == {"code", "severity", "message", "fix"}
    assert SupportAction.objects.order_by("id").first().door == "command"


def test_text_output_lists_the_problems_and_their_fix():
    text = run("--user", "lea")
    assert "OK: no problem found." in text  # warnings only
    assert "! course_enrollment_missing:" in text
    assert "! staff_role_waiting:" in text and "[fix: link_program_enrollments]" in text


def test_the_user_is_required():
    with pytest.raises(CommandError, match="--user"):
        run("--json")


def test_an_unknown_user_is_one_plain_error():
    with pytest.raises(CommandError) as failed:
        run("--user", "zed", "--json")
    assert str(failed.value) == USER_NOT_FOUND.format(identifier="zed")
