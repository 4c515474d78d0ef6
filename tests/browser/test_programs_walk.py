"""The program-enrollment diagnosis, walked in the browser as support, as a lead and as
view-only staff, at each width: the console's program section, its fix through the linking
page, the outcome and the learner's history; axe-core on every page visited."""

import pytest

from enrollments.models import CourseAccessRole
from tests.enrollments.factories import (
    CourseAccessRoleAssignmentFactory,
    CourseEnrollmentFactory,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

COURSE = "course-v1:UNI+C1+2025"


@pytest.fixture
def lea():
    """Linked, enrolled in masters, with a course staff role still waiting on her."""
    lea = UserFactory(username="lea", email="lea@uni.example")
    CourseModeFactory(course_key=COURSE, mode_slug="masters")
    enrollment = CourseEnrollmentFactory(user=lea, course_key=COURSE, mode="masters")
    pe = ProgramEnrollmentFactory(user=lea, external_user_key="UNI-0001")
    CourseAccessRoleAssignmentFactory(
        enrollment=ProgramCourseEnrollmentFactory(
            program_enrollment=pe, course_key=COURSE, course_enrollment=enrollment
        )
    )
    return lea


def test_the_waiting_course_role_day(lea, role, width, login_as, page, check, screenshot):
    login_as(role)
    page.goto(f"/admin/support/console/{lea.pk}/")
    section = page.locator("[id^=section-program-]")
    assert section.get_attribute("data-status") == "warning"
    problem = section.locator("[data-code=staff_role_waiting]")
    assert "A course staff role is still waiting" in problem.inner_text()
    check()

    # The playbook's own diagnosis page says the same.
    page.goto(f"/admin/support/users/{lea.pk}/programs/")
    page.locator("[data-code=staff_role_waiting]").wait_for()
    check()
    page.goto(f"/admin/support/console/{lea.pk}/")

    fix = page.locator("a.fix-button[data-fix=link_program_enrollments]")
    if role == "viewer":
        assert fix.count() == 0
        assert not CourseAccessRole.objects.exists()
    else:
        assert fix.inner_text() == "Link the learner's key again"
        fix.click()
        page.locator("#apply-button").wait_for()  # the linking page opens on the dry run
        check()
        assert not CourseAccessRole.objects.exists()
        page.click("#apply-button")
        page.locator("#back-link").wait_for()
        check()
        assert CourseAccessRole.objects.filter(user=lea, course_key=COURSE).exists()
        page.click("#back-link")
        section = page.locator("[id^=section-program-]")
        assert section.get_attribute("data-status") == "ok"
        check()
        if role == "support":
            screenshot("console-program-after-fix")

    page.locator("#console-history").wait_for()
    page.click("#history-all")
    page.locator("#changelist").wait_for()
    check()
