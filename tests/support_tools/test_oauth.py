"""The OAuth2 provider's surface: the token, revoke and introspect endpoints only; the grants the
AMC needs; PKCE S256; https redirects; tokens in the Authorization header only."""

import base64
import datetime as dt
import hashlib
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, DeviceGrant, Grant, RefreshToken
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from tests.factories import ApplicationFactory, RefreshTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "amc-client-secret-for-the-tests-0123456789"
CALLBACK = "https://amc.example.test/callback"


@pytest.fixture
def amc_app():
    """The AMC's application as the demo and the tests make it: password-type, confidential."""
    return ApplicationFactory(client_id="amc-client", client_secret=SECRET)


def token_request(client, **data):
    return client.post(reverse("oauth2_provider:token"), data)


def test_only_token_revoke_and_introspect_are_mounted():
    assert reverse("oauth2_provider:token") == "/o/token/"
    assert reverse("oauth2_provider:revoke-token") == "/o/revoke_token/"
    assert reverse("oauth2_provider:introspect") == "/o/introspect/"


@pytest.mark.parametrize(
    "path",
    [
        "/o/applications/",
        "/o/applications/register/",
        "/o/authorized_tokens/",
        "/o/authorize/",
        "/o/.well-known/openid-configuration",
        "/o/.well-known/oauth-authorization-server",
        "/o/.well-known/jwks.json",
        "/o/userinfo/",
        "/o/device-authorization/",
        "/o/register/",
    ],
)
def test_application_management_oidc_and_device_views_are_gone(client, support_user, path):
    assert client.get(path).status_code == 404
    client.force_login(support_user)
    assert client.get(path).status_code == 404


def test_the_amc_renews_its_tokens_with_the_refresh_grant(client, amc_app):
    # A token family, as django-oauth-toolkit gives every token it issues itself.
    old = RefreshTokenFactory(access_token__application=amc_app, token_family=uuid.uuid4())

    response = token_request(
        client,
        grant_type="refresh_token",
        refresh_token=old.token,
        client_id=amc_app.client_id,
        client_secret=SECRET,
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"] != old.token
    new = AccessToken.objects.get(token=body["access_token"])
    assert new.user == old.user and new.application == amc_app
    old.refresh_from_db()
    assert old.revoked is not None  # rotated
    replay = token_request(
        client,
        grant_type="refresh_token",
        refresh_token=old.token,
        client_id=amc_app.client_id,
        client_secret=SECRET,
    )
    assert replay.status_code == 400
    # Reuse protection: replaying a rotated refresh token revokes the new one too.
    assert RefreshToken.objects.get(token=body["refresh_token"]).revoked is not None


def test_client_credentials_grant_works(client):
    app = ApplicationFactory(
        client_id="service",
        client_secret=SECRET,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    response = token_request(
        client, grant_type="client_credentials", client_id=app.client_id, client_secret=SECRET
    )
    assert response.status_code == 200 and response.json()["access_token"]


def test_the_password_grant_is_refused_even_for_a_password_application(client, amc_app):
    UserFactory(username="ann")
    response = token_request(
        client,
        grant_type="password",
        username="ann",
        password="pw",
        client_id=amc_app.client_id,
        client_secret=SECRET,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert not AccessToken.objects.exists()


def test_the_device_grant_is_refused_even_when_authorized(client):
    app = ApplicationFactory(
        client_id="tv",
        client_secret=SECRET,
        authorization_grant_type=Application.GRANT_DEVICE_CODE,
    )
    DeviceGrant.objects.create(
        user=UserFactory(),
        device_code="device-code-1",
        user_code="ABCD",
        client_id=app.client_id,
        expires=timezone.now() + dt.timedelta(minutes=5),
        status=DeviceGrant.AUTHORIZED,
    )
    response = token_request(
        client,
        grant_type="urn:ietf:params:oauth:grant-type:device_code",
        device_code="device-code-1",
        client_id=app.client_id,
        client_secret=SECRET,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert not AccessToken.objects.exists()


def _authorize(method: str, challenge: str, user):
    ApplicationFactory(
        client_id="web",
        client_secret=SECRET,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=CALLBACK,
    )
    uri = (
        "https://testserver/o/authorize/?response_type=code&client_id=web&scope=read"
        f"&redirect_uri={CALLBACK}&code_challenge={challenge}&code_challenge_method={method}"
    )
    server = get_oauthlib_core().server
    return server.create_authorization_response(uri, scopes=["read"], credentials={"user": user})


def test_pkce_s256_is_accepted_and_plain_refused():
    user = UserFactory()
    verifier = "v" * 64
    s256 = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    headers, _, status = _authorize("S256", s256.decode(), user)
    assert status == 302 and "code=" in headers["Location"]
    assert Grant.objects.count() == 1

    try:
        headers, _, status = _authorize("plain", verifier, user)
    except OAuth2Error as refused:
        status = refused.status_code
    assert status == 400
    assert Grant.objects.count() == 1


def test_pkce_is_required():
    ApplicationFactory(
        client_id="web",
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=CALLBACK,
    )
    with pytest.raises(OAuth2Error, match="(?i)code.challenge"):
        get_oauthlib_core().server.validate_authorization_request(
            "https://testserver/o/authorize/?response_type=code&client_id=web&scope=read"
            f"&redirect_uri={CALLBACK}"
        )


def test_redirect_uris_must_be_https():
    app = Application(
        name="web",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://amc.example.test/callback",
    )
    with pytest.raises(ValidationError):
        app.full_clean()
    app.redirect_uris = CALLBACK
    app.full_clean()


def test_tokens_are_taken_from_the_authorization_header_only(client, amc_app):
    token = RefreshTokenFactory(access_token__application=amc_app).access_token.token
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    in_query = client.get("/api/v1/me", {"access_token": token})
    assert in_query.status_code == 401
    assert in_query.json()["kind"] == "unauthenticated"
    assert in_query["WWW-Authenticate"].startswith("Bearer")
