"""The OAuth2 provider's surface: only what the AMC needs.

The AMC holds an access token and its refresh token (written by `ensure_amc_token`) and renews
them at `/o/token/` with `grant_type=refresh_token`. Nothing else of django-oauth-toolkit is
mounted: applications are managed in the admin only, and no OIDC, device or consent views exist.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from oauth2_provider import views
from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    IntrospectEndpoint,
    ResourceEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.grant_types import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from oauthlib.oauth2.rfc6749.tokens import BearerToken

GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")


class LeastPrivilegeServer(
    AuthorizationEndpoint, IntrospectEndpoint, TokenEndpoint, ResourceEndpoint, RevocationEndpoint
):
    """oauthlib's all-in-one `Server` without the implicit, password and device grants: a
    request for them is `unsupported_grant_type`, whatever an application is registered for.
    A password-type application (the AMC's) still renews its tokens with the refresh grant."""

    def __init__(
        self,
        request_validator: Any,
        token_expires_in: Any = None,
        token_generator: Any = None,
        refresh_token_generator: Any = None,
        **_device_flow_options: Any,  # django-oauth-toolkit passes them to every server
    ) -> None:
        code = AuthorizationCodeGrant(request_validator)
        grants = {
            "authorization_code": code,
            "client_credentials": ClientCredentialsGrant(request_validator),
            "refresh_token": RefreshTokenGrant(request_validator),
        }
        bearer = BearerToken(
            request_validator, token_generator, token_expires_in, refresh_token_generator
        )
        AuthorizationEndpoint.__init__(
            self,
            default_response_type="code",
            response_types={"code": code},
            default_token_type=bearer,
        )
        TokenEndpoint.__init__(
            self,
            default_grant_type="authorization_code",
            grant_types=grants,
            default_token_type=bearer,
        )
        ResourceEndpoint.__init__(self, default_token="Bearer", token_types={"Bearer": bearer})
        RevocationEndpoint.__init__(self, request_validator)
        IntrospectEndpoint.__init__(self, request_validator)


class TokenView(views.TokenView):
    """django-oauth-toolkit's view answers the device grant itself, before the server; here
    every grant goes through the server, which refuses that one."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.authorization_flow_token_response(request)


# Mounted at /o/ in the namespace "oauth2_provider", under django-oauth-toolkit's own names.
urlpatterns = [
    path("token/", TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
]
