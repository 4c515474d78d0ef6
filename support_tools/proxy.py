"""The client's address behind the TLS proxy, for login throttling (django-axes)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """Behind our proxies, the X-Forwarded-For entry the outermost trusted one appended (a
    client can prepend any address it likes, never append); otherwise the peer's address."""
    count = settings.TRUSTED_PROXY_COUNT if settings.BEHIND_TLS_PROXY else 0
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if count and len(hops) >= count:
        return hops[-count]
    return request.META.get("REMOTE_ADDR")
