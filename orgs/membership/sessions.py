"""A user's local (Django) sessions.

The database session backend keeps no index by user, so finding a user's sessions reads every
unexpired session in batches and decodes it. That is a scan, acceptable for a support action run
by hand; a busy site with a cache or signed-cookie backend has nothing to scan (then `[]`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

DB_BACKENDS = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def session_keys_of(user: Any) -> list[str]:
    if settings.SESSION_ENGINE not in DB_BACKENDS:
        return []
    wanted = str(user.pk)
    keys = []
    unexpired = Session.objects.filter(expire_date__gt=timezone.now()).order_by("pk")
    for session in unexpired.iterator(chunk_size=500):
        if str(session.get_decoded().get(SESSION_KEY)) == wanted:
            keys.append(session.session_key)
    return keys


def delete_sessions(keys: list[str]) -> int:
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db":
        from django.contrib.sessions.backends.cached_db import SessionStore

        for key in keys:
            SessionStore(session_key=key).delete()
        return len(keys)
    return Session.objects.filter(session_key__in=keys).delete()[0]
