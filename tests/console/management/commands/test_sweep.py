"""The sweep command: parsing, the contract's JSON on stdout alone, text output, one-line
errors (the service's own behaviour is tested in tests/console/sweeps/)."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from console.sweeps.models import Sweep
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[4]


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("sweep", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def ann(amc_app, settings):
    settings.KEYCLOAK_SERVER_URL = None
    org = OrganizationFactory(short_name="acme")
    user = UserFactory(username="ann")
    UserOrganizationMappingFactory(user=user, organization=org, is_amc_admin=True)
    return user


def test_json_is_the_contracts_object(ann):
    out, _ = run("--playbook", "amc", "codes", "--json")

    data = json.loads(out)
    assert {"findings", "counts", "changed", "dry_run"} <= set(data)
    assert data["sweep"]["playbooks"] == ["amc", "codes"]
    assert data["counts"] == {
        "access_token_missing": 1,
        "amc_account_missing": 1,
        "site_mapping_missing": 1,
    }
    assert set(data["findings"][0]) == {
        "playbook",
        "code",
        "severity",
        "message",
        "fix",
        "user",
        "target",
    }
    assert (data["changed"], data["dry_run"]) == (False, False)


def test_fix_with_dry_run_and_then_for_real(ann):
    preview = json.loads(run("--fix", "access_token_missing", "--dry-run", "--json")[0])
    assert (preview["changed"], preview["dry_run"]) == (True, True)
    assert [f["status"] for f in preview["fixes"]] == ["would_change"]

    done = json.loads(run("--fix", "access_token_missing", "--json")[0])
    again = json.loads(run("--fix", "access_token_missing", "--json")[0])

    assert done["changed"] and [f["status"] for f in done["fixes"]] == ["changed"]
    assert (again["changed"], again["fixes"]) == (False, [])
    assert Sweep.objects.count() == 3


def test_text_output_lists_counts_and_findings(ann):
    out, _ = run("--playbook", "amc")
    assert out.startswith("Found 3 problems; nothing was changed (--fix CODE repairs them).")
    assert "Nothing needed changing." not in out
    assert "counts: " in out and "code=access_token_missing" in out and "user=ann" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--playbook", "nope"], "invalid choice: 'nope'"),
        (["--fix", "no_such_code"], "Unknown problem code 'no_such_code'"),
    ],
)
def test_bad_input_is_one_plain_line(ann, args, fragment):
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert fragment in str(exc.value)


def test_a_real_process_prints_one_json_object_and_exits_0(tmp_path):
    env = {
        **os.environ,
        "SUPPORT_TOOLS_INSECURE_DEV": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    env.pop("KEYCLOAK_SERVER_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)

    done = subprocess.run(
        [*manage, "sweep", "--json"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    bad = subprocess.run(
        [*manage, "sweep", "--fix", "nope"], env=env, cwd=ROOT, capture_output=True, text=True
    )

    assert done.returncode == 0 and json.loads(done.stdout)["findings"] == []
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Unknown problem code 'nope'" in bad.stderr
