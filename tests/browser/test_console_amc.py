import pytest

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
    import datetime as dt

    from django.utils import timezone

    org = OrganizationFactory(short_name="acme")
    mat = UserFactory(username="mat", email="mat@example.com")
    UserOrganizationMappingFactory(user=mat, organization=org, is_amc_admin=True)
    UserSiteMappingFactory(user=mat, site=org.sites.get(), is_amc_admin=True)
    expired = AccessTokenFactory(
        user=mat, application=amc_app, expires=timezone.now() - dt.timedelta(days=2)
    )
    AmcAccountFactory(user=mat, access_token=expired.token, token_expires_at=expired.expires)
    return mat


def test_support_fixes_the_spinning_wheel_from_the_console(
    broken_amc_admin, support_user, login, page, screenshot
):
    login("support-sam")
    page.click("text=Support console")
    page.fill("input[name=q]", "MAT@example.com")
    page.click("input[value=Find]")

    section = page.locator("#section-amc")
    assert section.get_attribute("data-status") == "error"
    assert section.locator("[data-code=access_token_expired]").is_visible()
    screenshot("console-before-fix")

    section.locator("a.fix-button", has_text="ensure_amc_token").first.click()
    page.wait_for_selector("text=Dry run: nothing has been written yet")
    assert AmcAccount.objects.get(user=broken_amc_admin).token_expires_at < _now()
    page.click("#apply-button")
    page.wait_for_selector("text=Done: changes applied.")
    page.click("#back-link")

    section = page.locator("#section-amc")
    assert section.get_attribute("data-status") == "ok"
    assert page.locator("#console-history").inner_text().count("ensure_amc_token") >= 1
    screenshot("console-after-fix")
    assert AmcAccount.objects.get(user=broken_amc_admin).token_expires_at > _now()
    assert SupportAction.objects.filter(action="ensure_amc_token", dry_run=False).count() == 1


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
    assert AmcAccount.objects.get(user=broken_amc_admin).token_expires_at < _now()


def _now():
    from django.utils import timezone

    return timezone.now()
