"""REST door of background jobs: `GET /api/v1/jobs/<id>` and `POST /api/v1/jobs/<id>/cancel`."""

from __future__ import annotations

import uuid

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer
from support_tools.jobs import service
from support_tools.jobs.models import Job

EXAMPLE = {
    "id": "0f4b3a52-7c1d-4e7a-9b0e-2d3c4b5a6f70",
    "action": "link_program_enrollments",
    "status": "running",
    "progress": {"done": 4000, "total": 100000},
    "result": None,
    "error": None,
}
ERRORS = {403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def job_url(job_id: uuid.UUID | str) -> str:
    return reverse("api-job", kwargs={"job_id": job_id})


def job_accepted(job: Job) -> Response:
    """A bulk door's answer when its work became a job (shared/CONTRACT.md)."""
    body = {"job": {"id": str(job.pk), "url": job_url(job.pk), "status": job.status}}
    return Response(body, status=status.HTTP_202_ACCEPTED)


def _wants_rows(request: Request) -> bool:
    return request.query_params.get("rows", "true").strip().lower() not in {"0", "false", "no"}


class JobView(APIView):
    @extend_schema(
        summary="A background job: its status, progress, and result once done",
        parameters=[
            OpenApiParameter(
                "rows",
                bool,
                required=False,
                description="false: the result without its per-row list (e.g. a progress poll).",
            )
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        examples=[OpenApiExample("A link sheet halfway", value=EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        job = service.get_job(job_id, actor=Actor.for_user(request.user, door="api"))
        return Response(service.as_dict(job, url=job_url(job.pk), rows=_wants_rows(request)))


class CancelJobView(APIView):
    @extend_schema(
        summary="Stop a queued or running job at its next step (what was done stays done)",
        request=None,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        examples=[
            OpenApiExample(
                "Cancelled while queued",
                value={**EXAMPLE, "status": "failed", "progress": {"done": 0, "total": 100000}},
                response_only=True,
            )
        ],
    )
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        job = service.cancel_job(job_id, actor=Actor.for_user(request.user, door="api"))
        return Response(service.as_dict(job, url=job_url(job.pk)))


urlpatterns = [
    path("jobs/<uuid:job_id>", JobView.as_view(), name="api-job"),
    path("jobs/<uuid:job_id>/cancel", CancelJobView.as_view(), name="api-cancel-job"),
]
