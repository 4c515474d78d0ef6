from django.core.management.base import BaseCommand
from django.db import transaction

from console.demo import KEYCLOAK_SEEDERS, SEEDERS


class Command(BaseCommand):
    help = "Load demo data showing every playbook's broken cases (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--keycloak",
            action="store_true",
            help="Also seed the demo Keycloak named by the KEYCLOAK_* settings.",
        )

    def handle(self, *args, **options):
        seeders = [*SEEDERS, *(KEYCLOAK_SEEDERS if options["keycloak"] else [])]
        with transaction.atomic():
            for seed in seeders:
                seed()
                self.stderr.write(f"seeded: {seed.__name__.removeprefix('seed_')}")
