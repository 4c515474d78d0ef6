"""diagnose_code: every applicable problem, the `at` parameter, the active-flag rule, input."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.selectors import USER_NOT_FOUND
from orgs.codes import AT_INVALID, CODE_EMPTY, diagnose_code
from orgs.models import EnrollmentCode
from support_tools.actors import Actor
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.factories import UserFactory
from tests.orgs.codes.factories import CODE, DAY, fill, redeem, valid_code

pytestmark = pytest.mark.django_db


def codes(result):
    return {p.code for p in result.problems}


def problem(result, code):
    return next(p for p in result.problems if p.code == code)


def test_a_good_code_passes_and_says_what_support_needs(code, system_actor):
    code.contract.max_learners = 10
    code.contract.save()
    fill(code.contract, 3)

    result = diagnose_code(code_text=CODE, actor=system_actor)

    assert result.ok and result.problems == ()
    data = result.as_dict()
    assert data["ok"] is True and data["problems"] == [] and data["suggestions"] == []
    assert data["code"] == CODE and data["found"] is True
    assert data["contract"]["id"] == code.contract_id and data["contract"]["name"] == "Spring"
    assert data["organization"]["short_name"] == "acme"
    assert (data["seats_used"], data["seats_total"], data["redemptions"]) == (3, 10, 0)
    assert data["redemption_type"] == "one-time"


def test_malformed_code(db, system_actor):
    result = diagnose_code(code_text="hello there", actor=system_actor)
    assert codes(result) == {"malformed_code"} and not result.ok
    assert result.suggestions == () and result.as_dict()["found"] is False
    assert "'hello there' is not an enrollment code" in result.problems[0].message


def test_code_not_found(code, system_actor):
    result = diagnose_code(code_text="00000000-0000-4000-8000-000000000000", actor=system_actor)
    assert codes(result) == {"code_not_found"} and result.suggestions == ()
    assert result.problems[0].fix is None


def test_code_not_yet_active(code, system_actor):
    code.activation_date = timezone.now() + 2 * DAY
    code.save()
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert codes(result) == {"code_not_yet_active", "code_dates_mismatch"}
    # The contract already runs: aligning the code's dates with it makes the code valid.
    assert problem(result, "code_not_yet_active").fix == "sync_code_dates"


def test_code_expired(code, system_actor):
    code.expiration_date = timezone.now() - DAY
    code.save()
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert codes(result) == {"code_expired", "code_dates_mismatch"}
    expired = problem(result, "code_expired")
    assert expired.fix == "sync_code_dates" and "aligning the code's dates" in expired.message
    mismatch = problem(result, "code_dates_mismatch")
    assert mismatch.severity == "warning" and mismatch.fix == "sync_code_dates"


def test_code_expired_with_its_contract_has_no_fix(code, system_actor):
    later = code.contract.end + DAY
    result = diagnose_code(code_text=CODE, at=later, actor=system_actor)
    assert codes(result) == {"code_expired", "contract_ended"}
    assert all(p.fix is None for p in result.problems)


def test_code_used_names_who_and_when(code, system_actor):
    bob = UserFactory(username="bob", email="bob@example.com")
    redemption = redeem(code, bob, days_ago=5)
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert codes(result) == {"code_used"}
    message = problem(result, "code_used").message
    assert "bob (bob@example.com)" in message
    assert redemption.redeemed_on.strftime("%Y-%m-%d %H:%M UTC") in message
    assert result.as_dict()["redemptions"] == 1


def test_code_used_by_the_user_asked_about_says_so(code, system_actor):
    bob = UserFactory(username="bob")
    redeem(code, bob)
    result = diagnose_code(code_text=CODE, user="bob", actor=system_actor)
    assert codes(result) == {"code_used"}
    assert "the user you asked about" in result.problems[0].message


def test_already_redeemed_by_user(code, system_actor):
    code.redemption_type = EnrollmentCode.RedemptionType.ONE_TIME_PER_USER
    code.save()
    ann = UserFactory(username="ann", email="ann@example.com")
    redeem(code, ann)
    redeem(code)  # someone else: fine for a once-per-user code

    assert codes(diagnose_code(code_text=CODE, user="ANN@example.com", actor=system_actor)) == {
        "already_redeemed_by_user"
    }
    assert diagnose_code(code_text=CODE, user=UserFactory(), actor=system_actor).ok
    assert diagnose_code(code_text=CODE, actor=system_actor).ok  # no user: nothing to check


def test_unlimited_code_is_never_used_up(code, system_actor):
    code.redemption_type = EnrollmentCode.RedemptionType.UNLIMITED
    code.save()
    ann = UserFactory(username="ann")
    redeem(code, ann)
    redeem(code)
    result = diagnose_code(code_text=CODE, user="ann", actor=system_actor)
    assert result.ok and result.as_dict()["redemptions"] == 2


def test_contract_inactive(code, system_actor):
    code.contract.active = False
    code.contract.save()
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert codes(result) == {"contract_inactive"}
    assert "acme: Spring" in result.problems[0].message


def test_contract_not_started(system_actor):
    code = valid_code(CODE, start=timezone.now() + 3 * DAY)
    result = diagnose_code(code_text=CODE, actor=system_actor)
    # The code's window follows its contract's: both say "not yet".
    assert codes(result) == {"contract_not_started", "code_not_yet_active"}
    assert problem(result, "code_not_yet_active").fix is None
    code.activation_date = None
    code.save()
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert codes(result) == {"contract_not_started", "code_dates_mismatch"}


def test_contract_ended(system_actor):
    code = valid_code(CODE, end=timezone.now() - DAY)
    code.expiration_date = None
    code.save()
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert codes(result) == {"contract_ended", "code_dates_mismatch"}


def test_contract_full_gives_seats_and_the_fix(code, system_actor):
    code.contract.max_learners = 2
    code.contract.save()
    fill(code.contract, 2)
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert codes(result) == {"contract_full"}
    full = result.problems[0]
    assert full.fix == "add_contract_seats" and "2 of 2 seats" in full.message
    assert (result.as_dict()["seats_used"], result.as_dict()["seats_total"]) == (2, 2)


@pytest.mark.parametrize("limit", [None, 0])
def test_no_seat_limit_is_never_full(code, system_actor, limit):
    code.contract.max_learners = limit
    code.contract.save()
    fill(code.contract, 3)
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert result.ok and result.as_dict()["seats_total"] is None


def test_organization_inactive(code, system_actor):
    org = code.contract.organization
    org.active = False
    org.save()
    assert codes(diagnose_code(code_text=CODE, actor=system_actor)) == {"organization_inactive"}


def test_code_dates_mismatch_alone_is_a_warning(code, system_actor):
    code.expiration_date = code.contract.end + 10 * DAY
    code.save()
    result = diagnose_code(code_text=CODE, actor=system_actor)
    assert codes(result) == {"code_dates_mismatch"}
    assert result.ok and result.as_dict()["ok"] is True
    assert result.problems[0].as_dict()["severity"] == "warning"


def test_every_problem_at_once(code, system_actor):
    contract = code.contract
    contract.active = False
    contract.max_learners = 1
    contract.save()
    fill(contract, 1)
    org = contract.organization
    org.active = False
    org.save()
    code.expiration_date = timezone.now() - 2 * DAY
    code.save()
    redeem(code)
    at = contract.end + DAY

    result = diagnose_code(code_text=CODE, at=at, actor=system_actor)

    assert codes(result) == {
        "code_expired",
        "code_used",
        "contract_inactive",
        "contract_ended",
        "contract_full",
        "organization_inactive",
        "code_dates_mismatch",
    }
    assert [p.code for p in result.problems][0] == "code_expired"  # a stable order


def test_at_moves_the_verdict(code, system_actor):
    contract = code.contract
    before = contract.start - DAY
    inside = contract.start + DAY
    after = contract.end + DAY
    assert codes(diagnose_code(code_text=CODE, at=before, actor=system_actor)) == {
        "code_not_yet_active",
        "contract_not_started",
    }
    assert diagnose_code(code_text=CODE, at=inside, actor=system_actor).ok
    assert codes(diagnose_code(code_text=CODE, at=after, actor=system_actor)) == {
        "code_expired",
        "contract_ended",
    }
    # The end is exclusive, and an ISO 8601 string is accepted.
    at_end = diagnose_code(code_text=CODE, at=contract.end.isoformat(), actor=system_actor)
    assert "contract_ended" in codes(at_end)
    assert at_end.as_dict()["at"] == contract.end.isoformat()


def test_at_accepts_a_date_and_a_naive_datetime_as_utc(code, system_actor):
    day = (code.contract.end + 2 * DAY).date().isoformat()
    result = diagnose_code(code_text=CODE, at=day, actor=system_actor)
    assert result.at == dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
    naive = diagnose_code(code_text=CODE, at="2020-01-02 03:04:05", actor=system_actor)
    assert naive.at == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize("bad", ["yesterday", "2025-13-01", "2025-02-30T10:00"])
def test_bad_at_is_refused(code, system_actor, bad):
    with pytest.raises(SupportError) as caught:
        diagnose_code(code_text=CODE, at=bad, actor=system_actor)
    assert caught.value.message == AT_INVALID.format(value=bad)


class TestActiveFlag:
    """The flag switches a contract off inside its dates; it never extends it beyond them."""

    def test_flag_on_does_not_extend_an_ended_contract(self, system_actor):
        valid_code(CODE, end=timezone.now() - DAY)
        result = diagnose_code(code_text=CODE, actor=system_actor)
        assert {"contract_ended", "code_expired"} == codes(result)

    def test_flag_off_inside_the_dates(self, code, system_actor):
        code.contract.active = False
        code.contract.save()
        assert codes(diagnose_code(code_text=CODE, actor=system_actor)) == {"contract_inactive"}

    def test_flag_off_and_dates_both_reported(self, system_actor):
        valid_code(CODE, start=timezone.now() + DAY, active=False)
        result = diagnose_code(code_text=CODE, actor=system_actor)
        assert {"contract_inactive", "contract_not_started"} <= codes(result)

    def test_no_dates_means_always_running(self, system_actor):
        code = valid_code(CODE, start=None, end=None)
        assert (code.activation_date, code.expiration_date) == (None, None)
        far = timezone.now() + 4000 * DAY
        assert diagnose_code(code_text=CODE, at=far, actor=system_actor).ok


@pytest.mark.parametrize(
    "pasted",
    [
        CODE,
        f"  {CODE.upper()}  ",
        f'"{CODE}"',
        f"'{CODE}'",
        f"“{CODE}”",
        f"<https://learn.example.com/enrollmentcode/{CODE}>",
        f"https://learn.example.com/enrollmentcode/{CODE}",
        f"https://learn.example.com/enrollmentcode/{CODE}/",
        f"https://learn.example.com/enrollmentcode/{CODE}?utm_source=mail&x=1",
        f"https://learn.example.com/enrollmentcode/{CODE}/?next=/dashboard#top",
        f"learn.example.com/ENROLLMENTCODE/{CODE.upper()}",
        f"/enrollmentcode/{CODE}",
        CODE.replace("-", ""),
        "{" + CODE + "}",
        f"urn:uuid:{CODE}",
        f"{CODE[:18]}\n{CODE[18:]}",  # wrapped by an e-mail client
        f" '{CODE}'. ",
        CODE.replace("-", " - "),
    ],
)
def test_messy_input_and_links_find_the_code(code, system_actor, pasted):
    result = diagnose_code(code_text=pasted, actor=system_actor)
    assert result.ok and result.code == CODE and result.as_dict()["found"]
    assert result.as_dict()["input"] == pasted


def test_a_link_to_a_malformed_code_reports_the_code_part(db, system_actor):
    result = diagnose_code(
        code_text="https://learn.example.com/enrollmentcode/not-a-code/?a=b", actor=system_actor
    )
    assert codes(result) == {"malformed_code"} and result.code == "not-a-code"


@pytest.mark.parametrize(
    ("pasted", "shown"),
    [
        ("https://learn.example.com/enrollmentcode/%00", "\\x00"),  # issue 11
        (CODE + "\x00", CODE + "\\x00"),
        ("\ud800" + CODE, "\\ud800" + CODE),
    ],
)
def test_control_characters_are_a_malformed_code_and_stay_out_of_the_database(
    code, system_actor, pasted, shown
):
    result = diagnose_code(code_text=pasted, actor=system_actor)
    assert codes(result) == {"malformed_code"} and result.code == shown
    assert "\x00" not in result.as_dict()["input"]
    row = SupportAction.objects.get()  # the audit row could be stored
    assert row.outcome == "problems" and row.result["code"] == shown
    assert row.inputs["code"] == result.as_dict()["input"]


def test_invisible_characters_around_a_pasted_code_are_ignored(code, system_actor):
    result = diagnose_code(code_text=f"\u200b{CODE}\ufeff", actor=system_actor)
    assert result.ok and result.code == CODE


@pytest.mark.parametrize("empty", ["", "   ", '""', "https://learn.example.com/"])
def test_empty_input_is_refused(db, system_actor, empty):
    with pytest.raises(SupportError) as caught:
        diagnose_code(code_text=empty, actor=system_actor)
    assert caught.value.message == CODE_EMPTY


def test_unknown_user_is_refused(code, system_actor):
    with pytest.raises(SupportError) as caught:
        diagnose_code(code_text=CODE, user="zed", actor=system_actor)
    assert caught.value.kind == ErrorKind.NOT_FOUND
    assert caught.value.message == USER_NOT_FOUND.format(identifier="zed")


def test_writes_only_its_audit_row(code, support_actor, django_assert_max_num_queries):
    redeem(code, UserFactory(username="bob"), days_ago=9)
    fill(code.contract, 5)
    for _ in range(5):
        redeem(code)
    # Permissions (2), savepoints (4), the audit row (1), the reads (7): whatever the data size.
    with django_assert_max_num_queries(14):
        result = diagnose_code(code_text=CODE, user="bob", actor=support_actor)
    row = SupportAction.objects.get()
    assert row.action == "diagnose_code" and row.outcome == "problems" and not row.dry_run
    assert row.actor == support_actor.user and row.subject_user.username == "bob"
    assert row.target_type == "orgs.EnrollmentCode" and row.target_id == str(code.pk)
    assert row.inputs == {"code": CODE, "user": "bob", "at": None}
    assert row.result["problems"][0]["code"] == "code_used" and row.changes == []
    assert "bob" in row.result["problems"][0]["message"]  # the first to redeem it
    assert result.as_dict()["problems"] == row.result["problems"]


def test_ok_outcome_is_recorded(code, system_actor):
    diagnose_code(code_text=CODE, actor=system_actor)
    assert SupportAction.objects.get().outcome == "ok"


def test_view_permission_is_enough_and_needed(code, viewer_user):
    assert diagnose_code(code_text=CODE, actor=Actor.for_user(viewer_user, door="api")).ok
    nobody = UserFactory(username="nobody", is_staff=True)
    with pytest.raises(SupportError) as caught:
        diagnose_code(code_text=CODE, actor=Actor.for_user(nobody, door="api"))
    assert caught.value.message == PERMISSION_DENIED.format(action="diagnose_code")
    refused = SupportAction.objects.get(actor=nobody)
    assert refused.outcome == "failed" and refused.error == caught.value.message
