"""Logs that never hold a whole secret, as text or as JSON lines, and one line per support action.

`logging_config()` is the LOGGING of the settings and gunicorn's `logconfig_dict`: every handler
carries `MaskSecrets`, which rewrites each record (message, traceback, extra fields) so that
anything shaped like a token or a secret keeps at most its last four characters.

This module imports nothing of Django's at import time: gunicorn's master loads it before
Django is set up.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from support_tools.secrets import mask_token

ACTIONS_LOGGER = "support_tools.actions"

_VALUE = r"[^\s&\"',;}\]]+"
_SECRET_KEYS = (
    r"access_token|refresh_token|id_token|token|client_secret|secret|password|passwd|code"
    r"|code_verifier|api_key|apikey|sessionid|csrftoken|csrfmiddlewaretoken"
)
# Base64 padding only at the end: "Bearer realm=api" is a challenge, not a credential.
_SCHEME_TOKEN = r"[A-Za-z0-9._~+/-]{8,}=*"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_RUN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])")

# (pattern, group holding the secret). Applied in order; the last one is the catch-all.
_RULES = [
    # "Authorization: Bearer x", 'HTTP_AUTHORIZATION': 'Token x', authorization=Basic x
    (
        re.compile(
            r"(?i)(\b(?:http_)?authorization[\"']?\s*[:=]\s*[\"']?(?:[A-Za-z]+\s+)?)"
            r"([^\s\"',;}]+)"
        ),
        2,
    ),
    (re.compile(rf"(?i)(\b(?:bearer|basic)\s+)({_SCHEME_TOKEN})"), 2),
    # "Token <key>" only when the key holds a digit: "Token expired" stays readable.
    (re.compile(rf"(?i)(\btoken\s+)((?=[A-Za-z0-9._~+/-]*\d){_SCHEME_TOKEN})"), 2),
    # access_token=..., password=... in query strings, form bodies and cookies.
    (re.compile(rf"(?i)(\b(?:{_SECRET_KEYS})=)({_VALUE})"), 2),
    # JSON and Python reprs: "refresh_token": "...", 'token': '...'
    (
        re.compile(
            rf"(?i)([\"'](?:{_SECRET_KEYS}|authorization)[\"']\s*:\s*[\"'])([^\"']+)(?=[\"'])"
        ),
        2,
    ),
]


def _random_looking(text: str) -> bool:
    if _UUID.fullmatch(text):
        return False  # identifiers (programs, codes' ids) stay readable
    has_digit = any(c.isdigit() for c in text)
    has_alpha = any(c.isalpha() for c in text)
    mixed_case = any(c.isupper() for c in text) and any(c.islower() for c in text)
    return (has_digit and has_alpha) or mixed_case


def mask_secrets(text: str) -> str:
    """`text` with every token- or secret-shaped value cut to its last four characters."""
    for pattern, group in _RULES:
        text = pattern.sub(lambda m, g=group: _replace(m, g), text)
    return _RUN.sub(lambda m: mask_token(m[0]) if _random_looking(m[0]) else m[0], text)


def _replace(match: re.Match[str], group: int) -> str:
    start, end = match.span(group)
    whole = match[0]
    offset = match.start()
    secret = match[group]
    if secret.startswith("…"):
        return whole  # already masked by an earlier rule
    return whole[: start - offset] + (mask_token(secret) or "") + whole[end - offset :]


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    return value


# The attributes every LogRecord has; anything else was passed in `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class MaskSecrets(logging.Filter):
    """Attached to every handler: rewrites the record before any formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: keep both parts, masked
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = mask_secrets(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        for key in set(vars(record)) - _STANDARD:
            setattr(record, key, _mask_value(getattr(record, key)))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's extra fields, and
    the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in sorted(set(vars(record)) - _STANDARD):
            entry[key] = getattr(record, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(*, level: str = "WARNING", fmt: str = "text") -> dict[str, Any]:
    """The whole logging configuration: one stderr handler, filtered, for every logger."""
    if fmt not in {"text", "json"}:
        raise ValueError(f"LOG_FORMAT must be 'text' or 'json', not {fmt!r}.")
    routed = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask_secrets": {"()": MaskSecrets}},
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"()": JsonFormatter},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["mask_secrets"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            # Django's and gunicorn's defaults give these loggers handlers of their own, without
            # the filter: configuring them here removes those, and their records reach ours.
            "django": {**routed, "level": "NOTSET"},
            "django.server": {**routed, "level": "INFO"},
            "gunicorn.error": {**routed, "level": "INFO"},
            "gunicorn.access": {**routed, "level": "INFO"},
            # redis-py gives this one a handler of its own unless it is already configured.
            "push_response": {**routed, "level": "INFO"},
            # One line per support action where logs are collected (json); a shell's stderr
            # keeps its one plain line per failure.
            ACTIONS_LOGGER: {**routed, "level": "INFO" if fmt == "json" else level.upper()},
        },
    }


def log_support_action(row: Any) -> None:
    """One line per saved `SupportAction`: who, what, outcome, door, its id. Never its inputs,
    changes or result (those stay in the audit trail)."""
    entry = {
        "id": row.pk,
        "action": row.action,
        "actor": row.actor_label,
        "actor_id": row.actor_id,
        "door": row.door,
        "outcome": row.outcome,
        "dry_run": row.dry_run,
        "subject_user_id": row.subject_user_id,
        "target": f"{row.target_type}#{row.target_id}" if row.target_type else None,
        "error": row.error or None,
    }
    logging.getLogger(ACTIONS_LOGGER).info(
        "support action %s: %s by %s via %s: %s%s",
        row.pk,
        row.action,
        row.actor_label,
        row.door,
        row.outcome,
        " (dry run)" if row.dry_run else "",
        extra={"support_action": entry},
    )
