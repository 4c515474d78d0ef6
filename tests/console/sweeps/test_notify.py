"""The mail when a sweep finds more errors of a kind than the previous sweep did."""

import pytest
from django.core import mail

from console.sweeps.notify import BODY, LINE, SUBJECT
from console.sweeps.service import run_sweep
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(settings, amc_app):
    settings.KEYCLOAK_SERVER_URL = None
    settings.SWEEP_NOTIFY_EMAILS = ["support-leads@example.org"]
    return OrganizationFactory(short_name="acme")


def admin_of(org, name):
    UserOrganizationMappingFactory(
        user=UserFactory(username=name), organization=org, is_amc_admin=True
    )


def sweep(system_actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return run_sweep(playbooks=["amc"], actor=system_actor)


def test_new_errors_are_mailed_once(acme, system_actor, django_capture_on_commit_callbacks):
    admin_of(acme, "ann")
    first = sweep(system_actor, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == SUBJECT.format(id=first.sweep_id, n=3)
    assert mail.outbox[0].to == ["support-leads@example.org"]

    sweep(system_actor, django_capture_on_commit_callbacks)  # nothing new
    assert len(mail.outbox) == 1

    admin_of(acme, "bob")
    third = sweep(system_actor, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    message = mail.outbox[1]
    assert message.subject == SUBJECT.format(id=third.sweep_id, n=3)
    lines = "\n".join(
        LINE.format(playbook="amc", code=code, before=1, now=2)
        for code in ("access_token_missing", "amc_account_missing", "site_mapping_missing")
    )
    assert lines in message.body and message.body.startswith(BODY.split("{when}")[0])


def test_no_recipients_no_mail(acme, settings, system_actor, django_capture_on_commit_callbacks):
    settings.SWEEP_NOTIFY_EMAILS = []
    admin_of(acme, "ann")
    sweep(system_actor, django_capture_on_commit_callbacks)
    assert mail.outbox == []
