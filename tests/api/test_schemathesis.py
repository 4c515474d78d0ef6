"""schemathesis against the OpenAPI schema the project serves (/api/schema/), every operation.

Requests go straight to the WSGI application (no server), as a Support user with a session
and its CSRF token. Each operation gets at most MAX_EXAMPLES generated requests (valid and
invalid ones), so the whole run stays within a couple of minutes. Every response must be no
5xx, carry a documented status and content type, and match its documented schema.
"""

import json
from collections import Counter

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from project.wsgi import application
from support_tools.permissions import SUPPORT_GROUP
from tests.factories import UserFactory

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Responses of other modules that do not match the schema yet, each with what is wrong; only
# their conformance checks are skipped: no 5xx holds for every operation. Remove an entry when
# its module answers as documented (the test then checks it).
NOT_AS_DOCUMENTED: dict[str, str] = {}
CSRF = "s" * 32  # a CSRF secret of our own, sent as the cookie and the header alike
REQUESTS: Counter[str] = Counter()  # per operation; conftest.py prints the totals


@pytest.fixture
def one_connection():
    """Keep the test's connection (and its transaction) across requests, as Django's test
    client does: the WSGI handler would close it at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def support_session(db, one_connection):
    user = UserFactory(username="schema-sam", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}


def _served_schema() -> dict:
    """The schema /api/schema/ serves (to logged-in staff only), as drf-spectacular builds it;
    built when the module is collected: it reads no database."""
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.renderers import JSONRenderer

    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(JSONRenderer().render(raw))


schema = schemathesis.openapi.from_dict(_served_schema())
schema.app = application


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_response_as_documented(case, support_session):
    label = case.operation.label
    REQUESTS[label] += 1
    case.call_and_validate(
        cookies=support_session,
        headers={"X-CSRFToken": CSRF, "Referer": "https://testserver/"},
        checks=[not_a_server_error] if label in NOT_AS_DOCUMENTED else CHECKS,
    )
