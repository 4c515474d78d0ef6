"""Settings, all read from environment variables (see README, its Deploying section, and
shared/CONTRACT.md). With DEBUG off every security setting defaults to its safe value."""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

from support_tools.logsafe import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


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

# Rotation: the new key in DJANGO_SECRET_KEY, the old ones here until their sessions are gone.
SECRET_KEY_FALLBACKS = _env_list("DJANGO_SECRET_KEY_FALLBACKS")

DEBUG = _env_bool("DJANGO_DEBUG", INSECURE_DEV)
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

# --- HTTPS, cookies, sessions: safe by default whenever DEBUG is off --------------------------
SECURE = not DEBUG
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
BEHIND_TLS_PROXY = _env_bool("DJANGO_BEHIND_TLS_PROXY")
# How many proxies append to X-Forwarded-For in front of the app (support_tools/proxy.py).
TRUSTED_PROXY_COUNT = _env_int("DJANGO_TRUSTED_PROXY_COUNT", 1)
if BEHIND_TLS_PROXY:
    # Only behind a proxy that sets this header itself (and overwrites a client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", SECURE)
SESSION_COOKIE_SECURE = _env_bool("DJANGO_SESSION_COOKIE_SECURE", SECURE)
CSRF_COOKIE_SECURE = _env_bool("DJANGO_CSRF_COOKIE_SECURE", SECURE)
SECURE_HSTS_SECONDS = _env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE)
SECURE_HSTS_PRELOAD = _env_bool("DJANGO_SECURE_HSTS_PRELOAD", SECURE)
# A staff session lasts a working day at most, and ends with the browser.
SESSION_COOKIE_AGE = _env_int("DJANGO_SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

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
    "axes",
    # The layers, bottom to top: the shared base, the playbooks' apps, the console.
    "support_tools",
    "support_tools.jobs",
    "accounts",
    "orgs",
    "enrollments",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "support_tools.doors.api.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out login itself.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: AXES_FAILURE_LIMIT bad logins lock the account (from any address), and
# lock the address (for any account), for AXES_COOLOFF_MINUTES; a good login resets the count.
AXES_FAILURE_LIMIT = _env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=_env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "support_tools.proxy.client_ip"

# No inline script anywhere (the admin has none since Django 4); inline styles are allowed
# (the admin's and Swagger UI's own).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

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
    # The tests' database is a file too, as the embedded default is: an in-memory database
    # shares one cache between connections, whose table locks fail at once ("database table
    # is locked") where a file's lock waits, so a worker thread and a request would collide.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_NAME") or str(VAR_DIR / "test_support_tools.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_ID = 1

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or VAR_DIR / "static")
# Production serves `collectstatic`'s output through WhiteNoise, with hashed names cached for a
# year; the demo and the tests serve the apps' files as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "support_tools.doors.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
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
    # ensure_amc_token and diagnose_amc_user. See README.md, Deploying.
    "oauth2_provider.W006",
]

# --- The public settings of shared/CONTRACT.md ---------------------------------------------
AMC_OAUTH_CLIENT_ID = os.environ.get("AMC_OAUTH_CLIENT_ID") or None
AMC_TOKEN_LIFETIME_DAYS = int(os.environ.get("AMC_TOKEN_LIFETIME_DAYS") or 366)
# The OAuth scopes of a new AMC token: the least the AMC needs unless the deployment says more.
AMC_TOKEN_SCOPES = os.environ.get("AMC_TOKEN_SCOPES") or "read"
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

# --- Input caps: more is refused with a 413 and a sentence, before any query ----------------
LINK_MAX_BYTES = int(os.environ.get("LINK_MAX_BYTES") or 20 * 1024 * 1024)
LINK_MAX_ROWS = int(os.environ.get("LINK_MAX_ROWS") or 200_000)

# --- Background jobs (Celery on Redis) ------------------------------------------------------
# A link sheet longer than this runs as a background job (shared/CONTRACT.md).
BULK_SYNC_LIMIT = int(os.environ.get("BULK_SYNC_LIMIT") or 2000)
# How many steps of a long link sheet run at once on PostgreSQL, each on its own connection
# (enrollments/linking/service.py, in_parallel); 1: one after the other.
LINK_WORKERS = int(os.environ.get("LINK_WORKERS") or 2)
JOB_TIME_LIMIT_SECONDS = int(os.environ.get("JOB_TIME_LIMIT_SECONDS") or 3600)
# Each bulk action's runner (support_tools.jobs.service), read when a job runs.
JOB_RUNNERS = {
    "link_program_enrollments": "enrollments.linking.jobs.run_link_job",
}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get(
    "REDIS_URL", "redis://127.0.0.1:6379/0"
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a long job must not hold others back
CELERY_TASK_ACKS_LATE = True
# A message not acknowledged within this is handed to another worker (its own died): longer
# than any job may run.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(
        os.environ.get("JOB_VISIBILITY_TIMEOUT_SECONDS") or JOB_TIME_LIMIT_SECONDS + 300
    )
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker keeps our logging (one masking handler) instead of installing its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Sweeps (issue 14): the platform-wide health check, console/sweeps/ ------------------------
# When Celery beat runs the sweep: a crontab in UTC ("minute hour day month weekday") or a
# number of seconds between runs ("3600", "30s").
SWEEP_SCHEDULE = os.environ.get("SWEEP_SCHEDULE") or "0 3 * * *"
# The rows a selector reads per batch; unset, each playbook's own (see its sweep.py).
SWEEP_BATCH_SIZE = int(os.environ.get("SWEEP_BATCH_SIZE") or 0) or None
# A sweep checking more learners and contracts than this runs as a background job when asked
# through the API or the Health page (the command runs it in the foreground).
SWEEP_IN_REQUEST_LIMIT = _env_int("SWEEP_IN_REQUEST_LIMIT", 20_000)
# Keycloak during the membership sweep: how many calls at once, and one deadline for them all.
SWEEP_KEYCLOAK_WORKERS = _env_int("SWEEP_KEYCLOAK_WORKERS", 4)
SWEEP_KEYCLOAK_DEADLINE_SECONDS = float(os.environ.get("SWEEP_KEYCLOAK_DEADLINE_SECONDS") or 600)
# The findings of this many latest sweeps are kept; older sweeps keep only their counts.
SWEEP_KEEP_FINDINGS = _env_int("SWEEP_KEEP_FINDINGS", 30)
# Mailed when a sweep finds more errors of a kind than the one before (Django's email backend).
SWEEP_NOTIFY_EMAILS = _env_list("SWEEP_NOTIFY_EMAILS")
JOB_RUNNERS["sweep"] = "console.sweeps.jobs.run_sweep_job"
# --- end of Sweeps ----------------------------------------------------------------------------
