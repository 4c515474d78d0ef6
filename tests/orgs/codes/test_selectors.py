"""The playbook's reads: finding a contract or a code from what was typed, and code states."""

import pytest
from django.utils import timezone

from orgs.codes import (
    CODE_NOT_FOUND,
    CONTRACT_ID_OUT_OF_RANGE,
    CONTRACT_NOT_FOUND,
    code_state,
    codes_with_state,
    resolve_code,
    resolve_contract,
)
from orgs.codes.selectors import ID_MAX
from orgs.models import EnrollmentCode
from support_tools.errors import ErrorKind, SupportError
from tests.factories import EnrollmentCodeFactory
from tests.orgs.codes.factories import CODE, DAY, fill, redeem

pytestmark = pytest.mark.django_db

# --- resolve_contract ---------------------------------------------------------------------------


def test_a_contract_by_id_text_or_number_or_itself(code):
    contract = code.contract
    for given in (contract.pk, str(contract.pk), f" {contract.pk} ", f"00{contract.pk}"):
        assert resolve_contract(given) == contract
    assert resolve_contract("ACME: spring") == contract
    assert resolve_contract(contract) is contract


@pytest.mark.parametrize("text", ["²", "¹²", "٣", "１", "-1", "1.0", "1e3", "0x1"])
def test_text_that_only_looks_like_an_id_is_not_found(code, text, django_assert_num_queries):
    # "²".isdigit() is true and int("²") fails: issue 11's 500.
    with django_assert_num_queries(0), pytest.raises(SupportError) as caught:
        resolve_contract(text)
    assert caught.value.kind == ErrorKind.NOT_FOUND
    assert caught.value.message == CONTRACT_NOT_FOUND.format(identifier=text)


@pytest.mark.parametrize("number", [ID_MAX + 1, 2**64, 10**40])
def test_an_id_beyond_a_64_bit_integer_is_refused(db, number, django_assert_num_queries):
    for given in (number, str(number)):
        with django_assert_num_queries(0), pytest.raises(SupportError) as caught:
            resolve_contract(given)
        assert caught.value.kind == ErrorKind.BAD_INPUT
        assert caught.value.message == CONTRACT_ID_OUT_OF_RANGE.format(
            identifier=str(number), maximum=ID_MAX
        )


def test_an_id_of_thousands_of_digits_is_refused(db):
    with pytest.raises(SupportError) as caught:
        resolve_contract("9" * 5_000)  # more digits than int() converts
    assert caught.value.kind == ErrorKind.BAD_INPUT


def test_the_largest_id_is_looked_up(db):
    assert ID_MAX == 2**63 - 1
    with pytest.raises(SupportError) as caught:
        resolve_contract(str(ID_MAX))
    assert caught.value.kind == ErrorKind.NOT_FOUND


@pytest.mark.parametrize("text", ["acme\x00:Spring", "acme:Spr\x00ing", "1\x00", "\ud800:x"])
def test_control_characters_never_reach_the_database(code, text, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(SupportError) as caught:
        resolve_contract(text)
    assert caught.value.kind == ErrorKind.NOT_FOUND
    assert "\x00" not in caught.value.message


# --- resolve_code -------------------------------------------------------------------------------


def test_a_code_as_pasted(code):
    assert resolve_code(f"https://x.example/enrollmentcode/{CODE.upper()}/") == code
    assert resolve_code(code) is code


@pytest.mark.parametrize(
    ("pasted", "shown"),
    [
        ("https://learn.example.com/enrollmentcode/%00", "\\x00"),
        (CODE + "\x00", CODE + "\\x00"),
        ("not-a-code", "not-a-code"),
    ],
)
def test_a_malformed_code_is_not_found_without_a_query(
    code, pasted, shown, django_assert_num_queries
):
    with django_assert_num_queries(0), pytest.raises(SupportError) as caught:
        resolve_code(pasted)
    assert caught.value.kind == ErrorKind.NOT_FOUND
    assert caught.value.message == CODE_NOT_FOUND.format(code=shown)


# --- code states (issue 10: "valid" while the contract refuses every code) ----------------------


def state(code, *, redemptions=0, at=None):
    code = EnrollmentCode.objects.select_related("contract__organization").get(pk=code.pk)
    seats = code.contract.learners.count()
    return code_state(code, redemptions=redemptions, seats_used=seats, at=at or timezone.now())


def test_a_redeemable_code_is_valid(code):
    assert state(code) == "valid"


def test_its_own_state_comes_first(code):
    code.contract.active = False
    code.contract.save()
    assert state(code, redemptions=1) == "used"
    assert state(code, at=code.activation_date - DAY) == "not yet active"
    assert state(code, at=code.expiration_date) == "expired"


def test_a_paused_contract(code):
    code.contract.active = False
    code.contract.save()
    assert state(code) == "contract inactive"


def test_a_full_contract(code):
    code.contract.max_learners = 2
    code.contract.save()
    fill(code.contract, 2)
    assert state(code) == "contract full"


def test_contract_dates_and_organization(code):
    contract = code.contract
    code.activation_date = code.expiration_date = None  # the code's own window is open
    code.save()
    assert state(code, at=contract.start - DAY) == "contract not started"
    assert state(code, at=contract.end) == "contract ended"
    contract.organization.active = False
    contract.organization.save()
    assert state(code) == "organization inactive"


def test_codes_with_state_of_a_full_contract(code):
    contract = code.contract
    contract.max_learners = 1
    contract.save()
    fill(contract, 1)
    used = EnrollmentCodeFactory(contract=contract)
    redeem(used)
    rows = codes_with_state(contract, limit=10, at=timezone.now())
    assert [(c.code, n, s) for c, n, s in rows] == [
        (code.code, 0, "contract full"),
        (used.code, 1, "used"),
    ]
