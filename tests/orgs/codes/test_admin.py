"""The enrollment-code model admins: code search, states, seats and the links to the pages."""

import pytest
from django.urls import reverse

from tests.factories import EnrollmentCodeFactory, UserFactory
from tests.orgs.codes.factories import CODE, DAY, redeem

pytestmark = pytest.mark.django_db


def _body(response):
    assert response.status_code == 200
    return response.content.decode()


# --- model admins ------------------------------------------------------------------------------


def test_code_changelist_links_to_the_diagnosis_and_finds_a_pasted_link(client, support_user, code):
    other = EnrollmentCodeFactory()
    client.force_login(support_user)
    url = reverse("admin:orgs_enrollmentcode_changelist")
    body = _body(client.get(url))
    assert reverse("support:diagnose-code") in body and "Diagnose enrollment code" in body
    found = _body(client.get(url, {"q": f"https://x.example/enrollmentcode/{CODE.upper()}/"}))
    assert CODE in found and other.code not in found
    by_contract = _body(client.get(url, {"q": "Spring"}))
    assert CODE in by_contract and other.code not in by_contract


def test_code_change_page_offers_the_diagnosis_of_this_code(client, support_user, code):
    redeem(code, UserFactory(username="bob", email="bob@example.com"))
    client.force_login(support_user)
    body = _body(client.get(reverse("admin:orgs_enrollmentcode_change", args=[code.pk])))
    assert f"{reverse('support:diagnose-code')}?code={CODE}" in body
    assert "bob (bob@example.com)" in body


def test_contract_page_shows_seats_and_codes_with_their_state(client, support_user, full, code):
    expired = EnrollmentCodeFactory(contract=full, expiration_date=full.start + DAY)
    used = EnrollmentCodeFactory(contract=full)
    redeem(used)
    client.force_login(support_user)
    listing = _body(client.get(reverse("admin:orgs_contract_changelist")))
    assert "2 / 2" in listing
    body = _body(client.get(reverse("admin:orgs_contract_change", args=[full.pk])))
    assert "2 / 2" in body and 'id="contract-codes"' not in body  # attributes in single quotes
    assert "id='contract-codes'" in body
    # The contract is full: its redeemable codes say so (issue 10), not "valid".
    for item, state in ((code, "contract full"), (expired, "expired"), (used, "used")):
        row = body.split(f"<code>{item.code}</code>", 1)[1].split("</tr>", 1)[0]
        assert f"<td class='code-state'>{state}</td>" in row
    # Adding seats is for the leads: support is not offered the button (issue 10).
    assert reverse("support:add-contract-seats", kwargs={"contract_id": full.pk}) not in body
    assert "All 3 codes of this contract" in body


def test_redemption_changelist_searches_by_code(client, support_user, code):
    redeem(code, UserFactory(username="bob"))
    redeem(EnrollmentCodeFactory(), UserFactory(username="eve"))
    client.force_login(support_user)
    body = _body(client.get(reverse("admin:orgs_coderedemption_changelist"), {"q": CODE}))
    assert "bob" in body and "eve" not in body


def test_code_changelist_state_says_when_the_contract_refuses_codes(client, support_user, full):
    # Issue 10: the list said "State: valid" for codes of a paused or full contract.
    paused = EnrollmentCodeFactory(contract__active=False)
    client.force_login(support_user)
    body = _body(client.get(reverse("admin:orgs_enrollmentcode_changelist")))
    assert _state_cell(body, CODE) == "contract full"
    assert _state_cell(body, paused.code) == "contract inactive"


def test_code_changelist_state_costs_no_query_per_row(
    client, support_user, full, django_assert_max_num_queries
):
    client.force_login(support_user)
    url = reverse("admin:orgs_enrollmentcode_changelist")
    client.get(url)  # warm the session and permission caches alike
    with django_assert_max_num_queries(20) as few:
        _body(client.get(url))
    EnrollmentCodeFactory.create_batch(10, contract=full)
    with django_assert_max_num_queries(len(few.captured_queries)):
        _body(client.get(url))


def test_search_with_control_characters_finds_nothing_and_never_fails(client, support_user, code):
    client.force_login(support_user)
    for url in (
        reverse("admin:orgs_enrollmentcode_changelist"),
        reverse("admin:orgs_coderedemption_changelist"),
        reverse("admin:orgs_contract_changelist"),
    ):
        body = _body(client.get(url, {"q": "https://x.example/enrollmentcode/%00"}))
        assert CODE not in body.split('id="result_list"', 1)[-1]
        _body(client.get(url, {"q": "Spr\x00ing"}))


def _state_cell(body, code_text):
    row = body.split(f">{code_text}</a>", 1)[1].split("</tr>", 1)[0]
    return row.rsplit('<td class="field-state">', 1)[1].split("</td>", 1)[0]
