"""Sweeps in the admin: the Support group reads them (what the Health page shows), and nobody
changes them there."""

import pytest
from django.urls import reverse

from console.sweeps.service import run_sweep
from support_tools.actors import Actor

pytestmark = pytest.mark.django_db


def test_support_reads_the_sweeps_and_each_opens_its_health_page(client, support_user):
    run_sweep(playbooks=["codes"], actor=Actor.for_user(support_user, door="admin"))
    client.force_login(support_user)

    index = client.get(reverse("admin:index")).content.decode()
    listing = client.get(reverse("admin:console_sweep_changelist"))

    assert reverse("admin:console_sweep_changelist") in index
    assert listing.status_code == 200
    assert f"{reverse('support:health')}?sweep=" in listing.content.decode()
    assert client.get(reverse("admin:console_sweep_add")).status_code == 403
