"""The "Support" groups: view access to every model support needs, and the action permissions.

The groups are created by a data migration and kept in step after every `migrate`
(post_migrate), so models added by later migrations get their view permission too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from support_tools.models import ACTION_PERMISSIONS

SUPPORT_GROUP = "Support"
SUPPORT_LEADS_GROUP = "Support leads"

# The console's models (sweeps and their findings) are what its Health page already shows to
# anyone who may see users: reading them in the admin needs no more.
VIEW_APPS = ("accounts", "orgs", "enrollments", "support_tools", "jobs", "console")
EXTRA_VIEW_PERMISSIONS = (
    ("auth", "view_user"),
    ("sites", "view_site"),
    ("oauth2_provider", "view_application"),
)
# Commercial decisions are kept for leads.
LEADS_ONLY = {"run_add_contract_seats"}


@dataclass(frozen=True)
class ActionSpec:
    """A support action and the permissions it needs, declared once beside its service.

    `preview` lets an actor run a diagnosis or the dry run of a repair (view access: staff who
    may not apply a repair still see what it would do); `apply` (any one of them) lets an actor
    really run a repair. A diagnosis has no `apply`. The audit trail checks them
    (`support_action`) and the doors ask the same spec whether to offer Apply.
    Permissions are "app_label.codename"; a bare codename is one of support_tools'.
    """

    name: str
    preview: str
    apply: tuple[str, ...] = ()

    @property
    def mutating(self) -> bool:
        return bool(self.apply)

    def can_preview(self, actor: Any) -> bool:
        return actor.has_perm(self.preview)

    def can_apply(self, actor: Any) -> bool:
        return self.mutating and any(actor.has_perm(p) for p in self.apply)

    def allows(self, actor: Any, *, dry_run: bool) -> bool:
        return self.can_apply(actor) if self.mutating and not dry_run else self.can_preview(actor)


def sync_support_groups(apps: Any) -> None:
    """Idempotent. `apps` is a migration state's registry or django.apps.apps."""
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        # Migration states hold app stubs without a models module; create_permissions skips those.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original

    view = list(
        Permission.objects.filter(
            content_type__app_label__in=VIEW_APPS, codename__startswith="view_"
        )
    )
    for app_label, codename in EXTRA_VIEW_PERMISSIONS:
        view += list(
            Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        )
    actions = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="support_tools",
            codename__in=[c for c, _ in ACTION_PERMISSIONS],
        )
    }
    support, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    support.permissions.add(*view, *[p for c, p in actions.items() if c not in LEADS_ONLY])
    leads, _ = Group.objects.get_or_create(name=SUPPORT_LEADS_GROUP)
    leads.permissions.add(*view, *actions.values())
