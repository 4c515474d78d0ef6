"""REST routes of the linking playbook, mounted under /api/v1/ by project/urls.py.

The body goes through the same boundary as the other doors (csv_rows, rows): its shape, types,
encoding, characters, size and row count are checked before any query, each problem a sentence
(400, or 413 for too much), never a traceback.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import QueryDict
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollments.linking.csv_rows import kind_of, parse_link_rows, read_capped, too_large
from enrollments.linking.jobs import start_link_job
from enrollments.linking.rows import check_row_count, shown
from enrollments.linking.service import BAD_PROGRAM_UUID, link_program_enrollments
from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer
from support_tools.errors import ErrorKind, SupportError
from support_tools.jobs.api import job_accepted

NO_ROWS_GIVEN = (
    'Give the rows: a JSON body {"rows": [{"external_user_key": ..., "username": ...}]}, '
    "a text/csv body, or a csv field."
)
ROWS_NOT_A_LIST = '"rows" must be a list of {"external_user_key": ..., "username": ...} objects.'
BAD_DRY_RUN = '"dry_run" must be true or false.'
BODY_NOT_AN_OBJECT = 'The body must be a JSON object such as {{"rows": [...]}}, not {kind}.'
BODY_UNREADABLE = "The body is not readable ({detail})."
JSON_UNREADABLE = "The body is not valid JSON ({detail})."
JSON_TOO_DEEP = "The body is nested too deeply to be a linking request."


def _unreadable(exc: Exception) -> SupportError:
    detail = exc.detail if isinstance(exc, ParseError) else exc
    return SupportError(BODY_UNREADABLE.format(detail=shown(str(detail))))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class LinkJsonParser(JSONParser):
    """JSON within LINK_MAX_BYTES; a body nested past the interpreter's depth (json.loads's
    RecursionError) is refused like any other unreadable one."""

    def parse(self, stream, media_type=None, parser_context=None):  # noqa: ANN001, ANN201
        raw = read_capped(stream)
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except RecursionError:
            raise SupportError(JSON_TOO_DEEP) from None
        except ValueError as exc:  # also UnicodeDecodeError and NaN or Infinity
            raise SupportError(JSON_UNREADABLE.format(detail=shown(str(exc)))) from None


class CsvParser(BaseParser):
    """A text/csv body within LINK_MAX_BYTES: handed over as bytes, decoded by the shared
    CSV reader."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):  # noqa: ANN001, ANN201
        return {"csv": read_capped(stream)}


class LinkFormParser(FormParser):
    """A form body within LINK_MAX_BYTES (DRF's reads it whole)."""

    def parse(self, stream, media_type=None, parser_context=None):  # noqa: ANN001, ANN201
        try:
            return QueryDict(read_capped(stream), encoding="utf-8")
        except TooManyFieldsSent as exc:
            raise _unreadable(exc) from None


class LinkMultiPartParser(MultiPartParser):
    """Django's limits (a field over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields) and a
    broken body answer a sentence too; an uploaded file is capped when read."""

    def parse(self, stream, media_type=None, parser_context=None):  # noqa: ANN001, ANN201
        try:
            return super().parse(stream, media_type, parser_context)
        except RequestDataTooBig:
            raise too_large() from None
        except (ParseError, TooManyFieldsSent) as exc:
            raise _unreadable(exc) from None


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
    parser_classes = [LinkJsonParser, CsvParser, LinkMultiPartParser, LinkFormParser]

    @extend_schema(
        summary="Link external user keys to users in a program",
        request={
            "application/json": LinkRequestSerializer,
            "multipart/form-data": LinkRequestSerializer,
            "text/csv": OpenApiTypes.STR,
        },
        parameters=[
            OpenApiParameter("program_uuid", OpenApiTypes.UUID, OpenApiParameter.PATH),
            OpenApiParameter(
                "dry_run", bool, description="For text/csv bodies: write nothing.", required=False
            ),
        ],
        responses={
            200: OpenApiTypes.OBJECT,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            413: ErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "Request",
                value={"rows": [{"external_user_key": "UNI-0042", "username": "ann"}]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, program_uuid: str) -> Response:
        program = _program_uuid(program_uuid)
        data = request.data
        if not isinstance(data, dict):  # a JSON list, string, number, boolean or null
            raise SupportError(BODY_NOT_AN_OBJECT.format(kind=kind_of(data)))
        dry_run = _dry_run(data.get("dry_run", request.query_params.get("dry_run", False)))
        if "rows" in data:
            pairs = _pairs_of(data["rows"])
        elif "csv" in data:
            raw = data["csv"]
            pairs = parse_link_rows(read_capped(raw) if hasattr(raw, "read") else raw)
        else:
            raise SupportError(NO_ROWS_GIVEN)
        if len(pairs) > settings.BULK_SYNC_LIMIT:  # too big for a request: a background job
            actor = Actor.for_user(request.user, door="api")
            job = start_link_job(
                program_uuid=program_uuid, pairs=pairs, actor=actor, dry_run=dry_run
            )
            return job_accepted(job)
        result = link_program_enrollments(
            program_uuid=program,
            pairs=pairs,
            actor=Actor.for_user(request.user, door="api"),
            dry_run=dry_run,
        )
        return Response(result.as_dict())

    def handle_exception(self, exc: Exception) -> Response:
        # 413 here until support_tools.doors.api maps ErrorKind.TOO_LARGE itself.
        if isinstance(exc, SupportError) and exc.kind == ErrorKind.TOO_LARGE:
            return Response({"error": exc.message, "kind": str(exc.kind)}, status=413)
        return super().handle_exception(exc)


def _program_uuid(value: str) -> uuid.UUID:
    """Any path segment reaches the view, so that a malformed UUID is a 400 with its
    sentence rather than the router's 404 page."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise SupportError(BAD_PROGRAM_UUID.format(value=shown(value))) from None


def _dry_run(value: Any) -> bool:
    try:
        return serializers.BooleanField().to_internal_value(value)
    except ValidationError:
        raise SupportError(BAD_DRY_RUN) from None


def _pairs_of(rows: Any) -> list[Any]:
    """Rows as objects or as [key, username] lists (shared/CONTRACT.md); anything else is
    that row's error (rows.read_pair), so that the other rows proceed."""
    if not isinstance(rows, list):
        raise SupportError(ROWS_NOT_A_LIST)
    check_row_count(len(rows))
    return [
        (row.get("external_user_key"), row.get("username")) if isinstance(row, dict) else row
        for row in rows
    ]


urlpatterns = [
    path(
        "programs/<str:program_uuid>/link",
        LinkProgramEnrollmentsView.as_view(),
        name="api-link-program-enrollments",
    ),
]
