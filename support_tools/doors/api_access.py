"""Who may call the REST API. Its own module: DRF imports its DEFAULT_PERMISSION_CLASSES while
`rest_framework.views` is still loading, so this must not import that module."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

STAFF_ONLY = "Only active staff accounts may use the Support Tools API."


class IsActiveStaff(BasePermission):
    """The API is for support staff: an active account with `is_staff`. What each action
    allows is then the service's own permission check (ActionSpec)."""

    message = STAFF_ONLY

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)
