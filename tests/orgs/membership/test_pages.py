"""The org-membership playbook's admin pages: the checklist, the previewed and confirmed repair,
and the organization membership admin's link and action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from orgs.membership import REPAIR_STOPPED
from orgs.models import UserOrganizationMapping
from support_tools.errors import PERMISSION_DENIED
from support_tools.models import SupportAction
from tests.factories import (
    ContractFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(no_keycloak):
    org = OrganizationFactory(short_name="local", name="Local College", email_domains=["local.edu"])
    ContractFactory(organization=org, membership_type="managed", name="Managed")
    return org


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", email="ann@local.edu")


def test_user_page_links_to_the_diagnosis_with_fix_buttons(org, ann, client, support_user):
    client.force_login(support_user)
    page = client.get(reverse("admin:auth_user_change", args=[ann.pk]))
    url = reverse("support:diagnose-org-membership", kwargs={"user_id": ann.pk})
    assert url.encode() in page.content

    form = client.get(url)
    assert form.status_code == 200 and b'name="org"' in form.content

    checklist = client.get(url, {"org": "local"}).content.decode()
    assert 'data-code="local_membership_missing"' in checklist
    repair = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})
    assert f"{repair}?org=local&amp;fix=create_local_membership" in checklist


def test_fix_button_previews_then_applies_on_confirmation(org, ann, client, support_user):
    client.force_login(support_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})

    preview = client.get(url, {"org": "local", "fix": "create_local_membership"})
    body = preview.content.decode()
    assert 'id="apply-button"' in body and "would_do" in body
    assert not UserOrganizationMapping.objects.exists()

    applied = client.post(url, {"org": "local", "fix": "create_local_membership", "apply": "1"})
    assert "Done: changes applied." in applied.content.decode()
    assert UserOrganizationMapping.objects.filter(user=ann, organization=org).exists()
    row = SupportAction.objects.filter(action="repair_org_membership", dry_run=False).get()
    assert row.actor == support_user and row.door == "admin"


def test_viewer_sees_the_membership_dry_run_and_no_apply_button(org, ann, client, viewer_user):
    client.force_login(viewer_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})
    assert (
        client.get(
            reverse("support:diagnose-org-membership", kwargs={"user_id": ann.pk}), {"org": "local"}
        ).status_code
        == 200
    )

    preview = client.get(url, {"org": "local"})

    body = preview.content.decode()
    assert preview.status_code == 200 and 'id="apply-button"' not in body
    assert "Dry run: nothing has been written yet" in body and 'class="status-would_do"' in body
    assert "applying it needs the permission run_repair_org_membership" in body
    assert "You do not have the permission to run" not in body
    row = SupportAction.objects.get(action="repair_org_membership")
    assert row.dry_run and row.actor == viewer_user and row.outcome == "changed"
    assert not UserOrganizationMapping.objects.exists()


def test_viewers_post_of_apply_is_refused_and_audited(org, ann, client, viewer_user):
    client.force_login(viewer_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})

    assert client.post(url, {"org": "local", "apply": "1"}).status_code == 403

    assert not UserOrganizationMapping.objects.exists()
    row = SupportAction.objects.get(action="repair_org_membership")
    assert (row.actor, row.door, row.dry_run) == (viewer_user, "admin", False)
    assert row.outcome == "failed" and row.inputs["user"] == "ann"
    assert row.error == PERMISSION_DENIED.format(action="repair_org_membership")


def test_keycloak_repairer_may_apply(org, ann, client, viewer_user):
    viewer_user.user_permissions.add(
        Permission.objects.get(codename="run_repair_keycloak_membership")
    )
    client.force_login(viewer_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": ann.pk})
    assert 'id="apply-button"' in client.get(url, {"org": "local"}).content.decode()


def test_mapping_admin_links_and_action_lead_to_the_diagnosis(org, ann, client, support_user):
    mapping = UserOrganizationMappingFactory(user=ann, organization=org)
    other = UserOrganizationMappingFactory(organization=org)
    client.force_login(support_user)
    changelist = reverse("admin:orgs_userorganizationmapping_changelist")
    url = reverse("support:diagnose-org-membership", kwargs={"user_id": ann.pk})

    assert f"{url}?org=local".encode() in client.get(changelist).content

    response = client.post(
        changelist, {"action": "diagnose_membership", "_selected_action": [mapping.pk]}
    )
    assert response.status_code == 302 and response["Location"] == f"{url}?org=local"
    several = client.post(
        changelist,
        {"action": "diagnose_membership", "_selected_action": [mapping.pk, other.pk]},
        follow=True,
    )
    assert "Choose the memberships of one learner" in several.content.decode()


def test_unknown_user_id_is_an_error_message(org, client, support_user):
    client.force_login(support_user)
    url = reverse("support:diagnose-org-membership", kwargs={"user_id": 999999})
    assert "No user has the id 999999." in client.get(url, {"org": "local"}).content.decode()


@pytest.mark.keycloak
def test_a_repair_keycloak_stops_part_way_is_an_error_message(
    stopped_part_way, client, support_user
):
    kc_org, org, learner = stopped_part_way
    client.force_login(support_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": learner.user.pk})

    page = client.post(url, {"org": org.short_name, "apply": "1"}).content.decode()

    assert REPAIR_STOPPED.split("{")[0] + "end_sessions" in page
    assert "Nothing needed changing." not in page and "Done: changes applied." not in page
    row = SupportAction.objects.get(action="repair_org_membership")
    assert row.door == "admin" and row.outcome == "failed"
    assert len(row.changes) == 1 and "added the user" in row.changes[0]["external"]


def test_the_organization_is_picked_from_the_learners_own_and_fixes_read_as_words(
    client, support_user
):
    from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

    lea = UserFactory(username="lea-words", email="lea@uni.example")
    uni = OrganizationFactory(short_name="uni", name="Uni")
    UserOrganizationMappingFactory(user=lea, organization=uni)
    OrganizationFactory(short_name="elsewhere")
    client.force_login(support_user)
    url = reverse("support:repair-org-membership", kwargs={"user_id": lea.pk})
    page = client.get(url).content.decode()
    assert '<option value="uni"' in page and "elsewhere" not in page
    assert '<option value="delete_password">Delete the Keycloak password</option>' in page
    # A link naming another organization still opens on it.
    named = client.get(url, {"org": "elsewhere"}).content.decode()
    assert '<option value="elsewhere" selected>' in named
