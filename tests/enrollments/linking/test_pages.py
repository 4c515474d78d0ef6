import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enrollments.linking.csv_rows import CSV_WRONG_COLUMNS
from enrollments.linking.pages import CSV_GIVEN_TWICE, NO_CSV_GIVEN, link_page_url
from enrollments.linking.service import PROGRAM_NOT_FOUND
from enrollments.models import CourseEnrollment, ProgramEnrollment
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
URL = reverse("support:link-program-enrollments")


@pytest.fixture(autouse=True)
def program():
    CourseModeFactory(course_key=COURSE, mode_slug="masters")
    alice = UserFactory(username="alice")
    for key, user in (("EXT-1", None), ("EXT-2", alice)):
        ProgramCourseEnrollmentFactory(
            program_enrollment=ProgramEnrollmentFactory(external_user_key=key, user=user),
            course_key=COURSE,
        )
    UserFactory(username="ann")
    UserFactory(username="bob")


def linked():
    return dict(
        ProgramEnrollment.objects.filter(user__isnull=False).values_list(
            "external_user_key", "user__username"
        )
    )


SHEET = "external_user_key,username\nEXT-1,ann\nEXT-2,bob\nEXT-3,ann2\n"


def test_preview_shows_each_row_and_writes_nothing(client, support_user):
    client.force_login(support_user)
    page = client.get(URL)
    assert page.status_code == 200 and b"Link program enrollments" in page.content

    preview = client.post(URL, {"program_uuid": str(PROGRAM), "csv_text": SHEET, "preview": "1"})

    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Dry run: nothing has been written yet" in html
    assert 'class="status-linked"' in html and 'class="status-relinked"' in html
    assert 'class="status-error"' in html and "Would relink from alice to bob" in html
    assert "Relinked from" not in html  # a preview says what would happen, not what did
    assert 'id="apply-button"' in html
    assert linked() == {"EXT-2": "alice"}
    assert SupportAction.objects.get().dry_run is True


def test_apply_links_and_reports_the_outcome(client, support_user):
    client.force_login(support_user)
    done = client.post(URL, {"program_uuid": str(PROGRAM), "csv_text": SHEET, "apply": "1"})

    assert done.status_code == 200
    assert b"Done: changes applied." in done.content
    assert linked() == {"EXT-1": "ann", "EXT-2": "bob"}
    assert CourseEnrollment.objects.filter(mode="masters").count() == 2
    audit = SupportAction.objects.get()
    assert (audit.door, audit.dry_run, audit.actor) == ("admin", False, support_user)


def test_an_uploaded_file_is_copied_into_the_box_for_apply(client, support_user):
    client.force_login(support_user)
    upload = SimpleUploadedFile("sheet.csv", "\ufeffEXT-1,ann\n".encode(), "text/csv")

    preview = client.post(URL, {"program_uuid": str(PROGRAM), "csv_file": upload, "preview": "1"})

    assert preview.status_code == 200
    assert preview.context["form"]["csv_text"].value() == "EXT-1,ann\n"
    assert 'class="status-linked"' in preview.content.decode()
    assert linked() == {"EXT-2": "alice"}


@pytest.mark.parametrize("apply", [False, True])
def test_pasted_rows_and_a_file_together_are_refused(client, support_user, apply):
    client.force_login(support_user)
    upload = SimpleUploadedFile("sheet.csv", b"EXT-2,bob\n", "text/csv")
    button = {"apply": "1"} if apply else {"preview": "1"}

    page = client.post(
        URL, {"program_uuid": str(PROGRAM), "csv_text": "EXT-1,ann\n", "csv_file": upload, **button}
    )

    assert page.status_code == 200
    assert CSV_GIVEN_TWICE in page.context["form"].non_field_errors()
    assert "Use one or the other" in page.content.decode()
    assert 'class="status-linked"' not in page.content.decode()
    assert linked() == {"EXT-2": "alice"}
    assert not SupportAction.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"csv_text": ""}, NO_CSV_GIVEN),
        ({"csv_text": "EXT-1;ann;x\n"}, CSV_WRONG_COLUMNS.format(line=1, count=1)),
    ],
)
def test_bad_input_is_shown_on_the_form(client, support_user, fields, message):
    client.force_login(support_user)
    page = client.post(URL, {"program_uuid": str(PROGRAM), "preview": "1", **fields})
    assert page.status_code == 200
    assert message in page.context["form"].non_field_errors()
    assert not SupportAction.objects.exists()


def test_an_unknown_program_is_an_error_message(client, support_user):
    client.force_login(support_user)
    other = "0b6b7f3e-0000-4000-8000-000000000000"
    page = client.post(URL, {"program_uuid": other, "csv_text": SHEET, "preview": "1"})
    assert PROGRAM_NOT_FOUND.format(program=other) in [m.message for m in page.context["messages"]]


def test_a_viewer_may_preview_but_not_apply(client, viewer_user):
    client.force_login(viewer_user)
    preview = client.post(URL, {"program_uuid": str(PROGRAM), "csv_text": SHEET, "preview": "1"})
    assert preview.status_code == 200
    assert b"You do not have the permission to apply this." in preview.content
    assert b'id="apply-button"' not in preview.content

    refused = client.post(URL, {"program_uuid": str(PROGRAM), "csv_text": SHEET, "apply": "1"})

    assert refused.status_code == 403
    assert linked() == {"EXT-2": "alice"}


def test_staff_without_view_access_cannot_open_the_page(client):
    client.force_login(UserFactory(username="intern", is_staff=True))
    assert client.get(URL).status_code == 403


def test_link_page_url_opens_on_the_dry_run_of_its_rows(client, support_user):
    client.force_login(support_user)
    url = link_page_url(PROGRAM, [("EXT-1", "ann"), ("EXT-2", "bob")], next_url="/admin/")

    preview = client.get(url)

    assert preview.status_code == 200
    results = preview.context["result"]["results"]
    assert [(r["external_user_key"], r["status"]) for r in results] == [
        ("EXT-1", "linked"),
        ("EXT-2", "relinked"),
    ]
    assert preview.context["preview"] is True and preview.context["next_url"] == "/admin/"
    assert linked() == {"EXT-2": "alice"}
