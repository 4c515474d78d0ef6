"""Production settings from the environment: `check --deploy` clean, CSP on every page, login
throttling."""

import subprocess

import pytest
from django.conf import settings

from tests.factories import UserFactory
from tests.project.production import ROOT, manage, production_env


def check_deploy(env):
    return subprocess.run(
        manage("check", "--deploy", "--fail-level", "WARNING"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_is_clean_with_the_documented_variables(tmp_path):
    done = check_deploy(production_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_fails_when_a_safe_default_is_switched_off(tmp_path):
    done = check_deploy(production_env(tmp_path, DJANGO_SECURE_HSTS_SECONDS="0"))
    assert done.returncode != 0 and "security.W004" in done.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    done = check_deploy(env)
    assert done.returncode != 0 and "DJANGO_SECRET_KEY is not set" in done.stderr


@pytest.mark.django_db
def test_every_page_has_a_content_security_policy_without_inline_script(client):
    policy = client.get("/admin/login/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert "unsafe" not in directives["script-src"]


@pytest.mark.django_db
def test_bad_logins_lock_the_account_out(client):
    UserFactory(username="ops", is_staff=True)

    def login(password, address):
        return client.post(
            "/admin/login/?next=/admin/",
            {"username": "ops", "password": password},
            REMOTE_ADDR=address,
        )

    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login("wrong", f"192.0.2.{attempt}").status_code == 200  # the form again
    assert login("wrong", "192.0.2.99").status_code == 429

    # From another address and with the right password: still locked, not logged in.
    locked = login("pw", "198.51.100.7")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_good_login_before_the_limit_resets_the_count(client):
    UserFactory(username="ops", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/admin/login/", {"username": "ops", "password": "wrong"})
    good = client.post("/admin/login/?next=/admin/", {"username": "ops", "password": "pw"})
    assert good.status_code == 302
    client.logout()
    assert client.post("/admin/login/", {"username": "ops", "password": "wrong"}).status_code == 200
