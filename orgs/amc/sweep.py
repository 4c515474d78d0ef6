"""The AMC playbook's platform-wide selector: every AMC admin (an active, AMC-admin organization
mapping) checked as `diagnose_amc_user` checks one, in batches of a constant number of queries.

It reports the problems of SWEEP_CODES with the diagnosis's own codes, messages and fixes (the
sweep's tests hold the two to the same answer on a generated population). The token check
against the LMS (`token_authenticates`) is the diagnosis's alone: it is one request per user.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.bulk import AmcTokenState, amc_token_states
from accounts.selectors import amc_application
from orgs.amc.diagnosis import FIX_ADMIN, FIX_TOKEN, MSG, _state
from orgs.models import Organization, UserOrganizationMapping, UserSiteMapping
from support_tools.errors import SupportError
from support_tools.results import Problem, error, format_when, warning
from support_tools.sweeps import DEFAULT_BATCH_SIZE, Finding, SweepStats, keyset_batches

PLAYBOOK = "amc"
SWEEP_CODES = frozenset(
    {
        "access_token_missing",
        "access_token_expired",
        "access_token_expiring_soon",
        "refresh_token_missing",
        "amc_account_missing",
        "amc_tokens_mismatch",
        "site_mapping_missing",
        "site_mapping_inactive",
        "org_site_count",
    }
)
# Each batch's queries cost about the same from 1,000 admins to 5,000: fewer, larger batches.
BATCH_SIZE = 5 * DEFAULT_BATCH_SIZE
# Said once for the whole platform rather than once per admin.
APP_MISSING_TARGET = "AMC_OAUTH_CLIENT_ID"


@dataclass(frozen=True, slots=True)
class _Mapping:
    org_id: int
    org: str
    is_active: bool
    is_amc_admin: bool


def find_problems(
    *,
    batch_size: int = BATCH_SIZE,
    stats: SweepStats | None = None,
    now: dt.datetime | None = None,
) -> Iterator[Finding]:
    now = now or timezone.now()
    stats = stats if stats is not None else SweepStats()
    application, missing = None, None
    try:
        application = amc_application()
    except SupportError as exc:
        missing = Finding.of(
            PLAYBOOK, error("amc_app_missing", exc.message), target=APP_MISSING_TARGET
        )
    for user_ids in keyset_batches(_admins_after, batch_size):
        if missing is not None:  # said once, and only where there are AMC admins
            yield missing
            missing = None
        stats.add("amc_admins", len(user_ids))
        yield from _check_batch(user_ids, application, now)


def size() -> int:
    """What a sweep of this playbook checks: its AMC-admin mappings (a cheap count)."""
    return UserOrganizationMapping.objects.filter(is_active=True, is_amc_admin=True).count()


def _admins_after(last: int, n: int) -> list[int]:
    return list(
        UserOrganizationMapping.objects.filter(is_active=True, is_amc_admin=True, user_id__gt=last)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()[:n]
    )


def _check_batch(user_ids: list[int], application: Any, now: dt.datetime) -> Iterator[Finding]:
    # the batch's range of ids, not a list of them: an index range scan, few parameters
    lo, hi = user_ids[0], user_ids[-1]
    span = {"user_id__gte": lo, "user_id__lte": hi}
    names: dict[int, str] = {}
    mappings: dict[int, list[_Mapping]] = defaultdict(list)
    rows = (
        UserOrganizationMapping.objects.filter(**span, is_amc_admin=True)
        .order_by("user_id", "organization__short_name")
        .values_list(
            "user_id",
            "user__username",
            "organization_id",
            "organization__short_name",
            "is_active",
            "is_amc_admin",
        )
    )
    for user_id, username, *fields in rows:
        names[user_id] = username
        mappings[user_id].append(_Mapping(*fields))
    org_ids = {m.org_id for ms in mappings.values() for m in ms}
    sites: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for org_id, site_id, domain in (
        Organization.sites.through.objects.filter(organization_id__in=org_ids)
        .order_by("site__domain")
        .values_list("organization_id", "site_id", "site__domain")
    ):
        sites[org_id].append((site_id, domain))
    site_mappings = {
        (user_id, site_id): (active, admin)
        for user_id, site_id, active, admin in UserSiteMapping.objects.filter(**span).values_list(
            "user_id", "site_id", "is_active", "is_amc_admin"
        )
    }
    tokens = amc_token_states(user_ids, application=application)
    for user_id in user_ids:
        name = names[user_id]
        admin_mappings = mappings[user_id]
        problems = [
            (m.org, p)
            for m in admin_mappings
            for p in _mapping_problems(name, m, sites[m.org_id], user_id, site_mappings)
        ]
        # a token problem is the learner's, not an organization's: its fix (ensure_amc_token)
        # runs with their first organization that has the one site the AMC needs
        usable = [m for m in admin_mappings if len(sites[m.org_id]) == 1] or admin_mappings
        first_org = usable[0].org
        token_problems = _token_problems(name, tokens[user_id], now, application is not None)
        problems += [(first_org, p) for p in token_problems]
        for org, problem in problems:
            yield Finding.of(
                PLAYBOOK,
                problem,
                target=org,
                user_id=user_id,
                username=name,
                organization=org,
            )


def _mapping_problems(
    name: str,
    mapping: _Mapping,
    sites: list[tuple[int, str]],
    user_id: int,
    site_mappings: dict[tuple[int, int], tuple[bool, bool]],
) -> list[Problem]:
    problems = []
    if len(sites) != 1:
        text = MSG["org_site_count"].format(org=mapping.org, count=len(sites))
        problems.append(error("org_site_count", text))
        return problems
    site_id, domain = sites[0]
    found = site_mappings.get((user_id, site_id))
    if found is None:
        text = MSG["site_mapping_missing"].format(user=name, org=mapping.org, site=domain)
        problems.append(error("site_mapping_missing", text, FIX_ADMIN))
    elif not all(found):
        state = _state(_SiteMapping(*found))
        text = MSG["site_mapping_inactive"].format(user=name, site=domain, state=state)
        problems.append(error("site_mapping_inactive", text, FIX_ADMIN))
    return problems


@dataclass(frozen=True, slots=True)
class _SiteMapping:
    is_active: bool
    is_amc_admin: bool


def _token_problems(
    name: str, state: AmcTokenState, now: dt.datetime, app_found: bool
) -> list[Problem]:
    """The diagnosis's `_check_tokens`, on the state read in bulk. Without the AMC application
    no token is checked (amc_app_missing says why), only the account."""
    problems = []
    newest = state.newest
    usable = newest if newest is not None and newest.expires > now else None
    refresh = None
    if not app_found:
        pass
    elif newest is None:
        problems.append(
            error("access_token_missing", MSG["access_token_missing"].format(user=name), FIX_TOKEN)
        )
    elif usable is None:
        text = MSG["access_token_expired"].format(user=name, expires=format_when(newest.expires))
        problems.append(error("access_token_expired", text, FIX_TOKEN))
    else:
        days = settings.AMC_TOKEN_WARN_DAYS
        if usable.expires - now < dt.timedelta(days=days):
            text = MSG["access_token_expiring_soon"].format(
                user=name, expires=format_when(usable.expires), days=days
            )
            problems.append(warning("access_token_expiring_soon", text))
        refresh = state.live_refresh
        if refresh is None:
            text = MSG["refresh_token_missing"].format(user=name)
            problems.append(error("refresh_token_missing", text, FIX_TOKEN))
    account = state.account
    if account is None:
        text = MSG["amc_account_missing"].format(user=name)
        problems.append(error("amc_account_missing", text, FIX_TOKEN))
    elif usable is not None:
        mismatched = []
        if account.access_token != usable.token:
            mismatched.append("access token")
        if refresh is None or account.refresh_token != refresh:
            mismatched.append("refresh token")
        if account.token_expires_at != usable.expires:
            mismatched.append("expiry")
        if account.token_type != "Bearer":
            mismatched.append(f"token type {account.token_type!r}")
        if mismatched:
            text = MSG["amc_tokens_mismatch"].format(user=name, detail=", ".join(mismatched))
            problems.append(error("amc_tokens_mismatch", text, FIX_TOKEN))
    return problems
