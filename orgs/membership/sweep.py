"""The membership playbook's platform-wide selector: every Keycloak-controlled organization, its
members in Keycloak against its local memberships.

Which learners: per organization, those with an active local membership and those Keycloak lists
as members (matched by email, case-insensitively). For each, the sweep builds the same
`MembershipState` that `inspect_membership` reads for one learner, from Keycloak's answers read
once per organization (sweep_keycloak.py) and the local side read in batches of a constant
number of queries, and asks the playbook's own checklist (`problems_of`): the findings are the
diagnosis's problems, word for word, restricted to USER_CODES. The organization's own problems
(`sso_id_not_found`, `keycloak_unreachable`, `keycloak_not_configured`) are one finding per
organization, without a learner. An organization Keycloak did not answer for (down, slow, the
sweep's deadline) keeps the findings that need only the local side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models.functions import Lower

from orgs import keycloak
from orgs.membership.checks import problems_of
from orgs.membership.inspect import KeycloakStatus, MembershipState, contracts_to_join
from orgs.membership.sweep_keycloak import KeycloakReader, OrgRead
from orgs.models import Contract, Organization, UserOrganizationMapping
from support_tools.sweeps import Finding, SweepStats, chunks

PLAYBOOK = "membership"
USER_CODES = frozenset(
    {
        "keep_until_seen_off",
        "local_membership_missing",
        "keycloak_membership_missing",
        "contract_membership_missing",
        "password_blocks_idp",
    }
)
ORG_CODES = frozenset({"sso_id_not_found", "keycloak_unreachable", "keycloak_not_configured"})
SWEEP_CODES = USER_CODES | ORG_CODES
BATCH_SIZE = 500

User = get_user_model()


def find_problems(
    *,
    batch_size: int = BATCH_SIZE,
    stats: SweepStats | None = None,
    deadline_seconds: float | None = None,
    workers: int | None = None,
) -> Iterator[Finding]:
    stats = stats if stats is not None else SweepStats()
    orgs = list(
        Organization.objects.filter(sso_organization_id__isnull=False).order_by("short_name")
    )
    if not orgs:
        return
    holders = {org.pk: _active_holders(org) for org in orgs}
    if keycloak.is_configured():
        reader = KeycloakReader(
            deadline_seconds=deadline_seconds or settings.SWEEP_KEYCLOAK_DEADLINE_SECONDS,
            workers=workers or settings.SWEEP_KEYCLOAK_WORKERS,
        )
        emails = {pk: {email for _, email in found} for pk, found in holders.items()}
        reads = reader.read(orgs, emails)
        stats.add("keycloak_calls", reader.calls)
    else:
        unset = OrgRead(KeycloakStatus.NOT_CONFIGURED, keycloak.KEYCLOAK_NOT_CONFIGURED)
        reads = {org.pk: unset for org in orgs}
    for org in orgs:
        read = reads[org.pk]
        checked = read.status == KeycloakStatus.CHECKED
        stats.add("organizations_checked" if checked else "organizations_not_checked")
        if not checked:
            stats.notes.append(f"{org.short_name}: {read.detail}")
        yield from _org_findings(org, read, [pk for pk, _ in holders[org.pk]], batch_size, stats)


def size() -> int:
    """What a sweep of this playbook checks, roughly: the active local members of
    Keycloak-controlled organizations."""
    return UserOrganizationMapping.objects.filter(
        organization__sso_organization_id__isnull=False, is_active=True
    ).count()


def _active_holders(org: Organization) -> list[tuple[int, str]]:
    """(user id, lower-case email) of the organization's active local members."""
    return [
        (pk, (email or "").strip().lower())
        for pk, email in UserOrganizationMapping.objects.filter(organization=org, is_active=True)
        .order_by("user_id")
        .values_list("user_id", "user__email")
    ]


def _org_findings(
    org: Organization, read: OrgRead, holder_ids: list[int], batch_size: int, stats: SweepStats
) -> Iterator[Finding]:
    member_ids = frozenset(u.id for u in read.members.values())
    nobody = _state(_nobody(), org, read, member_ids, None, (), frozenset())
    for problem in problems_of(nobody):
        if problem.code in ORG_CODES:
            yield Finding.of(PLAYBOOK, problem, target=org.short_name, organization=org.short_name)
    users = set(holder_ids) | _member_user_ids(read, batch_size)
    stats.add("learners", len(users))
    to_join = list(contracts_to_join(org))
    seats = dict(
        Contract.learners.through.objects.filter(contract__in=to_join)
        .values("contract_id")
        .annotate(n=Count("pk"))
        .values_list("contract_id", "n")
    )
    full = frozenset(
        c.pk for c in to_join if c.max_learners and seats.get(c.pk, 0) >= c.max_learners
    )
    for chunk in chunks(sorted(users), batch_size):
        people = User.objects.filter(pk__in=chunk).only("pk", "username", "email", "last_login")
        mappings = {
            m.user_id: m
            for m in UserOrganizationMapping.objects.filter(organization=org, user_id__in=chunk)
        }
        joined: dict[int, set[int]] = {}
        for contract_id, user_id in Contract.learners.through.objects.filter(
            contract__in=to_join, user_id__in=chunk
        ).values_list("contract_id", "user_id"):
            joined.setdefault(user_id, set()).add(contract_id)
        for user in sorted(people, key=lambda u: u.pk):
            missing = tuple(c for c in to_join if c.pk not in joined.get(user.pk, ()))
            state = _state(user, org, read, member_ids, mappings.get(user.pk), missing, full)
            for problem in problems_of(state):
                if problem.code in USER_CODES:
                    yield Finding.of(
                        PLAYBOOK,
                        problem,
                        target=org.short_name,
                        user_id=user.pk,
                        username=user.username,
                        organization=org.short_name,
                    )


def _member_user_ids(read: OrgRead, batch_size: int) -> set[int]:
    """Local users whose email Keycloak lists among the organization's members."""
    found: set[int] = set()
    for emails in chunks(sorted(read.members), batch_size):
        found.update(
            User.objects.annotate(email_ci=Lower("email"))
            .filter(email_ci__in=emails)
            .values_list("pk", flat=True)
        )
    return found


def _state(
    user: Any,
    org: Organization,
    read: OrgRead,
    member_ids: frozenset[str],
    mapping: UserOrganizationMapping | None,
    missing: tuple[Contract, ...],
    full: frozenset[int],
) -> MembershipState:
    """What `inspect_membership` would read for this learner, from what the sweep read."""
    email = (user.email or "").strip().lower()
    kc_user = read.account_of(email) if email and read.target is not None else None
    return MembershipState(
        user=user,
        organization=org,
        email_domain=email.rpartition("@")[2] if "@" in email else "",
        local_domains=tuple(sorted({d.strip().lower() for d in org.email_domains})),
        keycloak_status=read.status,
        keycloak_detail=read.detail,
        kc_org=read.kc_org,
        candidates=read.candidates,
        kc_user=kc_user,
        identity_providers=read.identity_providers,
        passwords=read.passwords.get(kc_user.id, ()) if kc_user else (),
        kc_member=(kc_user.id in member_ids) if kc_user and read.target else None,
        mapping=mapping,
        missing_contracts=missing,
        full_contracts=frozenset(c.pk for c in missing if c.pk in full),
    )


def _nobody() -> Any:
    """The organization's own problems are said without a learner."""
    return User(username="", email="")
