"""The read: the local side of a learner's membership (the Keycloak side is read in the
diagnosis's and the repair's tests against the real server)."""

from __future__ import annotations

import pytest
from django.db import transaction

from orgs.membership.inspect import (
    KeycloakStatus,
    inspect_membership,
    lock_local,
    with_sessions,
)
from tests.factories import ContractFactory, UserFactory, UserOrganizationMappingFactory
from tests.orgs.membership.world import django_session_for

pytestmark = pytest.mark.django_db


def test_the_local_side_names_the_contracts_to_join_and_the_full_ones(no_keycloak, org, ann):
    joined = ContractFactory(organization=org, membership_type="managed", name="Joined")
    joined.learners.add(ann)
    ContractFactory(organization=org, membership_type="code", name="Codes")  # not placed by us
    open_one = ContractFactory(organization=org, membership_type="auto", name="Open")
    full = ContractFactory(organization=org, membership_type="managed", name="Full", max_learners=1)
    full.learners.add(UserFactory())

    state = inspect_membership(ann, org)

    assert state.keycloak_status == KeycloakStatus.NOT_CONTROLLED
    assert state.mapping is None and state.relogin_since is None
    assert [c.name for c in state.missing_contracts] == ["Full", "Open"]
    assert state.full_contracts == {full.pk} and state.joinable_contracts == (open_one,)
    assert state.local_sessions == ()  # read only when the repair ends them


def test_lock_local_reads_the_local_side_again(no_keycloak, org, ann):
    state = inspect_membership(ann, org)
    mapping = UserOrganizationMappingFactory(user=ann, organization=org)

    with transaction.atomic():
        locked = lock_local(state)

    assert state.mapping is None and locked.mapping == mapping
    assert locked.organization == org and locked.user == ann


def test_with_sessions_finds_the_learners_sessions_only(no_keycloak, org, ann):
    mine = django_session_for(ann)
    django_session_for(UserFactory())

    state = with_sessions(inspect_membership(ann, org))

    assert state.local_sessions == (mine,)
