"""The org-membership playbook's commands: diagnose_org_membership, repair_org_membership."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command, load_command_class

from orgs.membership import REPAIR_STOPPED
from orgs.models import UserOrganizationMapping
from support_tools.models import SupportAction
from tests.factories import ContractFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(no_keycloak):
    org = OrganizationFactory(short_name="local", name="Local College", email_domains=["local.edu"])
    ContractFactory(organization=org, membership_type="managed", name="Managed")
    return org


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", email="ann@local.edu")


def run_command(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_diagnose_command_json(org, ann):
    out = json.loads(
        run_command(
            "diagnose_org_membership", "--user", "ANN@local.edu", "--org", "LOCAL", "--json"
        )
    )

    assert out["ok"] is False and out["user"] == "ann" and out["organization"] == "local"
    assert [p["code"] for p in out["problems"]] == [
        "local_membership_missing",
        "contract_membership_missing",
    ]
    assert set(out["problems"][0]) == {"code", "severity", "message", "fix"}
    assert SupportAction.objects.get().door == "command"


def test_diagnose_command_text(org, ann):
    text = run_command("diagnose_org_membership", "--user", "ann", "--org", "local")
    assert "Problems found:" in text and "x local_membership_missing:" in text
    assert "[fix: create_local_membership]" in text


def test_repair_command_dry_run_then_real_then_again(org, ann):
    dry = json.loads(
        run_command(
            "repair_org_membership", "--user", "ann", "--org", "local", "--dry-run", "--json"
        )
    )
    assert dry["changed"] is True and dry["dry_run"] is True
    assert not UserOrganizationMapping.objects.exists()

    real = json.loads(
        run_command(
            "repair_org_membership",
            "--user",
            "ann",
            "--org",
            "local",
            "--fix",
            "create_local_membership",
            "--fix",
            "add_contract_memberships",
            "--json",
        )
    )
    assert [(r["fix"], r["status"]) for r in real["results"]] == [
        ("create_local_membership", "done"),
        ("add_contract_memberships", "done"),
    ]
    assert real["failed_fixes"] == [] and real["keycloak_calls"] == []
    again = json.loads(
        run_command("repair_org_membership", "--user", "ann", "--org", "local", "--json")
    )
    assert again["changed"] is False


def test_command_errors_are_one_line(org):
    with pytest.raises(CommandError, match="No user has the email address or username 'zed'"):
        run_command("repair_org_membership", "--user", "zed", "--org", "local", "--json")
    with pytest.raises(CommandError, match="invalid choice: 'reboot'"):
        run_command("repair_org_membership", "--user", "zed", "--org", "local", "--fix", "reboot")


@pytest.mark.keycloak
@pytest.mark.django_db(transaction=True)  # run_from_argv closes the database connections
def test_repair_command_exits_1_with_one_line_when_keycloak_stops_it_part_way(
    stopped_part_way, capsys
):
    kc_org, org, learner = stopped_part_way
    command = load_command_class("orgs", "repair_org_membership")

    with pytest.raises(SystemExit) as exit_:
        command.run_from_argv(
            ["manage.py", "repair_org_membership", "--user", learner.email, "--org", org.short_name]
            + ["--json"]
        )

    assert exit_.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("CommandError: " + REPAIR_STOPPED.split("{")[0] + "end_sessions")
    row = SupportAction.objects.get(action="repair_org_membership")
    assert row.door == "command" and row.outcome == "failed"
    assert row.result["failed_fixes"] == ["end_sessions"] and len(row.result["keycloak_calls"]) == 1
    assert [c["external"] for c in row.changes] == row.result["keycloak_calls"]
