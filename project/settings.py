"""Settings, all read from environment variables (see README and shared/CONTRACT.md)."""

import datetime as dt
import os
from pathlib import Path

import dj_database_url

from support_tools.logsafe import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


# Demo and test runs set SUPPORT_TOOLS_INSECURE_DEV=1; nothing secret is defaulted otherwise.
INSECURE_DEV = _env_bool("SUPPORT_TOOLS_INSECURE_DEV")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    "insecure-dev-only-key-never-used-in-production" if INSECURE_DEV else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set (set SUPPORT_TOOLS_INSECURE_DEV=1 for a local demo)."
    )

DEBUG = _env_bool("DJANGO_DEBUG", INSECURE_DEV)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "oauth2_provider",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The layers, bottom to top: the shared base, the playbooks' apps, the console.
    "support_tools",
    "accounts",
    "orgs",
    "enrollments",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "support_tools.doors.api.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'support_tools.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Wait for a writer instead of failing at once; IMMEDIATE makes atomic blocks take the lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_ID = 1

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    # The token class first: its WWW-Authenticate header makes "no credentials" a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["support_tools.doors.api_access.IsActiveStaff"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "support_tools.doors.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Support Tools API",
    "DESCRIPTION": "Support runbooks as audited, permission-checked endpoints.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["support_tools.doors.api_access.IsActiveStaff"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# API tokens (django-rest-knox): stored as SHA-512 digests, always expiring; the prefix makes a
# leaked one easy to recognise.
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(days=30),
    "TOKEN_PREFIX": "st_",
    "AUTO_REFRESH": False,
}

# The OAuth2 provider serves the AMC only (support_tools/oauth.py): authorization code with
# PKCE S256, client credentials, and the refresh grant the AMC renews its tokens with.
OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read", "write": "Write"},
    "OAUTH2_SERVER_CLASS": "support_tools.oauth.LeastPrivilegeServer",
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_ENABLED": False,
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # RFC 9700: refuse the implicit and password grants, PKCE "plain" and tokens in the query
    # string; and make a later insecure change of the settings above fail `check --deploy`.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
SILENCED_SYSTEM_CHECKS = [
    # Tokens stored as plaintext (W006): the AMC contract keeps the whole tokens on AmcAccount
    # and the AMC playbook compares them with the provider's; hashing them at rest would break
    # ensure_amc_token and diagnose_amc_user. See docs/deploying.md.
    "oauth2_provider.W006",
]

# --- The public settings of shared/CONTRACT.md ---------------------------------------------
AMC_OAUTH_CLIENT_ID = os.environ.get("AMC_OAUTH_CLIENT_ID") or None
AMC_TOKEN_LIFETIME_DAYS = int(os.environ.get("AMC_TOKEN_LIFETIME_DAYS") or 366)
# A token expiring sooner than this is reported as a warning.
AMC_TOKEN_WARN_DAYS = int(os.environ.get("AMC_TOKEN_WARN_DAYS") or 30)

KEYCLOAK_SERVER_URL = os.environ.get("KEYCLOAK_SERVER_URL") or None
KEYCLOAK_REALM = os.environ.get("KEYCLOAK_REALM") or None
KEYCLOAK_CLIENT_ID = os.environ.get("KEYCLOAK_CLIENT_ID") or None
KEYCLOAK_CLIENT_SECRET = os.environ.get("KEYCLOAK_CLIENT_SECRET") or None
KEYCLOAK_TIMEOUT_SECONDS = float(os.environ.get("KEYCLOAK_TIMEOUT_SECONDS") or 5)

# One stderr handler that masks secrets; LOG_FORMAT=json gives one JSON object per line.
LOGGING = logging_config(
    level=os.environ.get("LOG_LEVEL") or "WARNING", fmt=os.environ.get("LOG_FORMAT") or "text"
)
