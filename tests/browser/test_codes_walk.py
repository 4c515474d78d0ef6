"""The enrollment-code playbook, walked in the browser as support, as a lead and as view-only
staff, at each width: a mistyped code, its suggestion, the fixes each may apply, the outcome,
the learner's history; axe-core on every page visited."""

import datetime as dt
import random

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from orgs.models import Contract, EnrollmentCode
from tests.factories import ContractFactory, EnrollmentCodeFactory, OrganizationFactory, UserFactory
from tests.typos import make_typo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def full_contract_code():
    """A code whose dates drifted from its contract (expired yesterday, the contract runs on)
    and whose contract is full; lea is the learner who asks."""
    now = timezone.now()
    org = OrganizationFactory(short_name="acme", name="Acme University")
    contract = ContractFactory(
        organization=org,
        name="Acme pilot",
        start=now - dt.timedelta(days=10),
        end=now + dt.timedelta(days=90),
        max_learners=1,
    )
    contract.learners.add(UserFactory(username="first"))
    UserFactory(username="lea", email="lea@acme.example.edu")
    return EnrollmentCodeFactory(
        contract=contract,
        activation_date=now - dt.timedelta(days=40),
        expiration_date=now - dt.timedelta(days=1),
    )


def test_the_code_that_does_not_redeem_day(
    full_contract_code, role, width, login_as, page, check, screenshot
):
    code = full_contract_code
    at = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    typo = make_typo(code.code, "swap", random.Random(code.code))
    login_as(role)
    page.click("text=Diagnose enrollment code")
    check()
    page.fill("input[name=code]", f" https://learn.example.com/enrollmentcode/{typo.upper()}/ ")
    page.fill("input[name=user]", "lea")
    page.fill("input[name=at]", at)
    page.click("input[value=Check]")
    page.locator("[data-code=code_not_found]").wait_for()
    # The suggestions sit inside the page's main column (the admin floats it: a module after
    # it slid underneath and painted the page steel blue).
    assert page.locator("#content-main #suggestions").is_visible()
    check()
    if role == "lead":
        screenshot("code-suggestions")

    # Following the suggestion keeps the learner and the moment.
    page.click(f"a.suggestion:has-text('{code.code}')")
    page.locator("[data-code=code_expired]").wait_for()
    assert (page.input_value("input[name=user]"), page.input_value("input[name=at]")) == (
        "lea",
        at,
    )
    checklist = page.locator("#checklist")
    assert checklist.locator("[data-code=code_dates_mismatch]").is_visible()
    full = checklist.locator("[data-code=contract_full]")
    assert "The contract is full" in full.inner_text()
    check()
    if role == "lead":
        screenshot("code-diagnosis")
    diagnosis_url = page.url

    sync = page.locator("a.fix-button[data-fix=sync_code_dates]")
    seats = page.locator("a.fix-button[data-fix=add_contract_seats]")
    if role == "viewer":
        assert sync.count() == 0 and seats.count() == 0
        page.goto(f"/admin/support/codes/sync-dates/?code={code.code}")
        page.wait_for_selector("text=Dry run: nothing has been written yet")
        assert page.locator("#apply-button").count() == 0
        check()
    else:
        # Adding seats is the leads' commercial decision: support gets the reason, no button.
        assert seats.count() == (1 if role == "lead" else 0)
        if role == "support":
            assert "needs a permission you do not have" in full.inner_text()
        sync.click()
        page.wait_for_selector("text=Dry run: nothing has been written yet")
        check()
        page.click("#apply-button")
        page.wait_for_selector("#outcome-summary")
        assert page.inner_text("#outcome-summary") == "Changes applied."
        check()
        page.click("#back-link")  # back to the diagnosis, the same code, user and moment
        page.locator("[data-code=contract_full]").wait_for()
        assert page.url == diagnosis_url
        assert page.locator("[data-code=code_expired]").count() == 0
        code.refresh_from_db()
        assert code.expiration_date == code.contract.end

    if role == "lead":
        page.locator("a.fix-button[data-fix=add_contract_seats]").click()
        assert "1 of 1 seats used" in page.inner_text(".support-intro")
        page.fill("input[name=seats]", "2")
        page.fill("textarea[name=reason]", "Order 1234")
        page.click("input[name=preview]")
        page.wait_for_selector("text=Dry run: nothing has been written yet")
        check()
        page.click("#apply-button")
        page.wait_for_selector("#outcome-summary")
        # The page shows the new limit, not the one it opened with.
        assert "1 of 3 seats used" in page.inner_text(".support-intro")
        check()
        page.click("#back-link")
        page.locator("#verdict").wait_for()
        assert page.inner_text("#verdict").strip() == "All checks passed."
        assert Contract.objects.get().max_learners == 3

    # The learner's history: the diagnoses run about them, each opening its detail.
    lea = get_user_model().objects.get(username="lea")
    page.goto(f"/admin/support/console/{lea.pk}/")
    history = page.locator("#console-history tr[data-action=diagnose_code]")
    assert history.count() >= 1
    check()
    page.click("#history-all")
    page.locator("#result_list tbody tr").first.wait_for()
    check()
    assert EnrollmentCode.objects.count() == 1
