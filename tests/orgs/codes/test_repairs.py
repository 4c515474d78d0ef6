"""sync_code_dates and add_contract_seats: changes, idempotency, dry run, permissions, audit."""

import pytest
from django.utils import timezone

from orgs.codes import add_contract_seats, diagnose_code, sync_code_dates
from orgs.codes.repairs import (
    CONTRACT_UNLIMITED,
    REASON_REQUIRED,
    SEATS_ABOVE_LIMIT,
    SEATS_CHANGED_MEANWHILE,
    SEATS_INVALID,
    SEATS_LIMIT_MAX,
    SYNC_TARGET_REQUIRED,
)
from orgs.codes.selectors import CODE_NOT_FOUND, CONTRACT_NAME_AMBIGUOUS, CONTRACT_NOT_FOUND
from orgs.models import Contract, EnrollmentCode
from support_tools.actors import Actor
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.factories import ContractFactory, EnrollmentCodeFactory, OrganizationFactory
from tests.orgs.codes.factories import CODE, DAY, fill, valid_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract():
    return ContractFactory(organization=OrganizationFactory(short_name="acme"), name="Spring")


def _window(code):
    code.refresh_from_db()
    return code.activation_date, code.expiration_date


# --- sync_code_dates ----------------------------------------------------------------------------


def test_sync_one_code_then_nothing_left_to_do(system_actor):
    code = valid_code(CODE)
    contract = code.contract
    old_end = code.expiration_date
    contract.end = contract.end + 30 * DAY  # the contract was extended, its code was not
    contract.save()

    result = sync_code_dates(
        code=f"https://x.example/enrollmentcode/{CODE.upper()}/", actor=system_actor
    )

    assert result.changed and result.as_dict()["codes_updated"] == 1
    assert _window(code) == (contract.start, contract.end)
    assert result.as_dict()["results"] == [
        {
            "code": CODE,
            "activation_date_before": contract.start.isoformat(),
            "expiration_date_before": old_end.isoformat(),
        }
    ]
    row = SupportAction.objects.get(action="sync_code_dates")
    assert row.outcome == "changed" and row.target_id == str(code.pk)
    assert row.changes == [
        {
            "object": f"orgs.EnrollmentCode#{code.pk}",
            "field": "expiration_date",
            "before": old_end.isoformat(),
            "after": contract.end.isoformat(),
        }
    ]
    again = sync_code_dates(code=CODE, actor=system_actor)
    assert again.changed is False and again.as_dict()["results"] == []
    assert SupportAction.objects.filter(action="sync_code_dates").first().outcome == "unchanged"
    assert "code_dates_mismatch" not in {
        p.code for p in diagnose_code(code_text=CODE, actor=system_actor).problems
    }


def test_sync_every_code_of_a_contract(contract, system_actor):
    aligned = EnrollmentCodeFactory(contract=contract)
    early = EnrollmentCodeFactory(contract=contract, activation_date=contract.start - 9 * DAY)
    open_ended = EnrollmentCodeFactory(
        contract=contract, activation_date=None, expiration_date=None
    )
    elsewhere = EnrollmentCodeFactory(expiration_date=timezone.now())  # another contract's

    result = sync_code_dates(contract="ACME:spring", actor=system_actor)

    assert result.as_dict()["codes_checked"] == 3 and result.as_dict()["codes_updated"] == 2
    assert {r["code"] for r in result.as_dict()["results"]} == {early.code, open_ended.code}
    for code in (aligned, early, open_ended):
        assert _window(code) == (contract.start, contract.end)
    assert _window(elsewhere)[1] != elsewhere.contract.end
    assert sync_code_dates(contract=str(contract.pk), actor=system_actor).changed is False


def test_sync_to_a_contract_without_dates_clears_the_codes_dates(system_actor):
    contract = ContractFactory(start=None, end=None)
    code = EnrollmentCodeFactory(
        contract=contract, activation_date=timezone.now(), expiration_date=timezone.now()
    )
    assert sync_code_dates(contract=contract, actor=system_actor).changed
    assert _window(code) == (None, None)
    assert sync_code_dates(contract=contract, actor=system_actor).changed is False


def test_sync_dry_run_writes_only_its_audit_row(contract, system_actor):
    code = EnrollmentCodeFactory(contract=contract, expiration_date=None)
    result = sync_code_dates(contract=contract, actor=system_actor, dry_run=True)
    assert result.changed and result.as_dict()["dry_run"] is True
    assert _window(code)[1] is None
    row = SupportAction.objects.get()
    assert row.dry_run and row.outcome == "changed" and len(row.changes) == 1


@pytest.mark.parametrize(
    "kwargs", [{}, {"code": CODE, "contract": "1"}, {"code": ""}, {"contract": ""}]
)
def test_sync_needs_exactly_one_target(system_actor, kwargs):
    with pytest.raises(SupportError) as caught:
        sync_code_dates(actor=system_actor, **kwargs)
    assert caught.value.message == SYNC_TARGET_REQUIRED


def test_sync_unknown_code_or_contract(contract, system_actor):
    with pytest.raises(SupportError) as caught:
        sync_code_dates(code=CODE, actor=system_actor)
    assert caught.value.kind == ErrorKind.NOT_FOUND
    assert caught.value.message == CODE_NOT_FOUND.format(code=CODE)
    for missing in ("999999", "acme:Autumn", "nowhere:Spring", "Spring"):
        with pytest.raises(SupportError) as caught:
            sync_code_dates(contract=missing, actor=system_actor)
        assert caught.value.message == CONTRACT_NOT_FOUND.format(identifier=missing)
    assert SupportAction.objects.filter(outcome="failed").count() == 5


@pytest.mark.parametrize("pasted", ["https://x.example/enrollmentcode/%00", CODE + "\x00"])
def test_sync_a_code_with_control_characters_is_not_found(contract, system_actor, pasted):
    EnrollmentCodeFactory(contract=contract, code=CODE, expiration_date=None)
    with pytest.raises(SupportError) as caught:
        sync_code_dates(code=pasted, actor=system_actor)
    assert caught.value.kind == ErrorKind.NOT_FOUND
    assert "\x00" not in caught.value.message
    assert SupportAction.objects.get().outcome == "failed"
    assert EnrollmentCode.objects.get().expiration_date is None


def test_sync_a_contract_id_that_only_looks_like_one(contract, system_actor):
    with pytest.raises(SupportError) as caught:
        sync_code_dates(contract="²", actor=system_actor)
    assert caught.value.message == CONTRACT_NOT_FOUND.format(identifier="²")


@pytest.mark.parametrize("count", [2, 40])
def test_sync_costs_the_same_queries_for_any_number_of_codes(
    contract, system_actor, count, django_assert_max_num_queries
):
    EnrollmentCodeFactory.create_batch(count, contract=contract, expiration_date=None)
    with django_assert_max_num_queries(12):
        result = sync_code_dates(contract=contract, actor=system_actor)
    assert result.as_dict()["codes_updated"] == count


def test_ambiguous_contract_name(contract, system_actor):
    twin = ContractFactory(organization=contract.organization, name="spring")
    with pytest.raises(SupportError) as caught:
        sync_code_dates(contract="acme:Spring", actor=system_actor)
    assert caught.value.message == CONTRACT_NAME_AMBIGUOUS.format(
        org="acme", name="Spring", ids=f"{contract.pk}, {twin.pk}"
    )


def test_sync_permission(contract, support_user, viewer_user):
    EnrollmentCodeFactory(contract=contract, expiration_date=None)
    with pytest.raises(SupportError) as caught:
        sync_code_dates(contract=contract, actor=Actor.for_user(viewer_user, door="api"))
    assert caught.value.message == PERMISSION_DENIED.format(action="sync_code_dates")
    assert SupportAction.objects.get().outcome == "failed"
    assert EnrollmentCode.objects.get().expiration_date is None
    assert sync_code_dates(
        contract=contract, actor=Actor.for_user(support_user, door="api")
    ).changed


# --- add_contract_seats -------------------------------------------------------------------------


@pytest.fixture
def full(contract):
    contract.max_learners = 3
    contract.save()
    fill(contract, 3)
    return contract


def test_add_seats_keeps_the_reason_and_lifts_contract_full(full, lead_user):
    code = EnrollmentCodeFactory(contract=full, code=CODE)
    actor = Actor.for_user(lead_user, door="admin")
    assert "contract_full" in {
        p.code for p in diagnose_code(code_text=code.code, actor=actor).problems
    }

    result = add_contract_seats(contract="acme:spring", seats=2, reason=" Order 4711 ", actor=actor)

    assert result.as_dict() == {
        "changed": True,
        "dry_run": False,
        "contract": {"id": full.pk, "name": "acme: Spring"},
        "seats_added": 2,
        "max_learners_before": 3,
        "max_learners_after": 5,
        "seats_used": 3,
        "reason": "Order 4711",
    }
    full.refresh_from_db()
    assert full.max_learners == 5
    row = SupportAction.objects.get(action="add_contract_seats")
    assert row.actor == lead_user and row.inputs["reason"] == " Order 4711 "
    assert row.result["reason"] == "Order 4711" and row.target_id == str(full.pk)
    assert row.changes == [
        {"object": f"orgs.Contract#{full.pk}", "field": "max_learners", "before": 3, "after": 5}
    ]
    assert diagnose_code(code_text=code.code, actor=actor).ok


def test_add_seats_twice_with_the_limit_seen_adds_once(full, system_actor):
    kwargs = {"contract": full.pk, "seats": 4, "reason": "Order 1", "expected_max_learners": 3}
    assert add_contract_seats(actor=system_actor, **kwargs).changed
    second = add_contract_seats(actor=system_actor, **kwargs)
    assert second.changed is False and second.seats_added == 0
    assert Contract.objects.get().max_learners == 7
    assert SupportAction.objects.first().outcome == "unchanged"


def test_add_seats_refuses_when_the_limit_moved_meanwhile(full, system_actor):
    with pytest.raises(SupportError) as caught:
        add_contract_seats(
            contract=full, seats=4, reason="r", expected_max_learners=10, actor=system_actor
        )
    assert caught.value.kind == ErrorKind.CONFLICT
    assert caught.value.message == SEATS_CHANGED_MEANWHILE.format(
        contract=full, current=3, expected=10
    )


def test_add_seats_without_the_limit_seen_adds_each_time(full, system_actor):
    add_contract_seats(contract=full, seats=1, reason="r", actor=system_actor)
    add_contract_seats(contract=full, seats=1, reason="r", actor=system_actor)
    assert Contract.objects.get().max_learners == 5


def test_add_seats_dry_run(full, system_actor):
    result = add_contract_seats(
        contract=full, seats=2, reason="r", actor=system_actor, dry_run=True
    )
    assert result.changed and result.max_learners_after == 5
    assert Contract.objects.get().max_learners == 3
    row = SupportAction.objects.get()
    assert row.dry_run and row.inputs["reason"] == "r"


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "   ",
        None,
        # Issue 11: invisible text passed the check.
        "\u200b",
        "\u200b\u200c\u200d\u2060",
        "\ufeff",
        " \u00a0\u3000 ",
        "\u3164",
        "\u2800",
        "\u00ad",
        "\u202e",
        "\n\t",
    ],
)
def test_add_seats_needs_a_reason(full, system_actor, reason):
    with pytest.raises(SupportError) as caught:
        add_contract_seats(contract=full, seats=2, reason=reason, actor=system_actor)
    assert caught.value.message == REASON_REQUIRED
    assert Contract.objects.get().max_learners == 3
    assert SupportAction.objects.get().outcome == "failed"


def test_add_seats_keeps_a_reason_with_invisible_characters_around_words(full, system_actor):
    result = add_contract_seats(
        contract=full, seats=1, reason="\u200bOrder 7\u200b", actor=system_actor
    )
    assert result.changed and result.reason == "\u200bOrder 7\u200b"


@pytest.mark.parametrize(
    ("limit", "seats"),
    [
        (3, 2**31),  # issue 11: --seats 2147483648 overflowed PostgreSQL's integer
        (3, SEATS_LIMIT_MAX - 2),
        (SEATS_LIMIT_MAX - 5, 6),
        (3, 10**30),
    ],
)
def test_add_seats_refuses_a_limit_the_column_cannot_hold(contract, system_actor, limit, seats):
    contract.max_learners = limit
    contract.save()
    with pytest.raises(SupportError) as caught:
        add_contract_seats(contract=contract, seats=seats, reason="r", actor=system_actor)
    assert caught.value.kind == ErrorKind.BAD_INPUT
    assert caught.value.message == SEATS_ABOVE_LIMIT.format(
        seats=seats, contract=contract, after=limit + seats, maximum=SEATS_LIMIT_MAX
    )
    assert Contract.objects.get().max_learners == limit
    assert SupportAction.objects.get().outcome == "failed"


def test_add_seats_up_to_the_largest_limit(contract, system_actor):
    assert SEATS_LIMIT_MAX == 2**31 - 1  # PositiveIntegerField: PostgreSQL's integer
    contract.max_learners = SEATS_LIMIT_MAX - 5
    contract.save()
    add_contract_seats(contract=contract, seats=5, reason="r", actor=system_actor)
    assert Contract.objects.get().max_learners == SEATS_LIMIT_MAX


@pytest.mark.parametrize("seats", [0, -1, True, "3", 1.5])
def test_add_seats_needs_a_positive_whole_number(full, system_actor, seats):
    with pytest.raises(SupportError) as caught:
        add_contract_seats(contract=full, seats=seats, reason="r", actor=system_actor)
    assert caught.value.message == SEATS_INVALID.format(seats=seats)


@pytest.mark.parametrize("limit", [None, 0])
def test_add_seats_to_an_unlimited_contract_is_refused(contract, system_actor, limit):
    contract.max_learners = limit
    contract.save()
    with pytest.raises(SupportError) as caught:
        add_contract_seats(contract=contract, seats=2, reason="r", actor=system_actor)
    assert caught.value.kind == ErrorKind.CONFLICT
    assert caught.value.message == CONTRACT_UNLIMITED.format(contract=contract)


def test_add_seats_needs_its_own_permission(full, support_user, lead_user):
    with pytest.raises(SupportError) as caught:
        add_contract_seats(
            contract=full, seats=2, reason="r", actor=Actor.for_user(support_user, door="api")
        )
    assert caught.value.kind == ErrorKind.PERMISSION
    refused = SupportAction.objects.get()
    assert refused.outcome == "failed" and refused.inputs["reason"] == "r"
    assert Contract.objects.get().max_learners == 3
    add_contract_seats(
        contract=full, seats=2, reason="r", actor=Actor.for_user(lead_user, door="api")
    )
    assert Contract.objects.get().max_learners == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_leads_adding_the_same_seats_at_once_add_them_once():
    import threading

    from django.db import connection

    contract = ContractFactory(max_learners=10)
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            add_contract_seats(
                contract=contract.pk,
                seats=5,
                reason="Order 5",
                expected_max_learners=10,
                actor=Actor.system("race"),
            )
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Contract.objects.get().max_learners == 15
    outcomes = sorted(SupportAction.objects.values_list("outcome", flat=True))
    assert outcomes == ["changed", "unchanged", "unchanged", "unchanged"]
