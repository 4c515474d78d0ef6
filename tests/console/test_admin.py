"""The console's admin wiring: the user list's tool actions open one user's page, and refuse a
selection of several in plain words; the index links only the pages the person may open."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from console.admin import ONE_USER_AT_A_TIME
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _run(client, action, users):
    return client.post(
        reverse("admin:auth_user_changelist"),
        {"action": action, "_selected_action": [u.pk for u in users]},
    )


def test_one_selected_user_opens_their_tool_page(client, support_user):
    ann = UserFactory(username="ann")
    client.force_login(support_user)

    response = _run(client, "tool_console_learner", [ann])

    assert response.status_code == 302
    assert response["Location"] == reverse("support:console-learner", args=[ann.pk])


def test_several_selected_users_are_refused_and_nothing_opens(client, support_user):
    users = [UserFactory(username=name) for name in ("ann", "bob", "cy")]
    client.force_login(support_user)

    response = _run(client, "tool_ensure_amc_token", users)

    # Back on the user list (not a tool page), with the refusal saying why and what to do.
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:auth_user_changelist"))
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [ONE_USER_AT_A_TIME.format(label="Ensure AMC tokens", count=3)]
    page = client.get(response["Location"]).content.decode()
    assert "you selected 3 users, so nothing was done" in page


@pytest.mark.parametrize("who", ["support_user", "viewer_user"])
def test_the_index_links_the_health_page_for_those_who_may_open_it(client, request, who):
    client.force_login(request.getfixturevalue(who))
    health = reverse("support:health")

    index = client.get(reverse("admin:index")).content.decode()

    assert f'<a href="{health}">Platform health</a>' in index
    assert client.get(health).status_code == 200


def test_the_index_hides_the_health_page_from_those_it_would_refuse(client):
    staff = UserFactory(username="no-perms", is_staff=True)
    client.force_login(staff)

    index = client.get(reverse("admin:index"))

    assert index.status_code == 200 and "Platform health" not in index.content.decode()
    assert client.get(reverse("support:health")).status_code == 403
