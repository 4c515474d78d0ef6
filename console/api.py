"""The console's REST door: one learner's checklist as JSON."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers

from console.checklist import learner_checklist
from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer, GetServiceView

# What the endpoint answers, key for key: tests/console/test_api.py compares it with a real answer.
EXAMPLE = {
    "ok": False,
    "user": {"id": 7, "username": "amc-expired", "email": "amc-expired@acme.example.edu"},
    "sections": [
        {
            "key": "amc",
            "title": "AMC access (the spinning wheel)",
            "status": "error",
            "error": None,
            "note": None,
            "links": [],
            "problems": [
                {
                    "code": "access_token_expired",
                    "severity": "error",
                    "message": "amc-expired's newest AMC access token expired on "
                    "2026-11-20 09:30 UTC.",
                    "fix": "ensure_amc_token",
                    "title": "The access token has expired",
                    "fix_label": "Renew the AMC tokens",
                    "fix_url": "/admin/support/users/7/amc/ensure-token/"
                    "?org=acme&next=%2Fadmin%2Fsupport%2Fconsole%2F7%2F",
                    "fix_note": None,
                }
            ],
            "details": {
                "organizations": ["acme"],
                "token_check": {"endpoint": "/api/v1/me", "authenticates": False, "status": 401},
            },
        }
    ],
    "history": [
        {
            "id": 412,
            "when": "2026-11-21T08:02:11.514000+00:00",
            "action": "ensure_amc_admin",
            "actor": "support-sam",
            "door": "admin",
            "dry_run": False,
            "outcome": "changed",
            "error": "",
            "bulk": False,
        }
    ],
    "history_previews_hidden": 3,
}


class LearnerSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="Email (case-insensitive) or username.")


@extend_schema_view(
    get=extend_schema(
        summary="Every diagnosis that applies to one learner, as one checklist",
        description="Fix URLs are given only for the repairs the caller may run.",
        parameters=[LearnerSerializer],
        responses={
            200: OpenApiTypes.OBJECT,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        examples=[OpenApiExample("A learner with an expired AMC token", value=EXAMPLE)],
    )
)
class LearnerChecklistView(GetServiceView):
    input_serializer = LearnerSerializer

    def actor(self, request: Any) -> Actor:
        return Actor.for_user(request.user, door="api")

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return learner_checklist(user=data["user"], actor=actor)


urlpatterns = [
    path("learners/checklist", LearnerChecklistView.as_view(), name="api-learner-checklist"),
]
