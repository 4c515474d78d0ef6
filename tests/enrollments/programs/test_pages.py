from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from enrollments.programs.pages import DiagnoseProgramEnrollmentsPage
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    PROGRAM,
    CourseAccessRoleAssignmentFactory,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

C1, C2 = "course-v1:UNI+C1+2025", "course-v1:UNI+C2+2025"

pytestmark = pytest.mark.django_db


@pytest.fixture
def lea():
    lea = UserFactory(username="lea")
    pe = ProgramEnrollmentFactory(user=lea, external_user_key="UNI,1")  # a comma: CSV-quoted
    CourseAccessRoleAssignmentFactory(
        enrollment=ProgramCourseEnrollmentFactory(program_enrollment=pe, course_key=C1)
    )
    ProgramCourseEnrollmentFactory(program_enrollment=pe, course_key=C2)
    CourseModeFactory(course_key=C1, mode_slug="masters")
    CourseModeFactory(course_key=C2, mode_slug="masters")
    return lea


def url(user):
    return reverse("support:diagnose-program-enrollments", kwargs={"user_id": user.pk})


def test_the_page_runs_the_diagnosis_and_links_the_fix(client, support_user, lea):
    client.force_login(support_user)

    page = client.get(url(lea))

    assert page.status_code == 200
    problems = {p["code"]: p for p in page.context["result"]["problems"]}
    assert set(problems) == {"staff_role_waiting", "course_enrollment_missing"}
    assert problems["course_enrollment_missing"]["fix_url"] is None
    fix = problems["staff_role_waiting"]["fix_url"]
    parts = urlsplit(fix)
    assert parts.path == reverse("support:link-program-enrollments")
    assert parse_qs(parts.query) == {
        "program_uuid": [str(PROGRAM)],
        "csv_text": ['"UNI,1",lea\n'],
        "next": [url(lea)],
    }
    html = page.content.decode()
    assert 'data-code="staff_role_waiting"' in html and "Link the learner&#x27;s key again" in html
    assert "A course staff role is still waiting" in html  # the title; the code stays as small text
    audit = SupportAction.objects.get()
    assert (audit.door, audit.subject_user, audit.outcome) == ("admin", lea, "ok")

    preview = client.get(fix)  # the fix opens on the dry run of exactly that row

    assert preview.status_code == 200
    row = preview.context["result"]["results"][0]
    assert (row["external_user_key"], row["status"]) == ("UNI,1", "linked")
    assert 'id="apply-button"' in preview.content.decode()


def test_a_learner_in_order_shows_no_problem(client, support_user):
    client.force_login(support_user)
    page = client.get(url(UserFactory(username="nobody-in-programs")))
    assert page.status_code == 200 and b"No problem found." in page.content


def test_staff_without_view_access_cannot_open_it(client, lea):
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(clerk)
    assert client.get(url(lea)).status_code == 403
    assert not SupportAction.objects.exists()


def test_an_unknown_user_is_404(client, support_user):
    client.force_login(support_user)
    response = client.get(reverse("support:diagnose-program-enrollments", kwargs={"user_id": 999}))
    assert response.status_code == 404


def test_it_is_a_user_tool():
    assert DiagnoseProgramEnrollmentsPage.user_tool == "Diagnose programs"
    assert DiagnoseProgramEnrollmentsPage.route == "users/<int:user_id>/programs/"
