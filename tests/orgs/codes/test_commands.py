"""The enrollment-code commands: parsing, JSON and text output, one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError
from django.db import connection

from orgs.codes import AT_INVALID, CONTRACT_NOT_FOUND
from orgs.codes.repairs import REASON_REQUIRED, SEATS_ABOVE_LIMIT, SEATS_LIMIT_MAX
from orgs.models import Contract
from support_tools.models import SupportAction
from tests.factories import UserFactory
from tests.orgs.codes.factories import CODE, DAY, redeem, run_command

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


# --- commands ----------------------------------------------------------------------------------


def test_diagnose_command_json(code):
    redeem(code, UserFactory(username="bob"))
    link = f"https://learn.example.com/enrollmentcode/{CODE}/?x=1"
    out = json.loads(run_command("diagnose_code", link, "--user", "bob", "--json"))
    assert out["ok"] is False and out["code"] == CODE and out["suggestions"] == []
    assert [p["code"] for p in out["problems"]] == ["code_used"]
    assert set(out["problems"][0]) == {"code", "severity", "message", "fix"}
    assert SupportAction.objects.get().door == "command"


def test_diagnose_command_at_and_suggestions(code):
    at = (code.contract.end + DAY).isoformat()
    out = json.loads(run_command("diagnose_code", CODE, "--at", at, "--json"))
    assert {p["code"] for p in out["problems"]} == {"code_expired", "contract_ended"}
    typo = json.loads(run_command("diagnose_code", CODE[:-1], "--json"))
    assert typo["suggestions"] == [CODE] and typo["problems"][0]["code"] == "malformed_code"


def test_diagnose_command_text_output(full):
    text = run_command("diagnose_code", CODE)
    assert "Problems found:" in text
    assert "x contract_full: " in text and "[fix: add_contract_seats]" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "tomorrow"], AT_INVALID.format(value="tomorrow")),
        (["--user", "zed"], "No user has the email address or username 'zed'."),
    ],
)
def test_diagnose_command_bad_input_is_one_error(code, args, message):
    with pytest.raises(CommandError) as caught:
        run_command("diagnose_code", CODE, "--json", *args)
    assert str(caught.value) == message


def test_sync_command_dry_run_then_real_then_nothing(drifted):
    contract_id = str(drifted.contract_id)
    dry = json.loads(
        run_command("sync_code_dates", "--contract", contract_id, "--dry-run", "--json")
    )
    assert dry["changed"] is True and dry["dry_run"] is True and dry["codes_updated"] == 1
    drifted.refresh_from_db()
    assert drifted.expiration_date != drifted.contract.end
    real = json.loads(run_command("sync_code_dates", "--code", CODE, "--json"))
    assert real["changed"] is True and real["results"][0]["code"] == CODE
    again = json.loads(run_command("sync_code_dates", "--contract", "acme:Spring", "--json"))
    assert again == {**again, "changed": False, "dry_run": False, "codes_updated": 0}


def test_add_seats_command(full):
    args = ["add_contract_seats", str(full.pk), "--seats", "3", "--reason", "Order 9", "--json"]
    out = json.loads(run_command(*args, "--from", "2"))
    assert out["changed"] is True and out["max_learners_after"] == 5
    assert json.loads(run_command(*args, "--from", "2"))["changed"] is False
    assert Contract.objects.get().max_learners == 5
    text = run_command("add_contract_seats", str(full.pk), "--seats", "1", "--reason", "x")
    assert "Changes applied." in text


def test_add_seats_command_refuses_a_blank_reason(full):
    with pytest.raises(CommandError) as caught:
        run_command("add_contract_seats", str(full.pk), "--seats", "3", "--reason", " ")
    assert str(caught.value) == REASON_REQUIRED


def test_add_seats_command_refuses_seats_beyond_the_column(full):
    # Issue 11: --seats 2147483648 ended in a traceback on PostgreSQL.
    args = ["add_contract_seats", str(full.pk), "--seats", "2147483648", "--reason", "x", "--json"]
    with pytest.raises(CommandError) as caught:
        run_command(*args)
    assert str(caught.value) == SEATS_ABOVE_LIMIT.format(
        seats=2147483648, contract=full, after=2147483650, maximum=SEATS_LIMIT_MAX
    )
    assert Contract.objects.get().max_learners == 2


def test_sync_command_with_an_id_that_only_looks_like_one(code):
    with pytest.raises(CommandError) as caught:
        run_command("sync_code_dates", "--contract", "²", "--json")
    assert str(caught.value) == CONTRACT_NOT_FOUND.format(identifier="²")


@pytest.mark.django_db(transaction=True)
def test_command_processes_print_one_line_and_exit_non_zero(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the subprocess uses its own SQLite file")
    env = {
        **os.environ,
        "SUPPORT_TOOLS_INSECURE_DEV": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    def run(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )

    bad_at = run("diagnose_code", CODE, "--at", "soon", "--json")
    assert bad_at.returncode == 1 and bad_at.stdout == ""
    assert bad_at.stderr.strip().splitlines() == [
        f"CommandError: {AT_INVALID.format(value='soon')}"
    ]
    found_nothing = run("diagnose_code", "hello", "--json")
    assert found_nothing.returncode == 0 and found_nothing.stderr == ""
    assert json.loads(found_nothing.stdout)["problems"][0]["code"] == "malformed_code"
    no_reason = run("add_contract_seats", "1", "--seats", "2", "--json")
    assert no_reason.returncode == 2 and len(no_reason.stderr.strip().splitlines()) == 1
    assert "--reason" in no_reason.stderr
    both = run("sync_code_dates", "--code", CODE, "--contract", "1")
    assert both.returncode == 2 and len(both.stderr.strip().splitlines()) == 1
