"""The checklist endpoint's OpenAPI example is the shape of a real answer, key for key."""

import datetime as dt

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from console.api import EXAMPLE
from orgs.amc.services import ensure_amc_admin
from support_tools.actors import Actor
from tests.factories import AccessTokenFactory, AmcAccountFactory, RefreshTokenFactory

pytestmark = pytest.mark.django_db


def keys(value):
    """The keys of a JSON value, nested; a list by its first item; every other value alike."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(item) for item in value[:1]]
    return "value"


def test_keys_sees_a_missing_nested_key():
    assert keys({"a": [{"b": 1, "c": None}]}) != keys({"a": [{"b": 1}]})
    assert keys({"a": []}) != keys({"a": [{"b": 1}]})


def test_the_published_example_is_the_one_checked_here():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    answer = schema["paths"]["/api/v1/learners/checklist"]["get"]["responses"]["200"]
    examples = answer["content"]["application/json"]["examples"]
    assert [e["value"] for e in examples.values()] == [EXAMPLE]


def test_the_example_has_the_keys_of_a_real_answer(mat, amc_app, support_user):
    """The example's learner: an AMC admin of acme whose token expired, with one repair in
    their history."""
    ensure_amc_admin(
        user=mat, organization="acme", actor=Actor.for_user(support_user, door="admin")
    )
    expired = AccessTokenFactory(
        user=mat, application=amc_app, expires=timezone.now() - dt.timedelta(days=2)
    )
    refresh = RefreshTokenFactory(access_token=expired, user=mat, application=amc_app)
    AmcAccountFactory(
        user=mat,
        access_token=expired.token,
        refresh_token=refresh.token,
        token_expires_at=expired.expires,
    )
    client = APIClient()
    client.force_authenticate(support_user)

    real = client.get("/api/v1/learners/checklist", {"user": "mat"}).json()

    example_section = EXAMPLE["sections"][0]
    real_section = next(s for s in real["sections"] if s["key"] == example_section["key"])
    assert [p["code"] for p in real_section["problems"]] == ["access_token_expired"]
    assert keys(example_section) == keys(real_section)
    assert real["history"][-1]["action"] == "ensure_amc_admin"
    top = {k: v for k, v in EXAMPLE.items() if k != "sections"}
    assert keys(top) == keys({k: v for k, v in real.items() if k != "sections"})
    assert set(EXAMPLE) == set(real)
