"""The AMC playbook, walked in the browser: from the console to the fix and back, as support, as
a lead and as view-only staff, at each width; axe-core on every page visited."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import AmcAccount
from support_tools.models import SupportAction
from tests.factories import (
    AccessTokenFactory,
    AmcAccountFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
    UserSiteMappingFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broken_amc_admin(amc_app):
    org = OrganizationFactory(short_name="acme", name="Acme University")
    mat = UserFactory(username="mat", email="mat@example.com")
    UserOrganizationMappingFactory(user=mat, organization=org, is_amc_admin=True)
    UserSiteMappingFactory(user=mat, site=org.sites.get(), is_amc_admin=True)
    expired = AccessTokenFactory(
        user=mat, application=amc_app, expires=timezone.now() - dt.timedelta(days=2)
    )
    AmcAccountFactory(user=mat, access_token=expired.token, token_expires_at=expired.expires)
    return mat


def test_the_spinning_wheel_day(broken_amc_admin, role, width, login_as, page, check, screenshot):
    mat = broken_amc_admin
    login_as(role)
    check()  # the admin index
    page.click("text=Support console")
    check()
    page.fill("input[name=q]", "MAT@example.com")
    page.click("input[value=Find]")

    # Read: the section says what is wrong in words, the code stays as small text.
    section = page.locator("#section-amc")
    assert section.get_attribute("data-status") == "error"
    problem = section.locator("[data-code=access_token_expired]")
    title = " ".join(problem.locator(".check-title").inner_text().split())
    assert title == "Error: The access token has expired"  # "Error:" is for screen readers
    assert problem.locator("code.code-name").first.inner_text() == "access_token_expired"
    check()
    if role == "support":
        screenshot("console-before-fix")

    if role == "viewer":
        # No button for a fix the viewer may not apply; the dry run is still theirs to read.
        assert page.locator("a.fix-button").count() == 0
        assert "needs a permission you do not have" in problem.inner_text()
        page.goto(f"/admin/support/users/{mat.pk}/amc/ensure-token/?org=acme")
        page.wait_for_selector("text=Dry run: nothing has been written yet")
        assert page.locator("#apply-button").count() == 0
        assert "You do not have the permission to apply this." in page.inner_text("#content")
        check()
        assert AmcAccount.objects.get(user=mat).token_expires_at < timezone.now()
        page.goto(f"/admin/support/console/{mat.pk}/")
    else:
        # Preview: the confirmation page has run the dry run; it names no token tail.
        problem.locator("a.fix-button", has_text="Renew the AMC tokens").click()
        page.wait_for_selector("text=Dry run: nothing has been written yet")
        assert "a new token (made when you apply)" in page.inner_text("#details")
        check()
        assert AmcAccount.objects.get(user=mat).token_expires_at < timezone.now()
        # Apply, read the outcome, and go back to the console.
        page.click("#apply-button")
        page.wait_for_selector("#outcome-summary")
        assert page.inner_text("#outcome-summary") == "Changes applied."
        check()
        page.click("#back-link")
        section = page.locator("#section-amc")
        assert section.get_attribute("data-status") == "ok"
        check()
        if role == "support":
            screenshot("console-after-fix")
        assert AmcAccount.objects.get(user=mat).token_expires_at > timezone.now()
        assert SupportAction.objects.filter(action="ensure_amc_token", dry_run=False).count() == 1

    # The learner's history: real runs listed, each opening its read-only detail.
    history = page.locator("#console-history")
    applied = history.locator("tr[data-action=ensure_amc_token]")
    assert applied.count() == (0 if role == "viewer" else 1)
    if role != "viewer":
        assert "preview" not in applied.inner_text()  # the dry run waits behind the toggle
        applied.locator("a.history-link").click()
        page.wait_for_url("**/supportaction/*/change/")
        assert "ensure_amc_token" in page.inner_text("#content")
        check()
        page.go_back()
    page.click("#history-all")  # the audit list, filtered to the learner
    page.locator("#result_list tbody tr").first.wait_for()
    check()
    if role == "lead":
        screenshot("audit-list")


def test_staff_without_repair_permission_sees_no_fix_button_and_is_refused(
    broken_amc_admin, viewer_user, login, page, live_server
):
    login("viewer-val")
    page.goto(f"/admin/support/console/{broken_amc_admin.pk}/")
    assert page.locator("#section-amc").get_attribute("data-status") == "error"
    assert page.locator("a.fix-button").count() == 0

    # Posting to the repair page directly is refused too.
    url = f"/admin/support/users/{broken_amc_admin.pk}/amc/ensure-token/"
    page.goto(url + "?org=acme")
    assert page.locator("#apply-button").count() == 0
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(
        live_server.url + url,
        form={"org": "acme", "apply": "1", "csrfmiddlewaretoken": token},
        headers={"Referer": live_server.url + url},
    )
    assert response.status == 403
    assert AmcAccount.objects.get(user=broken_amc_admin).token_expires_at < timezone.now()


def test_a_user_the_amc_does_not_know_gets_a_line_and_a_link(
    amc_app, support_user, login, page, check
):
    nobody = UserFactory(username="amc-no-org")
    login("support-sam")
    page.goto(f"/admin/support/console/{nobody.pk}/")
    section = page.locator("#section-amc")
    assert section.get_attribute("data-status") == "not_checked"
    assert "Not an AMC admin: no organization, no AMC account, no AMC token." in (
        section.inner_text()
    )
    check()
    section.locator("a", has_text="Diagnose AMC anyway").click()
    page.locator("[data-code=no_organization]").wait_for()
    check()
    page.click("#back-link")
    page.locator("#section-amc").wait_for()
