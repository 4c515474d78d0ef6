"""Who runs an action, and through which door. Services take an `actor`."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError


@dataclass(frozen=True)
class Actor:
    label: str
    door: str
    user: AbstractBaseUser | None = None

    @classmethod
    def for_user(cls, user: AbstractBaseUser, *, door: str) -> Actor:
        return cls(label=user.get_username(), door=door, user=user)

    @classmethod
    def system(cls, name: str) -> Actor:
        """A named system actor: an engineer with shell access, trusted like a superuser."""
        try:
            who = getpass.getuser()
        except Exception:  # noqa: BLE001 - no passwd entry in some containers
            who = "unknown"
        return cls(label=f"{name} (shell user {who})", door="command")

    def has_perm(self, perm: str) -> bool:
        """`perm` is "app_label.codename"; a bare codename means one of support_tools'."""
        if self.user is None:
            return True
        if "." not in perm:
            perm = f"support_tools.{perm}"
        return bool(self.user.is_active and self.user.has_perm(perm))

    def require(self, perm: str, *, action: str) -> None:
        if not self.has_perm(perm):
            raise SupportError(PERMISSION_DENIED.format(action=action), kind=ErrorKind.PERMISSION)
