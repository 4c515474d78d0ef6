"""The command door: free text checked before any query, one line for every failure."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from support_tools.models import SupportAction
from support_tools.text import TEXT_CONTROL, TEXT_NOT_UTF8, clean_text, visible

ROOT = Path(__file__).resolve().parents[3]
LATIN1 = "caf\udce9"  # b"caf\xe9" as Python decodes a Latin-1 argument in a UTF-8 shell

# Every free-text argument of every command.
CASES = [
    ("diagnose_amc_user", ["--user", "{}"]),
    ("ensure_amc_token", ["--user", "{}", "--org", "acme"]),
    ("ensure_amc_token", ["--user", "ann", "--org", "{}"]),
    ("ensure_amc_admin", ["--user", "{}", "--org", "acme"]),
    ("ensure_amc_admin", ["--user", "ann", "--org", "{}"]),
    ("diagnose_code", ["{}"]),
    ("diagnose_code", ["3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6f", "--user", "{}"]),
    ("diagnose_code", ["3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6f", "--at", "{}"]),
    ("sync_code_dates", ["--code", "{}"]),
    ("add_contract_seats", ["{}", "--seats", "1", "--reason", "order"]),
    ("add_contract_seats", ["1", "--seats", "1", "--reason", "{}"]),
    ("diagnose_org_membership", ["--user", "{}", "--org", "acme"]),
    ("repair_org_membership", ["--user", "ann", "--org", "{}"]),
    ("link_program_enrollments", ["{}"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("command", "args"), CASES)
@pytest.mark.parametrize("bad", [LATIN1, "nul\x00here", "bell\x07"])
def test_free_text_that_cannot_be_stored_is_refused_before_any_query(
    command, args, bad, django_assert_num_queries
):
    argv = [a.format(bad) if a == "{}" else a for a in args]
    with django_assert_num_queries(0), pytest.raises(CommandError) as refused:
        call_command(command, *argv)
    assert str(refused.value).split(": ", 1)[1] in {
        TEXT_NOT_UTF8.split(": ", 1)[1],
        TEXT_CONTROL.format(field="x", char="U+0000").split(": ", 1)[1],
        TEXT_CONTROL.format(field="x", char="U+0007").split(": ", 1)[1],
    }
    assert not SupportAction.objects.exists()


def test_a_latin1_argument_in_a_real_shell_gives_one_line(tmp_path):
    env = {
        **os.environ,
        "SUPPORT_TOOLS_INSECURE_DEV": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "LC_ALL": "C.UTF-8",
    }
    env.pop("PYTHONIOENCODING", None)
    done = subprocess.run(
        [sys.executable.encode(), b"manage.py", b"diagnose_amc_user", b"--user", b"caf\xe9"],
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    assert done.returncode != 0
    lines = done.stderr.decode().strip().splitlines()
    assert lines == ["CommandError: " + TEXT_NOT_UTF8.format(field="user")]


def test_clean_text_and_visible():
    assert clean_text("tab\tok", field="f") == "tab\tok"
    assert clean_text("two\nlines", field="f", multiline=True) == "two\nlines"
    with pytest.raises(Exception, match="control character"):
        clean_text("two\nlines", field="f")
    assert visible(" \u200b\u2060\t") == "" and visible(" a\u200bb ") == "ab"


def test_the_text_says_what_changed_or_would_in_words():
    from support_tools.doors.commands import (
        CHANGES_APPLIED,
        DRY_RUN_NOTHING,
        NOTHING_NEEDED,
        render_text,
    )

    token = {
        "changed": True,
        "dry_run": True,
        "mappings": {"organization": "created", "site": "unchanged"},
        "access_token": {"created": True, "expires": "2027-01-01"},
        "amc_account": {"updated": True},
    }
    text = render_text(token)
    assert (
        "Dry run, nothing written. Would change: organization mapping created, access token "
        "created, amc account updated." in text
    )
    rows = {
        "changed": True,
        "dry_run": True,
        "results": [{"status": "linked"}, {"status": "error"}],
    }
    assert "Would change: linked 1." in render_text(rows)
    assert CHANGES_APPLIED in render_text({**token, "dry_run": False})
    assert NOTHING_NEEDED in render_text({"changed": False, "dry_run": False})
    assert DRY_RUN_NOTHING in render_text({"changed": False, "dry_run": True})
    assert "Something" not in render_text(token)
