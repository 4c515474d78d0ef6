"""REST doors of the orgs playbooks: thin, the same JSON as the management commands."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers

from orgs.amc.diagnosis import diagnose_amc_user
from orgs.amc.services import ensure_amc_admin, ensure_amc_token
from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer, GetServiceView, PostServiceView

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class UserOrgSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="Email (case-insensitive) or username.")
    org = serializers.CharField(help_text="Short name or name (case-insensitive).")
    dry_run = serializers.BooleanField(default=False)


class UserSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="Email (case-insensitive) or username.")


@extend_schema_view(
    post=extend_schema(
        summary="Ensure the AMC OAuth tokens of a user (the spinning-wheel repair)",
        request=UserOrgSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS, 415: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Request",
                value={"user": "ann@example.com", "org": "acme", "dry_run": True},
                request_only=True,
            )
        ],
    )
)
class EnsureAmcTokenView(PostServiceView):
    input_serializer = UserOrgSerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return ensure_amc_token(
            user=data["user"], organization=data["org"], actor=actor, dry_run=data["dry_run"]
        )


@extend_schema_view(
    post=extend_schema(
        summary="Make a user an active AMC admin of an organization and its site",
        request=UserOrgSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS, 415: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Mappings made AMC-admin",
                response_only=True,
                value={
                    "changed": True,
                    "dry_run": False,
                    "user": "ann",
                    "organization": "acme",
                    "mappings": {"organization": "updated", "site": "created"},
                },
            )
        ],
    )
)
class EnsureAmcAdminView(PostServiceView):
    input_serializer = UserOrgSerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return ensure_amc_admin(
            user=data["user"], organization=data["org"], actor=actor, dry_run=data["dry_run"]
        )


@extend_schema_view(
    get=extend_schema(
        summary="Diagnose the AMC spinning wheel for a user",
        parameters=[UserSerializer],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        examples=[
            OpenApiExample(
                "An expired token",
                response_only=True,
                value={
                    "ok": False,
                    "user": "ann",
                    "organizations": ["acme"],
                    "problems": [
                        {
                            "code": "access_token_expired",
                            "severity": "error",
                            "message": "ann's newest AMC access token expired on "
                            "2026-11-20 10:51 UTC.",
                            "fix": "ensure_amc_token",
                        }
                    ],
                    "token_check": {
                        "endpoint": "/api/v1/me",
                        "authenticates": False,
                        "status": 401,
                    },
                },
            )
        ],
    )
)
class DiagnoseAmcUserView(GetServiceView):
    input_serializer = UserSerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return diagnose_amc_user(user=data["user"], actor=actor)


urlpatterns = [
    path("amc/ensure-token", EnsureAmcTokenView.as_view(), name="api-ensure-amc-token"),
    path("amc/ensure-admin", EnsureAmcAdminView.as_view(), name="api-ensure-amc-admin"),
    path("amc/diagnose", DiagnoseAmcUserView.as_view(), name="api-diagnose-amc-user"),
]
