"""REST door of sweeps: `GET /api/v1/sweeps` (a kept sweep) and `POST /api/v1/sweeps` (run one).

POST without `fix` runs the sweep in the request and answers its JSON, the command's; with
`fix`, or when the sweep is too big for a request (SWEEP_IN_REQUEST_LIMIT), it answers 202 with
the background job that finds (and fixes): `GET /api/v1/jobs/<id>`.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.sweeps.jobs import ACTION
from console.sweeps.playbooks import ORDER
from console.sweeps.service import (
    SWEEP,
    get_sweep,
    parse_codes,
    parse_playbooks,
    require_fixes_allowed,
    run_sweep,
    stored_result,
    too_big_for_a_request,
)
from support_tools.actors import Actor
from support_tools.doors.api import ErrorSerializer
from support_tools.errors import SupportError
from support_tools.jobs import service as jobs
from support_tools.jobs.api import job_url

EXAMPLE = {
    "changed": False,
    "dry_run": False,
    "sweep": {"id": 12, "started_at": "2026-12-01T03:00:00+00:00", "playbooks": list(ORDER)},
    "counts": {"access_token_expired": 1},
    "findings": [
        {
            "playbook": "amc",
            "code": "access_token_expired",
            "severity": "error",
            "message": "amc-expired's newest AMC access token expired on 2026-11-20 10:00 UTC.",
            "fix": "ensure_amc_token",
            "user": "amc-expired",
            "target": "acme",
        }
    ],
    "fixes": [],
}
ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class SweepQuery(serializers.Serializer):
    sweep = serializers.IntegerField(required=False, help_text="A sweep's id; the latest if none.")
    playbook = serializers.ListField(child=serializers.CharField(), required=False)
    code = serializers.ListField(child=serializers.CharField(), required=False)


class SweepRun(serializers.Serializer):
    playbook = serializers.ListField(child=serializers.CharField(), required=False)
    fix = serializers.ListField(child=serializers.CharField(), required=False)
    dry_run = serializers.BooleanField(default=False)


def _valid(serializer: serializers.Serializer) -> dict[str, Any]:
    if not serializer.is_valid():
        name, errors = next(iter(serializer.errors.items()))
        raise SupportError(f"{name}: {' '.join(str(e) for e in errors)}")
    return serializer.validated_data


class SweepsView(APIView):
    def actor(self, request: Request) -> Actor:
        return Actor.for_user(request.user, door="api")

    @extend_schema(
        summary="A kept sweep (the latest by default), its findings filtered by playbook or code",
        parameters=[SweepQuery],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        examples=[OpenApiExample("The latest sweep", value=EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        actor = self.actor(request)
        actor.require(SWEEP.preview, action=SWEEP.name)
        query = {
            "sweep": request.query_params.get("sweep"),
            "playbook": request.query_params.getlist("playbook"),
            "code": request.query_params.getlist("code"),
        }
        data = _valid(SweepQuery(data={k: v for k, v in query.items() if v}))
        sweep = get_sweep(data.get("sweep"))
        result = stored_result(sweep, codes=data.get("code", ()), playbooks=data.get("playbook"))
        return Response(result.as_dict())

    @extend_schema(
        summary="Run a sweep; with fixes, as a background job (202)",
        request=SweepRun,
        responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT, **ERRORS},
        examples=[OpenApiExample("A sweep without fixes", value=EXAMPLE, response_only=True)],
    )
    def post(self, request: Request) -> Response:
        actor = self.actor(request)
        data = _valid(SweepRun(data=request.data))
        playbooks, fix = data.get("playbook"), data.get("fix")
        if not fix and not too_big_for_a_request(playbooks):
            return Response(run_sweep(playbooks=playbooks, actor=actor).as_dict())
        names, codes = parse_playbooks(playbooks), parse_codes(fix)
        actor.require(SWEEP.preview, action=SWEEP.name)
        if not data["dry_run"]:
            # refused now rather than by the job: every fix of these codes needs its permission
            require_fixes_allowed(codes, actor)
        job = jobs.enqueue(
            ACTION,
            actor=actor,
            payload={"playbook": list(names), "fix": list(codes)},
            summary={"playbook": list(names), "fix": list(codes)},
            total=len(names),
            dry_run=data["dry_run"],
        )
        body = {"job": {"id": str(job.pk), "url": job_url(job.pk), "status": job.status}}
        return Response(body, status=status.HTTP_202_ACCEPTED)


urlpatterns = [path("sweeps", SweepsView.as_view(), name="api-sweeps")]
