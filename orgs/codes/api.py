"""REST doors of the enrollment-code playbook (included under /api/v1/): thin, the same JSON
as the management commands."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers

from orgs.codes import add_contract_seats, diagnose_code, sync_code_dates
from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer, GetServiceView, PostServiceView

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class DiagnoseCodeSerializer(serializers.Serializer):
    code = serializers.CharField(
        trim_whitespace=False, help_text="The code, or a redemption link ending in it."
    )
    user = serializers.CharField(
        required=False, allow_blank=True, help_text="Email or username of the learner."
    )
    at = serializers.CharField(
        required=False, allow_blank=True, help_text="ISO 8601 date or date and time (UTC if naive)."
    )


class SyncCodeDatesSerializer(serializers.Serializer):
    code = serializers.CharField(required=False, help_text="One code (or a redemption link).")
    contract = serializers.CharField(
        required=False, help_text='Every code of a contract: its id or "ORG:contract name".'
    )
    dry_run = serializers.BooleanField(default=False)


class AddContractSeatsSerializer(serializers.Serializer):
    contract = serializers.CharField(help_text='Its id or "ORG:contract name".')
    seats = serializers.IntegerField(min_value=1, help_text="How many seats to add.")
    reason = serializers.CharField(help_text="Why: kept in the audit trail.")
    expected_max_learners = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The seat limit you saw; with it, repeating the request changes nothing.",
    )
    dry_run = serializers.BooleanField(default=False)


@extend_schema_view(
    get=extend_schema(
        summary="Diagnose an enrollment code: every reason it cannot be redeemed",
        parameters=[DiagnoseCodeSerializer],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        examples=[
            OpenApiExample(
                "A mistyped code",
                response_only=True,
                value={
                    "ok": False,
                    "problems": [
                        {
                            "code": "code_not_found",
                            "severity": "error",
                            "message": "No enrollment code 3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6e "
                            "exists. It may be a typo of: 3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6f.",
                            "fix": None,
                        }
                    ],
                    "code": "3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6e",
                    "input": "https://learn.example.com/enrollmentcode/3F2B8C1E-7D4A-4E6B-9C0D-1A2B3C4D5E6E/",
                    "found": False,
                    "suggestions": ["3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6f"],
                    "at": "2026-11-23T10:00:00+00:00",
                    "user": None,
                },
            )
        ],
    )
)
class DiagnoseCodeView(GetServiceView):
    input_serializer = DiagnoseCodeSerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return diagnose_code(
            code_text=data["code"],
            user=data.get("user") or None,
            at=data.get("at") or None,
            actor=actor,
        )


@extend_schema_view(
    post=extend_schema(
        summary="Align the dates of a code, or of all codes of a contract, with the contract",
        request=SyncCodeDatesSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS, 415: ErrorSerializer},
        examples=[
            OpenApiExample("Request", value={"contract": "acme:Spring 2025", "dry_run": True})
        ],
    )
)
class SyncCodeDatesView(PostServiceView):
    input_serializer = SyncCodeDatesSerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return sync_code_dates(
            code=data.get("code"),
            contract=data.get("contract"),
            actor=actor,
            dry_run=data["dry_run"],
        )


@extend_schema_view(
    post=extend_schema(
        summary="Add seats to a contract (needs the add-seats permission and a reason)",
        request=AddContractSeatsSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS, 415: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Request",
                value={
                    "contract": "12",
                    "seats": 10,
                    "reason": "Order 4711",
                    "expected_max_learners": 50,
                },
            )
        ],
    )
)
class AddContractSeatsView(PostServiceView):
    input_serializer = AddContractSeatsSerializer

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return add_contract_seats(
            contract=data["contract"],
            seats=data["seats"],
            reason=data["reason"],
            expected_max_learners=data.get("expected_max_learners"),
            actor=actor,
            dry_run=data["dry_run"],
        )


urlpatterns = [
    path("codes/diagnose", DiagnoseCodeView.as_view(), name="api-diagnose-code"),
    path("codes/sync-dates", SyncCodeDatesView.as_view(), name="api-sync-code-dates"),
    path("contracts/add-seats", AddContractSeatsView.as_view(), name="api-add-contract-seats"),
]
