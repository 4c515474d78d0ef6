"""The AMC playbook's admin pages: words, fix buttons that can work, the learner's organizations."""

import pytest
from django.urls import reverse

from orgs.amc.pages import NEW_TOKEN
from orgs.choices import NO_ORGANIZATION_TO_PICK
from tests.factories import (
    OrganizationFactory,
    SiteFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(db):
    ann = UserFactory(username="ann", email="ann@acme.example.edu")
    acme = OrganizationFactory(short_name="acme", name="Acme University")
    UserOrganizationMappingFactory(user=ann, organization=acme, is_amc_admin=True)
    OrganizationFactory(short_name="globex", name="Globex Corp")  # not hers
    return ann


def _url(name, user, **query):
    from django.utils.http import urlencode

    url = reverse(f"support:{name}", kwargs={"user_id": user.pk})
    return f"{url}?{urlencode(query)}" if query else url


def test_the_organization_is_picked_from_the_learners_own(client, support_user, ann):
    client.force_login(support_user)
    page = client.get(_url("ensure-amc-token", ann)).content.decode()
    assert '<select name="org"' in page
    assert '<option value="acme" selected>Acme University (acme)</option>' in page
    assert "globex" not in page
    nobody = UserFactory(username="nobody", email="nobody@nowhere.example")
    empty = client.get(_url("ensure-amc-admin", nobody)).content.decode()
    assert NO_ORGANIZATION_TO_PICK in empty


def test_the_token_preview_says_a_new_token_not_a_tail_apply_will_not_write(
    client, support_user, ann, amc_app
):
    client.force_login(support_user)
    url = _url("ensure-amc-token", ann)
    preview = client.get(url, {"org": "acme"})
    assert preview.context["result"]["access_token"]["token"] == NEW_TOKEN
    assert NEW_TOKEN in preview.content.decode()
    applied = client.post(url, {"org": "acme", "apply": "1"})
    assert applied.context["result"]["access_token"]["token"].startswith("…")  # the one written


def test_no_fix_button_beside_a_blocking_site_count(client, support_user, amc_app):
    two = UserFactory(username="two", email="two@globex.example.com")
    globex = OrganizationFactory(short_name="globex", sites=[SiteFactory(), SiteFactory()])
    UserOrganizationMappingFactory(user=two, organization=globex, is_amc_admin=True)
    client.force_login(support_user)
    page = client.get(_url("diagnose-amc-user", two)).content.decode()
    assert 'data-code="org_site_count"' in page and 'data-code="access_token_missing"' in page
    assert "fix-button" not in page
    assert "No fix offered: the repairs need the organization to have exactly one site." in page


def test_a_fix_leads_back_to_the_diagnosis(client, support_user, ann, amc_app):
    client.force_login(support_user)
    diagnosis = _url("diagnose-amc-user", ann)
    page = client.get(diagnosis)
    (fix,) = [
        p["fix_url"]
        for p in page.context["result"]["problems"]
        if p["fix_url"] and p["fix"] == "ensure_amc_token"
    ]
    assert fix.endswith("next=" + diagnosis.replace("/", "%2F"))
    assert "Renew the AMC tokens" in page.content.decode()
    applied = client.post(fix, {"org": "acme", "apply": "1", "next": diagnosis})
    body = applied.content.decode()
    assert f'id="back-link" href="{diagnosis}"' in body and "Back to the checklist" in body


def test_no_label_points_at_a_hidden_input(client, support_user, ann, amc_app):
    client.force_login(support_user)
    page = client.get(_url("diagnose-amc-user", ann)).content.decode()
    assert "Check:" not in page and 'for="id_check"' not in page
    assert 'type="hidden" name="check"' in page
