"""The org-membership playbook's commands: diagnose_org_membership, repair_org_membership."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orgs.management.commands.repair_org_membership import FIXES_FAILED
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
def test_repair_command_exits_1_after_printing_a_partial_failure(kc, settings, capsys):
    settings.KEYCLOAK_CLIENT_ID, settings.KEYCLOAK_CLIENT_SECRET = kc.service_client(
        ["view-users", "manage-realm"]
    )
    kc_org = kc.org()
    org = OrganizationFactory(
        short_name=kc_org.alias, sso_organization_id=kc_org.id, email_domains=[kc_org.domain]
    )
    email = f"partial.{kc.tag}@{kc_org.domain}"
    UserFactory(username=f"partial-{kc.tag}", email=email)
    kc.sign_in(kc.user(email, password=True))

    with pytest.raises(SystemExit) as exit_:
        call_command("repair_org_membership", "--user", email, "--org", org.short_name, "--json")

    assert exit_.value.code == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["failed_fixes"] == ["end_sessions"] and len(out["keycloak_calls"]) == 1
    assert captured.err.strip() == FIXES_FAILED.format(fixes="end_sessions")
