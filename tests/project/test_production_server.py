"""The production configuration, for real: gunicorn, DEBUG off, the documented variables, a
migrated SQLite file; a staff login through a TLS proxy's request, and WhiteNoise's static
files."""

from __future__ import annotations

import http.client
import json
import queue
import re
import subprocess
import sys
import threading
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.project.production import HOST, ROOT, manage, production_env

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PROXY = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
PASSWORD = "a long password for the smoke test"
STARTUP_SECONDS = 120


def run(args, env):
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done


class Server:
    """gunicorn on a free loopback port; its log lines (JSON) read as they come."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [GUNICORN, "-c", "project/gunicorn.conf.py", "project.wsgi"],
            cwd=ROOT,
            env={
                **env,
                "GUNICORN_BIND": "127.0.0.1:0",
                "WEB_CONCURRENCY": "1",
                "LOG_LEVEL": "INFO",
            },
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        listening = self.wait_for(r"Listening at: http://127\.0\.0\.1:(\d+)")
        self.port = int(listening[1])

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The first log line whose message matches; every line must be a JSON object."""
        while True:
            try:
                line = self.lines.get(timeout=STARTUP_SECONDS)
            except queue.Empty:
                pytest.fail(f"gunicorn never logged {pattern!r}")
            entry = json.loads(line)
            if match := re.search(pattern, entry["message"]):
                return match

    def request(self, method, path, *, headers=None, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.text = response.read().decode(errors="replace")
        connection.close()
        return response

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


@pytest.fixture
def server(tmp_path):
    env = production_env(tmp_path)
    run(manage("migrate", "--noinput"), env)
    run(manage("collectstatic", "--noinput"), env)
    run(
        manage("createsuperuser", "--noinput", "--username", "ops", "--email", "ops@example.com"),
        {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
    )
    server = Server(env)
    yield server
    server.stop()


def cookies(response) -> SimpleCookie:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return jar


def test_a_staff_login_through_the_proxy_and_static_files(server):
    plain = server.request("GET", "/admin/login/", headers={"Host": HOST})
    assert plain.status == 301 and plain.headers["Location"] == f"https://{HOST}/admin/login/"

    form = server.request("GET", "/admin/login/", headers=PROXY)
    assert form.status == 200
    assert form.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert "script-src 'self'" in form.headers["Content-Security-Policy"]
    csrf_cookie = cookies(form)["csrftoken"]
    assert csrf_cookie["secure"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]

    login = server.request(
        "POST",
        "/admin/login/?next=/admin/",
        headers={
            **PROXY,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie.value}",
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}/admin/login/",
        },
        body=urlencode(
            {
                "csrfmiddlewaretoken": token,
                "username": "ops",
                "password": PASSWORD,
                "next": "/admin/",
            }
        ),
    )
    assert login.status == 302, login.text[:500]
    assert login.headers["Location"] == "/admin/"
    session = cookies(login)["sessionid"]
    assert session["secure"] and session["httponly"]
    assert not session["expires"] and not session["max-age"]  # ends with the browser

    index = server.request(
        "GET", "/admin/", headers={**PROXY, "Cookie": f"sessionid={session.value}"}
    )
    assert index.status == 200 and "Log out" in index.text

    stylesheet = re.search(r"/static/admin/css/base\.[0-9a-f]{12}\.css", form.text)[0]
    css = server.request("GET", stylesheet, headers=PROXY)
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "immutable" in css.headers["Cache-Control"]

    # Gunicorn's access lines are JSON too, and leave the query string out.
    access = server.wait_for(r'"POST /admin/login/ HTTP/1\.1" 302')
    assert "next=" not in access.string
