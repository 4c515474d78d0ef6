"""`/api/v1/me`: the LMS endpoint the AMC calls with its OAuth2 token (django-oauth-toolkit)."""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from support_tools.doors.api import ErrorSerializer


class MeView(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Who the OAuth2 bearer token belongs to",
        responses={
            200: inline_serializer(
                "Me", {"username": serializers.CharField(), "email": serializers.CharField()}
            ),
            401: ErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "The AMC's token",
                response_only=True,
                value={"username": "ann", "email": "ann@example.com"},
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response({"username": request.user.get_username(), "email": request.user.email})


urlpatterns = [path("me", MeView.as_view(), name="api-me")]
