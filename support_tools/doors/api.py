"""The REST API's shared parts: error mapping and the base of every action endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError

STATUS_OF = {
    ErrorKind.BAD_INPUT: status.HTTP_400_BAD_REQUEST,
    ErrorKind.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorKind.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorKind.PERMISSION: status.HTTP_403_FORBIDDEN,
    ErrorKind.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, SupportError):
        return Response({"error": exc.message, "kind": str(exc.kind)}, status=STATUS_OF[exc.kind])
    return drf_exception_handler(exc, context)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    kind = serializers.CharField()


class ServiceView(APIView):
    """Validates `input_serializer` from the body (POST) or query (GET), calls `run`, and
    returns the result's JSON: the same object the management command prints."""

    input_serializer: type[serializers.Serializer]

    def actor(self, request: Request) -> Actor:
        return Actor.for_user(request.user, door="api")

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        raise NotImplementedError

    def _respond(self, raw: Any, request: Request) -> Response:
        serializer = self.input_serializer(data=raw)
        if not serializer.is_valid():
            first = next(iter(serializer.errors.items()))
            raise SupportError(f"{first[0]}: {' '.join(str(e) for e in first[1])}")
        result = self.run(serializer.validated_data, self.actor(request))
        return Response(result.as_dict())


class PostServiceView(ServiceView):
    def post(self, request: Request) -> Response:
        return self._respond(request.data, request)


class GetServiceView(ServiceView):
    def get(self, request: Request) -> Response:
        return self._respond(request.query_params, request)
