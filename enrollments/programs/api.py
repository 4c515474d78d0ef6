"""REST door of the program-enrollment diagnosis, mounted under /api/v1/ by project/urls.py."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers

from enrollments.programs.diagnosis import diagnose_program_enrollments
from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer, GetServiceView

EXAMPLE = {
    "ok": True,
    "user": "ann",
    "programs": [
        {
            "program_uuid": "8d2a6c1e-0b3f-4c5d-9e7f-a1b2c3d4e5f6",
            "status": "enrolled",
            "external_user_key": "ACME-0001",
            "courses": [
                {
                    "course": "course-v1:ACME+DS101+2026",
                    "status": "active",
                    "mode": "audit",
                    "active": True,
                }
            ],
        }
    ],
    "problems": [
        {
            "code": "course_enrollment_mode",
            "severity": "warning",
            "message": "Program 8d2a6c1e-0b3f-4c5d-9e7f-a1b2c3d4e5f6, course "
            "course-v1:ACME+DS101+2026: ann's course enrollment is in the audit track, not "
            "masters, while the program course enrollment is active.",
            "fix": None,
        }
    ],
}


class UserSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="Email (case-insensitive) or username.")


@extend_schema_view(
    get=extend_schema(
        summary="Diagnose a learner's program enrollments and their course enrollments",
        parameters=[UserSerializer],
        responses={
            200: OpenApiTypes.OBJECT,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        examples=[OpenApiExample("A course enrollment outside masters", value=EXAMPLE)],
    )
)
class DiagnoseProgramEnrollmentsView(GetServiceView):
    input_serializer = UserSerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return diagnose_program_enrollments(user=data["user"], actor=actor)


urlpatterns = [
    path(
        "programs/diagnose",
        DiagnoseProgramEnrollmentsView.as_view(),
        name="api-diagnose-program-enrollments",
    ),
]
