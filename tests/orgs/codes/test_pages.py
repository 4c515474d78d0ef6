"""The enrollment-code admin pages: the diagnosis page and the fix pages."""

import pytest
from django.urls import reverse

from orgs.codes.repairs import SEATS_ABOVE_LIMIT, SEATS_LIMIT_MAX
from orgs.models import Contract
from support_tools.models import SupportAction
from tests.factories import UserFactory
from tests.orgs.codes.factories import CODE, DAY

pytestmark = pytest.mark.django_db


def _body(response):
    assert response.status_code == 200
    return response.content.decode()


# --- the diagnosis page ------------------------------------------------------------------------


def test_diagnosis_page_form_then_green_verdict(client, viewer_user, code):
    client.force_login(viewer_user)
    url = reverse("support:diagnose-code")
    assert 'name="code"' in _body(client.get(url))
    body = _body(client.get(url, {"code": f" '{CODE}' "}))
    assert "All checks passed." in body and "verdict-ok" in body


def test_diagnosis_page_red_and_amber_checks_with_fix_buttons(
    client, support_user, lead_user, full, code
):
    code.expiration_date = full.end + 3 * DAY
    code.save()
    client.force_login(lead_user)
    url = reverse("support:diagnose-code")
    body = _body(client.get(url, {"code": CODE}))
    assert 'class="check check-error" data-code="contract_full"' in body
    assert 'class="check check-warning" data-code="code_dates_mismatch"' in body
    seats = reverse("support:add-contract-seats", kwargs={"contract_id": full.pk})
    assert f'href="{seats}?next=' in body
    assert f'href="{reverse("support:sync-code-dates")}?code={CODE}&amp;next=' in body
    assert "Add seats to the contract" in body and "The contract is full" in body
    # Adding seats is the leads' decision: support sees the problem, not the button.
    client.force_login(support_user)
    body = _body(client.get(url, {"code": CODE}))
    assert 'data-code="contract_full"' in body and seats not in body
    assert "needs a permission you do not have" in body
    assert f'href="{reverse("support:sync-code-dates")}?code={CODE}&amp;next=' in body


def test_diagnosis_page_suggestion_links_rerun_the_diagnosis(client, support_user, code):
    client.force_login(support_user)
    url = reverse("support:diagnose-code")
    swapped = CODE[:3] + CODE[4] + CODE[3] + CODE[5:]
    body = _body(client.get(url, {"code": swapped, "user": "", "at": ""}))
    assert 'data-code="code_not_found"' in body
    link = f'href="{url}?code={CODE}"'
    assert link in body and 'id="suggestions"' in body
    again = _body(client.get(url, {"code": CODE}))
    assert "All checks passed." in again
    garbage = _body(client.get(url, {"code": "nonsense"}))
    assert 'data-code="malformed_code"' in garbage and 'id="no-suggestions"' in garbage


def test_diagnosis_page_shows_errors_and_needs_view_permission(client, support_user, code):
    client.force_login(support_user)
    body = _body(client.get(reverse("support:diagnose-code"), {"code": CODE, "at": "soon"}))
    assert "is not an ISO 8601 date" in body
    client.force_login(UserFactory(username="staff-only", is_staff=True))
    assert client.get(reverse("support:diagnose-code"), {"code": CODE}).status_code == 403


# --- the fix pages -----------------------------------------------------------------------------


def test_sync_page_preview_then_apply(client, support_user, code):
    code.expiration_date = code.contract.end - DAY
    code.save()
    client.force_login(support_user)
    url = reverse("support:sync-code-dates")
    preview = _body(client.get(url, {"code": CODE}))
    assert "Dry run: nothing has been written yet" in preview and 'id="apply-button"' in preview
    code.refresh_from_db()
    assert code.expiration_date != code.contract.end
    applied = _body(client.post(url, {"code": CODE, "contract": "", "apply": "1"}))
    assert "Done: changes applied." in applied
    code.refresh_from_db()
    assert code.expiration_date == code.contract.end
    again = _body(client.post(url, {"contract": str(code.contract_id), "apply": "1"}))
    assert "Nothing needed changing." in again
    row = SupportAction.objects.filter(action="sync_code_dates", dry_run=False).first()
    assert row.door == "admin" and row.actor == support_user


def test_sync_page_refuses_without_permission_and_shows_errors(
    client, viewer_user, support_user, code
):
    client.force_login(viewer_user)
    url = reverse("support:sync-code-dates")
    preview = _body(client.get(url, {"contract": str(code.contract_id)}))
    # View access shows the dry run, never the Apply button.
    assert 'id="apply-button"' not in preview
    assert "Dry run: nothing has been written yet" in preview
    assert "You do not have the permission to apply this." in preview
    assert client.post(url, {"contract": str(code.contract_id), "apply": "1"}).status_code == 403
    client.force_login(support_user)
    missing = _body(client.post(url, {"code": "", "contract": "", "preview": "1"}))
    assert "Give either one enrollment code or one contract" in missing


def test_add_seats_page_is_for_leads(client, support_user, lead_user, full):
    url = reverse("support:add-contract-seats", kwargs={"contract_id": full.pk})
    form = {"seats": "3", "reason": "Order 77", "expected_max_learners": "2"}
    client.force_login(support_user)
    page = _body(client.get(url))
    assert "2 of 2 seats used" in page and 'value="2"' in page  # the limit seen, hidden
    preview = _body(client.post(url, {**form, "preview": "1"}))
    assert "You do not have the permission to apply this." in preview
    assert 'id="apply-button"' not in preview
    assert client.post(url, {**form, "apply": "1"}).status_code == 403

    client.force_login(lead_user)
    preview = _body(client.post(url, {**form, "preview": "1"}))
    assert "Dry run" in preview and 'id="apply-button"' in preview
    applied = _body(client.post(url, {**form, "apply": "1"}))
    assert "Done: changes applied." in applied
    assert Contract.objects.get().max_learners == 5
    twice = _body(client.post(url, {**form, "apply": "1"}))  # a double submit adds nothing
    assert "Nothing needed changing." in twice
    assert Contract.objects.get().max_learners == 5
    row = SupportAction.objects.get(action="add_contract_seats", outcome="changed", dry_run=False)
    assert row.inputs["reason"] == "Order 77" and row.actor == lead_user


def test_add_seats_page_needs_a_reason(client, lead_user, full):
    client.force_login(lead_user)
    url = reverse("support:add-contract-seats", kwargs={"contract_id": full.pk})
    body = _body(client.post(url, {"seats": "3", "reason": "", "apply": "1"}))
    assert "This field is required." in body
    assert Contract.objects.get().max_learners == 2
    assert (
        client.get(reverse("support:add-contract-seats", kwargs={"contract_id": 999})).status_code
        == 404
    )


def test_add_seats_page_beyond_the_column_says_so(client, lead_user, full):
    # Issue 11: a 500 from PostgreSQL's integer overflow.
    client.force_login(lead_user)
    url = reverse("support:add-contract-seats", kwargs={"contract_id": full.pk})
    form = {"seats": "2147483648", "reason": "Order 77", "expected_max_learners": "2"}
    body = _body(client.post(url, {**form, "apply": "1"}))
    message = SEATS_ABOVE_LIMIT.format(
        seats=2147483648, contract=full, after=2147483650, maximum=SEATS_LIMIT_MAX
    )
    assert message in body
    assert Contract.objects.get().max_learners == 2


def test_add_seats_page_refuses_an_invisible_reason(client, lead_user, full):
    client.force_login(lead_user)
    url = reverse("support:add-contract-seats", kwargs={"contract_id": full.pk})
    body = _body(client.post(url, {"seats": "1", "reason": "\u200b", "apply": "1"}))
    assert "Give a reason for adding seats" in body
    assert Contract.objects.get().max_learners == 2


# --- what the pages say after issue 10 -----------------------------------------------------------


def test_add_seats_outcome_shows_the_new_limit(client, lead_user, full):
    url = reverse("support:add-contract-seats", kwargs={"contract_id": full.pk})
    client.force_login(lead_user)
    form = {"seats": "3", "reason": "Order 77", "expected_max_learners": "2", "apply": "1"}
    applied = _body(client.post(url, form))
    assert "2 of 5 seats used" in applied and "2 of 2 seats used" not in applied
    assert "Expected max learners" not in applied  # no label for the hidden limit


def test_a_suggestion_keeps_the_user_and_the_moment(client, support_user, code):
    UserFactory(username="lea")
    client.force_login(support_user)
    url = reverse("support:diagnose-code")
    swapped = CODE[:3] + CODE[4] + CODE[3] + CODE[5:]
    body = _body(client.get(url, {"code": swapped, "user": "lea", "at": "2026-12-01"}))
    assert f'href="{url}?code={CODE}&amp;user=lea&amp;at=2026-12-01"' in body


def test_a_dry_run_that_changes_nothing_offers_no_apply(client, support_user, code):
    client.force_login(support_user)
    preview = _body(client.get(reverse("support:sync-code-dates"), {"code": CODE}))
    assert "Nothing would change" in preview and 'id="apply-button"' not in preview


def test_the_contract_page_offers_add_seats_to_leads_only(client, support_user, lead_user, full):
    page = reverse("admin:orgs_contract_change", args=[full.pk])
    seats = reverse("support:add-contract-seats", kwargs={"contract_id": full.pk})
    client.force_login(support_user)
    body = _body(client.get(page))
    assert seats not in body and 'id="sync-dates-link"' in body
    client.force_login(lead_user)
    assert seats in _body(client.get(page))
