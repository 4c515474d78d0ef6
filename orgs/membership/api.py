"""REST doors of the org-membership playbook (included under /api/v1/): thin, the same JSON as
diagnose_org_membership and repair_org_membership print with --json."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers

from orgs.membership import Fix, diagnose_org_membership, repair_org_membership
from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer, GetServiceView, PostServiceView

ERRORS = {
    400: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
    503: ErrorSerializer,
}


class MembershipQuerySerializer(serializers.Serializer):
    user = serializers.CharField(help_text="Email (case-insensitive) or username.")
    org = serializers.CharField(help_text="Short name or name (case-insensitive).")


class MembershipRepairSerializer(MembershipQuerySerializer):
    fixes = serializers.ListField(
        child=serializers.ChoiceField(choices=[f.value for f in Fix]),
        required=False,
        default=list,
        help_text="The fixes to apply; empty or absent: every safe one you may run.",
    )
    dry_run = serializers.BooleanField(default=False)


@extend_schema_view(
    get=extend_schema(
        summary="Diagnose why a learner is missing from an organization or its contracts",
        parameters=[MembershipQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        examples=[
            OpenApiExample(
                "A password stops the identity provider",
                response_only=True,
                value={
                    "ok": False,
                    "user": "ann",
                    "organization": "acme-sso",
                    "problems": [
                        {
                            "code": "password_blocks_idp",
                            "severity": "error",
                            "message": "acme-sso's Keycloak organization signs in through "
                            "the identity provider acme-idp, but ann has a Keycloak password, "
                            "so Keycloak asks for the password instead and never adds them "
                            "through the identity provider.",
                            "fix": "delete_password",
                        }
                    ],
                },
            )
        ],
    )
)
class DiagnoseOrgMembershipView(GetServiceView):
    input_serializer = MembershipQuerySerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return diagnose_org_membership(user=data["user"], organization=data["org"], actor=actor)


@extend_schema_view(
    post=extend_schema(
        summary="Repair a learner's organization membership (Keycloak and local)",
        description="Each fix is reported as done, would_do (dry run) or skipped (with why); "
        "`keycloak_calls` lists the Keycloak changes made. A dry run needs view access only. "
        "A repair that Keycloak stops part-way answers 503 (kind `unavailable`): its sentence "
        "says what Keycloak had done, and the audit trail keeps the partial result.",
        request=MembershipRepairSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS, 415: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Request",
                value={
                    "user": "ann@acme.test",
                    "org": "acme",
                    "fixes": ["delete_password", "end_sessions"],
                    "dry_run": True,
                },
                request_only=True,
            )
        ],
    )
)
class RepairOrgMembershipView(PostServiceView):
    input_serializer = MembershipRepairSerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return repair_org_membership(
            user=data["user"],
            organization=data["org"],
            fixes=data["fixes"] or None,
            actor=actor,
            dry_run=data["dry_run"],
        )


urlpatterns = [
    path(
        "orgs/membership/diagnose",
        DiagnoseOrgMembershipView.as_view(),
        name="api-diagnose-org-membership",
    ),
    path(
        "orgs/membership/repair",
        RepairOrgMembershipView.as_view(),
        name="api-repair-org-membership",
    ),
]
