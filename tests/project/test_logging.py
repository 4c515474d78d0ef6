"""At DEBUG, with every logger captured through the project's LOGGING, a token refresh at
/o/token/ leaves no whole token or secret in the logs."""

import base64
import logging

import pytest

from support_tools.secrets import mask_token
from tests.factories import ApplicationFactory, RefreshTokenFactory
from tests.project.log_capture import captured_logs

pytestmark = pytest.mark.django_db

SECRET = "amc-client-secret-for-the-tests-0123456789"
LOGGERS = ["oauthlib", "oauth2_provider", "urllib3", "keycloak", "django.request", "django.db"]


def test_a_token_refresh_at_debug_logs_no_whole_secret(client, settings):
    settings.DEBUG = True  # the SQL, with its parameters, is logged too
    app = ApplicationFactory(client_id="amc-client", client_secret=SECRET)
    old = RefreshTokenFactory(access_token__application=app)
    basic = base64.b64encode(f"amc-client:{SECRET}".encode()).decode()

    with captured_logs(level="DEBUG") as out:
        assert all(logging.getLogger(name).isEnabledFor(logging.DEBUG) for name in LOGGERS)
        first = client.post(
            "/o/token/",
            {
                "grant_type": "refresh_token",
                "refresh_token": old.token,
                "client_id": "amc-client",
                "client_secret": SECRET,
            },
        )
        second = client.post(
            "/o/token/",
            {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
            HTTP_AUTHORIZATION=f"Basic {basic}",
        )
        refused = client.get("/api/v1/me", {"access_token": second.json()["access_token"]})

    assert first.status_code == second.status_code == 200 and refused.status_code == 401
    logs = out.getvalue()
    secrets = [old.token, old.access_token.token, SECRET, basic]
    secrets += [r.json()[k] for r in (first, second) for k in ("access_token", "refresh_token")]
    assert "oauthlib" in logs and "django.db.backends" in logs  # they did log, at DEBUG
    for secret in secrets:
        assert secret not in logs
    # The tokens were there, cut to their last four characters.
    assert mask_token(old.token) in logs
