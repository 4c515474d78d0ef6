"""REST routes of the linking playbook, mounted under /api/v1/ by project/urls.py."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollments.linking.csv_rows import parse_link_rows
from enrollments.linking.jobs import start_link_job
from enrollments.linking.service import link_program_enrollments
from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer
from support_tools.errors import SupportError
from support_tools.jobs.api import job_accepted

NO_ROWS_GIVEN = (
    'Give the rows: a JSON body {"rows": [{"external_user_key": ..., "username": ...}]}, '
    "a text/csv body, or a csv field."
)
ROWS_NOT_A_LIST = '"rows" must be a list of {"external_user_key": ..., "username": ...} objects.'
BAD_DRY_RUN = '"dry_run" must be true or false.'


class CsvParser(BaseParser):
    """A text/csv body: handed over as bytes, decoded by the shared CSV reader."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):  # noqa: ANN001, ANN201
        return {"csv": stream.read() if stream is not None else b""}


class RowSerializer(serializers.Serializer):
    external_user_key = serializers.CharField()
    username = serializers.CharField()


class LinkRequestSerializer(serializers.Serializer):
    """Documentation of the request; rows are read leniently so that one malformed row is
    that row's error, not the whole request's."""

    rows = RowSerializer(many=True, required=False)
    csv = serializers.CharField(
        required=False, help_text="CSV text or file: external_user_key,username lines."
    )
    dry_run = serializers.BooleanField(default=False)


class LinkProgramEnrollmentsView(APIView):
    parser_classes = [JSONParser, CsvParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Link external user keys to users in a program",
        request={
            "application/json": LinkRequestSerializer,
            "multipart/form-data": LinkRequestSerializer,
            "text/csv": OpenApiTypes.STR,
        },
        parameters=[
            OpenApiParameter(
                "dry_run", bool, description="For text/csv bodies: write nothing.", required=False
            )
        ],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 403: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Request",
                value={"rows": [{"external_user_key": "UNI-0042", "username": "ann"}]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, program_uuid: Any) -> Response:
        data = request.data
        dry_run = _dry_run(data.get("dry_run", request.query_params.get("dry_run", False)))
        if "rows" in data:
            pairs = _pairs_of(data["rows"])
        elif "csv" in data:
            raw = data["csv"]
            pairs = parse_link_rows(raw.read() if hasattr(raw, "read") else raw)
        else:
            raise SupportError(NO_ROWS_GIVEN)
        if len(pairs) > settings.BULK_SYNC_LIMIT:  # too big for a request: a background job
            actor = Actor.for_user(request.user, door="api")
            job = start_link_job(
                program_uuid=program_uuid, pairs=pairs, actor=actor, dry_run=dry_run
            )
            return job_accepted(job)
        result = link_program_enrollments(
            program_uuid=program_uuid,
            pairs=pairs,
            actor=Actor.for_user(request.user, door="api"),
            dry_run=dry_run,
        )
        return Response(result.as_dict())


def _dry_run(value: Any) -> bool:
    try:
        return serializers.BooleanField().to_internal_value(value)
    except ValidationError:
        raise SupportError(BAD_DRY_RUN) from None


def _pairs_of(rows: Any) -> list[Any]:
    if not isinstance(rows, list):
        raise SupportError(ROWS_NOT_A_LIST)
    return [
        (row.get("external_user_key"), row.get("username")) if isinstance(row, dict) else None
        for row in rows
    ]


urlpatterns = [
    path(
        "programs/<uuid:program_uuid>/link",
        LinkProgramEnrollmentsView.as_view(),
        name="api-link-program-enrollments",
    ),
]
