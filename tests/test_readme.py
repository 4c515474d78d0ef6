"""README runs as written: every shell example, pasted into a new shell, works on the demo."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# The sections a support engineer walks with the demo; Deploying's commands are for a
# production host and its variables.
README = (ROOT / "README.md").read_text().split("\n## Deploying")[0]


def shell_examples() -> list[str]:
    """The commands of README's ```sh blocks that run manage.py (a trailing backslash joins
    lines), in order: the examples that change data rely on those before them."""
    examples = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if "manage.py" in command:
                examples.append(command.strip())
    return examples


def test_readme_has_examples_and_shows_dry_runs_first():
    examples = shell_examples()
    assert len(examples) >= 10
    for i, command in enumerate(examples):
        if "--dry-run" in command or not command.split("manage.py ")[1].startswith(
            ("ensure_", "sync_", "add_", "repair_", "link_")
        ):
            continue
        preview = command + " --dry-run"
        assert any(
            e.replace(" --json", "") == preview.replace(" --json", "")
            or e.startswith(command)
            and "--dry-run" in e
            for e in examples[:i]
        ), command


@pytest.fixture
def demo(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("runs against its own SQLite demo database (the SQLite pass covers it)")
    if not (ROOT / ".venv/bin/python").exists():
        pytest.skip("needs the project's .venv (make test creates it)")
    env = {
        **os.environ,
        "SUPPORT_TOOLS_INSECURE_DEV": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "AMC_OAUTH_CLIENT_ID": "amc-demo-client",
    }
    for args in (["migrate", "-v0"], ["seed_demo"], ["seed_demo", "--keycloak"]):
        subprocess.run(
            [".venv/bin/python", "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    return env


def test_every_example_runs_on_the_demo_data(demo):
    for command in shell_examples():
        done = subprocess.run(
            ["bash", "-c", command], cwd=ROOT, env=demo, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        assert "Traceback" not in done.stderr, command
