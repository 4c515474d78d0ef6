"""The REST API's shared parts: who may call it, error mapping, and the base of every action
endpoint.

Every refusal or error is `{"error": <sentence>, "kind": <ErrorKind or "unauthenticated">}`
(shared/CONTRACT.md), DRF's own errors and unexpected ones included.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback
from rest_framework.views import exception_handler as drf_exception_handler

from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError

log = logging.getLogger(__name__)

STATUS_OF = {
    ErrorKind.BAD_INPUT: status.HTTP_400_BAD_REQUEST,
    ErrorKind.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorKind.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorKind.PERMISSION: status.HTTP_403_FORBIDDEN,
    ErrorKind.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    ErrorKind.TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
}
# Not a SupportError kind: no service raises it, only the doors' authentication.
UNAUTHENTICATED = "unauthenticated"

UNEXPECTED = "An unexpected error stopped the request; it has been logged."
THROTTLED = "Too many requests; try again in {seconds} seconds."
# For errors Django answers before any API view runs (an unknown URL, a crash in middleware).
STATUS_MESSAGES = {
    400: "The request is malformed.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to do this.",
    404: "There is no API endpoint at this address.",
    405: "This method is not allowed here.",
    500: UNEXPECTED,
}

# DRF's exceptions, most specific first: the contract's kind of each.
_KIND_OF: list[tuple[type[Exception], str]] = [
    (exceptions.NotAuthenticated, UNAUTHENTICATED),
    (exceptions.AuthenticationFailed, UNAUTHENTICATED),
    (exceptions.PermissionDenied, str(ErrorKind.PERMISSION)),
    (exceptions.NotFound, str(ErrorKind.NOT_FOUND)),
    (exceptions.Throttled, str(ErrorKind.UNAVAILABLE)),
]


def kind_of_status(code: int) -> str:
    if code == 401:
        return UNAUTHENTICATED
    if code == 403:
        return str(ErrorKind.PERMISSION)
    if code == 404:
        return str(ErrorKind.NOT_FOUND)
    if code == 409:
        return str(ErrorKind.CONFLICT)
    if code == 429 or code >= 500:
        return str(ErrorKind.UNAVAILABLE)
    return str(ErrorKind.BAD_INPUT)


def _first_message(detail: Any) -> str:
    """DRF's detail (a string, a list or a dict of them) as one sentence."""
    if isinstance(detail, dict):
        field, value = next(iter(detail.items()), ("", ""))
        text = _first_message(value)
        return text if field in ("", "detail", "non_field_errors") else f"{field}: {text}"
    if isinstance(detail, list):
        return " ".join(_first_message(d) for d in detail)
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, SupportError):
        return Response({"error": exc.message, "kind": str(exc.kind)}, status=STATUS_OF[exc.kind])
    response = drf_exception_handler(exc, context)
    if response is None:
        return _unexpected(exc, context)
    kind = next((k for cls, k in _KIND_OF if isinstance(exc, cls)), None)
    message = _first_message(response.data)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        message = THROTTLED.format(seconds=exc.wait)  # DRF rounds it up
    response.data = {"error": message, "kind": kind or kind_of_status(response.status_code)}
    return response


def _unexpected(exc: Exception, context: dict[str, Any]) -> Response:
    """A bug: roll back, log one line (its traceback rides along as one field), answer JSON."""
    set_rollback()
    request = context.get("request")
    where = f"{request.method} {request.path}" if request is not None else "?"
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" at {frame[0].filename}:{frame[0].lineno}" if frame else ""
    log.error(
        "API error on %s: %s: %s%s",
        where,
        type(exc).__name__,
        exc,
        at,
        extra={"traceback": "".join(traceback.format_exception(exc))},
    )
    return Response(
        {"error": UNEXPECTED, "kind": str(ErrorKind.UNAVAILABLE)},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


class ApiJsonErrorsMiddleware:
    """Errors Django answers itself under /api/ (no view matched, a crash before the view)
    become the contract's JSON instead of an HTML page."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code = response.status_code
            text = STATUS_MESSAGES.get(code, STATUS_MESSAGES[500 if code >= 500 else 400])
            return JsonResponse({"error": text, "kind": kind_of_status(code)}, status=code)
        return response


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
