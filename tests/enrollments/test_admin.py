"""The model admins of the enrollment models (enrollments/admin.py)."""

import pytest
from django.urls import reverse

from tests.enrollments.factories import (
    PROGRAM,
    CourseEnrollmentFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
COURSE = "course-v1:UNI+C1+2025"


def test_model_admins_search_and_show_the_program_link(client, support_user):
    ann = UserFactory(username="anna")
    pe = ProgramEnrollmentFactory(external_user_key="Key-Find-Me", user=ann)
    enrollment = CourseEnrollmentFactory(user=ann, course_key=COURSE, mode="masters")
    ProgramCourseEnrollmentFactory(
        program_enrollment=pe, course_key=COURSE, course_enrollment=enrollment
    )
    client.force_login(support_user)
    changelist = reverse("admin:enrollments_programenrollment_changelist")

    for term in ("key-find", "anna", str(PROGRAM)[:8]):
        found = client.get(changelist, {"q": term})
        assert found.status_code == 200 and b"Key-Find-Me" in found.content, term
    assert b"Key-Find-Me" not in client.get(changelist, {"q": "nobody"}).content

    enrollments = client.get(reverse("admin:enrollments_courseenrollment_changelist"))
    assert enrollments.status_code == 200
    assert f"Key-Find-Me in {PROGRAM} (active)".encode() in enrollments.content
    for model in (
        "coursemode",
        "programcourseenrollment",
        "courseaccessroleassignment",
        "courseaccessrole",
    ):
        assert client.get(reverse(f"admin:enrollments_{model}_changelist")).status_code == 200
    assert (
        client.get(reverse("admin:enrollments_programenrollment_change", args=[pe.pk])).status_code
        == 200
    )
