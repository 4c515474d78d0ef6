import datetime as dt
import random
import uuid

import pytest
from django.utils import timezone

from enrollments.models import (
    CourseEnrollment,
    CourseMode,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from orgs.models import EnrollmentCode
from tests.factories import ContractFactory, EnrollmentCodeFactory, UserFactory
from tests.typos import make_typo

pytestmark = pytest.mark.django_db(transaction=True)


def test_support_finds_a_mistyped_code_and_aligns_its_dates(support_user, login, page):
    now = timezone.now()
    contract = ContractFactory(start=now - dt.timedelta(days=10), end=now + dt.timedelta(days=90))
    code = EnrollmentCodeFactory(
        contract=contract,
        activation_date=now - dt.timedelta(days=40),
        expiration_date=now - dt.timedelta(days=1),
    )
    typo = make_typo(code.code, "swap", random.Random(code.code))

    login("support-sam")
    page.click("text=Diagnose enrollment code")
    page.fill("input[name=code]", f"  https://learn.example.com/enrollmentcode/{typo.upper()}/ ")
    page.click("input[value=Check]")
    page.locator("[data-code=code_not_found]").wait_for()
    page.click(f"a.suggestion:has-text('{code.code}')")

    checklist = page.locator("#checklist")
    assert checklist.locator("[data-code=code_expired]").is_visible()
    assert checklist.locator("[data-code=code_dates_mismatch]").is_visible()
    # One cause, one button: the sync fix sits on the first problem it fixes.
    assert checklist.locator("[data-code=code_dates_mismatch] a.button").count() == 0
    page.locator("a.fix-button[data-fix=sync_code_dates]").click()
    page.wait_for_selector("text=Dry run: nothing has been written yet")
    code.refresh_from_db()
    assert code.expiration_date < now
    page.click("#apply-button")
    page.wait_for_selector("text=Done: changes applied.")

    page.goto(f"/admin/support/codes/diagnose/?code={code.code}")
    assert page.locator("#verdict").inner_text().strip() == "All checks passed."
    code.refresh_from_db()
    assert (code.activation_date, code.expiration_date) == (contract.start, contract.end)


def test_support_links_a_csv_after_its_dry_run_preview(support_user, login, page, screenshot):
    program = uuid.uuid4()
    course = "course-v1:UNI+C1+2026"
    CourseMode.objects.create(course_key=course, mode_slug="masters")
    CourseMode.objects.create(course_key=course, mode_slug="audit")
    for key, username in (("REG-1", "amy"), ("REG-2", "bob")):
        UserFactory(username=username)
        pe = ProgramEnrollment.objects.create(
            external_user_key=key,
            program_uuid=program,
            curriculum_uuid=uuid.uuid4(),
            status="enrolled",
        )
        ProgramCourseEnrollment.objects.create(
            program_enrollment=pe, course_key=course, status="active"
        )

    login("support-sam")
    page.click("text=Link program enrollments")
    page.fill("input[name=program_uuid]", str(program))
    page.fill(
        "textarea[name=csv_text]", "external_user_key,username\nreg-1,amy\nREG-2,bob\nREG-3,carl\n"
    )
    page.click("input[name=preview]")
    page.wait_for_selector("text=Dry run: nothing has been written yet")
    statuses = page.locator("#result-rows td.status-linked, #result-rows td.status-error")
    assert statuses.all_inner_texts() == ["linked", "linked", "error"]
    screenshot("link-preview")
    assert not CourseEnrollment.objects.exists()

    page.click("#apply-button")
    page.wait_for_selector("text=Done: changes applied.")
    assert set(CourseEnrollment.objects.values_list("user__username", "mode")) == {
        ("amy", "masters"),
        ("bob", "masters"),
    }
    assert EnrollmentCode.objects.count() == 0
