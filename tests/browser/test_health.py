"""The Health page walked in the browser: run a sweep, read the counts, drill down to a learner's
console, export the CSV, preview then apply a bulk fix, see the change; at 1280 and 390 px."""

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.utils import timezone

from console.sweeps.models import Sweep
from support_tools.models import SupportAction
from tests.factories import (
    ContractFactory,
    EnrollmentCodeFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
    UserSiteMappingFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform(amc_app, settings):
    """Two AMC admins without tokens, one of them without a site mapping; two codes whose
    contract was extended without them. Keycloak controls no organization here."""
    settings.KEYCLOAK_SERVER_URL = None
    org = OrganizationFactory(short_name="acme")
    admins = []
    for name in ("mat", "nia"):
        user = UserFactory(username=name, email=f"{name}@example.com")
        UserOrganizationMappingFactory(user=user, organization=org, is_amc_admin=True)
        admins.append(user)
    UserSiteMappingFactory(user=admins[0], site=org.sites.get(), is_amc_admin=True)
    contract = ContractFactory(organization=org, name="Spring")
    for _ in range(2):
        EnrollmentCodeFactory(
            contract=contract, expiration_date=timezone.now() + dt.timedelta(days=3)
        )
    return admins


def count_of(page, code):
    return page.locator(f"#health-counts tr[data-code={code}] td.count").inner_text()


def test_support_walks_the_health_page(platform, support_user, login, page, screenshot):
    login("support-sam")
    page.goto("/admin/support/health/")
    assert page.locator("#no-sweep").is_visible()

    page.click("#run-sweep")
    page.wait_for_selector("#health-counts")
    assert count_of(page, "access_token_missing") == "2"
    assert count_of(page, "site_mapping_missing") == "1"
    assert count_of(page, "code_dates_mismatch") == "2"
    assert "first sweep" in page.locator("#health-counts").inner_text()
    screenshot("health")

    # drill down, then into one learner's console
    page.click("#health-counts tr[data-code=access_token_missing] a")
    page.wait_for_selector("#drill-down")
    assert page.locator("#drill-down tr.finding").count() == 2
    page.click("#drill-down a:text-is('nia')")
    page.wait_for_url(f"**/admin/support/console/{platform[1].pk}/")
    page.go_back()

    # the CSV of what the drill-down shows
    with page.expect_download() as download:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:3] == ["playbook", "code", "severity"]
    assert sorted(r[3] for r in rows[1:]) == ["mat", "nia"]

    # bulk fix: the dry run first, then Apply
    page.check("#fix-form input[value=access_token_missing]")
    page.check("#fix-form input[value=code_dates_mismatch]")
    page.click("#preview-button")
    page.wait_for_selector("text=Dry run: nothing has been written yet")
    assert page.locator("#fix-outcomes td.status-would_change").count() == 3
    assert not SupportAction.objects.filter(action="ensure_amc_token", dry_run=False).exists()
    screenshot("health-fix-preview")
    page.click("#apply-button")
    page.wait_for_selector("text=Done: changes applied.")
    assert page.locator("#fix-outcomes td.status-changed").count() == 3
    assert SupportAction.objects.filter(action="ensure_amc_token", dry_run=False).count() == 2
    assert SupportAction.objects.filter(action="sync_code_dates", dry_run=False).count() == 1

    # the next sweep shows the change
    page.click("#run-sweep")
    # The sweep's number is its id (PostgreSQL's ids go on across the tests' flushes).
    page.wait_for_selector("text=/Sweep \\d+ done\\./")
    assert Sweep.objects.count() == 2
    second = Sweep.objects.order_by("-pk").first().pk
    assert page.get_by_text(f"Sweep {second} done.").is_visible()
    assert "-2</span> (was 2)" in page.locator("#health-counts").inner_html()

    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width  # the tables scroll inside the page, the page does not
    screenshot("health")
