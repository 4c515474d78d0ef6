"""Demo data showing every playbook's broken cases. Idempotent: re-running changes nothing.

Each app seeds its own models (accounts.demo, orgs.demo, enrollments.demo); the console adds the
staff accounts and says in which order they run.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

from accounts.demo import demo_user as _user
from enrollments.demo import seed_programs
from orgs.demo import seed_amc, seed_codes, seed_keycloak
from support_tools.permissions import SUPPORT_GROUP, SUPPORT_LEADS_GROUP


def seed_staff() -> None:
    admin = _user("admin", "admin@example.com", is_staff=True, is_superuser=True)
    if not admin.is_superuser:
        admin.is_staff = admin.is_superuser = True
        admin.save()
    support = _user("support", "support@example.com", is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    lead = _user("lead", "lead@example.com", is_staff=True)
    lead.groups.add(Group.objects.get(name=SUPPORT_LEADS_GROUP))


SEEDERS = [seed_staff, seed_amc, seed_codes, seed_programs]
# Seeders that also need the demo Keycloak (see scripts/demo.sh).
KEYCLOAK_SEEDERS = [seed_keycloak]
