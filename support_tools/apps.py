from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_groups(sender, **kwargs):  # noqa: ANN001 - signal signature
    from django.apps import apps

    from support_tools.permissions import sync_support_groups

    sync_support_groups(kwargs.get("apps") or apps)


class SupportToolsConfig(AppConfig):
    name = "support_tools"
    verbose_name = "Support tools"

    def ready(self) -> None:
        post_migrate.connect(_sync_groups, sender=self, dispatch_uid="support_tools_sync_groups")
