"""manage.py and the demo's settings file (var/demo.env, written by `make demo`)."""

import importlib.util
import os

import pytest

from tests.project.production import ROOT

DEMO_LINES = "# the demo's\nSUPPORT_TOOLS_INSECURE_DEV=1\nAMC_OAUTH_CLIENT_ID=amc-demo\n"


@pytest.fixture
def environ(monkeypatch):
    """A copy of the environment for manage.py to change, put back after the test."""
    copy = {k: v for k, v in os.environ.items() if k not in ("AMC_OAUTH_CLIENT_ID", "DATABASE_URL")}
    monkeypatch.setattr(os, "environ", copy)
    return copy


@pytest.fixture
def load(tmp_path, monkeypatch, environ):
    spec = importlib.util.spec_from_file_location("manage_under_test", ROOT / "manage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "demo.env").write_text(DEMO_LINES)
    monkeypatch.setattr(module, "DEMO_ENV", tmp_path / "demo.env")
    return module.load_demo_environment


def test_a_shell_without_a_database_gets_the_demos_settings(load, environ):
    load()
    assert environ["AMC_OAUTH_CLIENT_ID"] == "amc-demo"


def test_a_shell_that_names_a_database_ignores_the_demos_settings(load, environ):
    environ["DATABASE_URL"] = "postgres://db.example/prod"
    load()
    assert "AMC_OAUTH_CLIENT_ID" not in environ
