"""Public reads of the enrollments app: what other apps (the console) may ask it.

They return plain values, never querysets or models of this app.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Lower

from enrollments.models import ProgramEnrollment


def _by_key(key: str) -> QuerySet[ProgramEnrollment]:
    # Lower() on both sides uses the linking index on lower(external_user_key).
    return ProgramEnrollment.objects.annotate(key_ci=Lower("external_user_key")).filter(
        key_ci=(key or "").strip().lower()
    )


def user_ids_with_external_key(key: str) -> list[int]:
    """The users whose program enrollments carry the external user key `key` (case-insensitive
    exact match, in any program). Unlinked enrollments have no user: they give nothing."""
    if not (key or "").strip():
        return []
    ids = _by_key(key).filter(user__isnull=False).values_list("user_id", flat=True)
    return sorted(set(ids))


def external_key_exists(key: str) -> bool:
    """Whether any program enrollment, linked or not, carries the external user key `key`
    (case-insensitive): lets the console say "that key exists but is not linked yet"."""
    if not (key or "").strip():
        return False
    return _by_key(key).exists()
