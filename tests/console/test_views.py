"""The console's admin door: the search and the learner's page, in words, with their history."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from console.search import KEY_NOT_LINKED
from orgs.amc.services import ensure_amc_admin
from support_tools.actors import Actor
from support_tools.models import SupportAction, SupportActionLearner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _page(client, user, **query):
    response = client.get(reverse("support:console-learner", args=[user.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def test_console_pages(mat, client, support_user):
    client.force_login(support_user)
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("support:console") in index
    found = client.get(reverse("support:console"), {"q": "mat@example.com"})
    assert found.status_code == 302
    page = client.get(found["Location"]).content.decode()
    assert 'id="section-amc"' in page and 'data-code="access_token_missing"' in page
    assert "Renew the AMC tokens" in page and ">ensure_amc_token</code>" in page
    nothing = client.get(reverse("support:console"), {"q": "nobody-here"})
    assert "Nobody matches" in nothing.content.decode()


def test_console_needs_view_access(mat, client):
    staff = UserFactory(username="no-perms", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("support:console-learner", args=[mat.pk])).status_code == 403


def test_the_page_speaks_words_and_keeps_codes_small(mat, client, support_user):
    client.force_login(support_user)
    page = _page(client, mat)
    assert "No AMC access token" in page  # the title
    assert '<code class="code-name">access_token_missing</code>' in page  # for engineers
    assert "The “Renew the AMC tokens” button above fixes this too." in page
    assert "<pre>" not in page and "{&quot;" not in page  # details are fields, not JSON
    assert "<dt>Organizations</dt><dd>acme</dd>" in page
    assert "last login: never" in page


def test_history_rows_open_their_detail_and_previews_wait_behind_a_toggle(
    mat, client, support_user
):
    actor = Actor.for_user(support_user, door="admin")
    ensure_amc_admin(user=mat, organization="acme", actor=actor, dry_run=True)
    ensure_amc_admin(user=mat, organization="acme", actor=actor)
    real = SupportAction.objects.get(action="ensure_amc_admin", dry_run=False)
    preview = SupportAction.objects.get(action="ensure_amc_admin", dry_run=True)
    client.force_login(support_user)

    page = _page(client, mat)
    real_url = reverse("admin:support_tools_supportaction_change", args=[real.pk])
    preview_url = reverse("admin:support_tools_supportaction_change", args=[preview.pk])
    assert real_url in page and preview_url not in page
    assert "Make AMC admin" in page and "Show previews and checks" in page
    assert client.get(real_url).status_code == 200  # the row's detail, read-only

    shown = _page(client, mat, previews="1")
    assert preview_url in shown and "Hide previews and checks" in shown
    assert f"{reverse('admin:support_tools_supportaction_changelist')}?learner=mat" in page


def test_a_bulk_run_that_touched_the_learner_is_in_their_history(mat, client, support_user):
    run = SupportAction.objects.create(
        actor_label="support-sam",
        door="admin",
        action="link_program_enrollments",
        outcome=SupportAction.Outcome.CHANGED,
    )
    SupportActionLearner.objects.create(action=run, user=mat, key="ACME-0099", outcome="relinked")
    client.force_login(support_user)
    page = _page(client, mat)
    assert 'data-action="link_program_enrollments"' in page and "bulk run" in page


def test_a_user_with_nothing_sees_why_the_amc_was_not_checked(amc_app, client, support_user):
    nobody = UserFactory(username="amc-no-org")
    client.force_login(support_user)
    page = _page(client, nobody)
    assert 'id="section-amc" data-status="not_checked"' in page
    assert "Not an AMC admin: no organization, no AMC account, no AMC token." in page
    assert "Diagnose AMC anyway" in page


def test_search_says_what_it_did_not_list(client, support_user):
    from enrollments.models import ProgramEnrollment

    ProgramEnrollment.objects.create(
        external_user_key="ACME-0500",
        program_uuid="6f1e4f5a-0000-4000-8000-000000000001",
        curriculum_uuid="6f1e4f5a-0000-4000-8000-000000000002",
        status="enrolled",
    )
    for n in range(21):
        UserFactory(username=f"pat{n:02}", email=f"pat{n:02}@uni.example")
    client.force_login(support_user)
    url = reverse("support:console")
    many = client.get(url, {"q": "uni.example"}).content.decode()
    assert "More than 20 people match" in many and many.count("uni.example</td>") == 20
    key = client.get(url, {"q": "ACME-0500"}).content.decode()
    assert escape(KEY_NOT_LINKED.format(query="ACME-0500")) in key
    assert "Nobody matches" not in key
    nul = client.get(url + "?q=%00").content.decode()
    assert "the text holds an invisible control character (U+0000)" in nul
    assert 'id="console-results"' not in nul
