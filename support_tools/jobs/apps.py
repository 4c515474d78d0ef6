from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "support_tools.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
