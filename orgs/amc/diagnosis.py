"""diagnose_amc_user: every cause of the AMC "spinning wheel". Writes only its audit row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.selectors import (
    amc_account_of,
    amc_application,
    live_refresh_token,
    newest_access_token,
    resolve_user,
    token_authenticates,
)
from orgs.models import UserOrganizationMapping, UserSiteMapping
from support_tools.actors import Actor
from support_tools.audit import ident, support_action
from support_tools.errors import SupportError
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from support_tools.results import Diagnosis, Problem, error, format_when, warning

DIAGNOSE_AMC_USER = ActionSpec("diagnose_amc_user", preview="auth.view_user")

FIX_TOKEN = "ensure_amc_token"
FIX_ADMIN = "ensure_amc_admin"

MSG = {
    "no_organization": "{user} belongs to no organization, so the AMC has nothing to show.",
    "org_site_count": "The organization {org} has {count} sites; the AMC needs exactly one.",
    "org_mapping_inactive": "{user}'s membership of {org} is {state}.",
    "site_mapping_missing": "{user} has no mapping to {org}'s site {site}.",
    "site_mapping_inactive": "{user}'s mapping to the site {site} is {state}.",
    "access_token_missing": "{user} has no access token for the AMC application.",
    "access_token_expired": "{user}'s newest AMC access token expired on {expires}.",
    "access_token_expiring_soon": "{user}'s AMC access token expires on {expires}, within "
    "{days} days; it still works, and ensure_amc_token will replace it once it has expired.",
    "refresh_token_missing": "{user}'s AMC access token has no unrevoked refresh token.",
    "amc_account_missing": "{user} has no AMC account recording the tokens.",
    "amc_tokens_mismatch": "The tokens on {user}'s AMC account ({detail}) are not the usable "
    "token pair the LMS holds.",
}


@dataclass(frozen=True)
class AmcDiagnosis(Diagnosis):
    user: str
    organizations: tuple[str, ...]
    problems: tuple[Problem, ...]
    token_check: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "organizations": list(self.organizations),
            "token_check": self.token_check,
        }


def diagnose_amc_user(
    *, user: str | Any, actor: Actor, now: dt.datetime | None = None
) -> AmcDiagnosis:
    now = now or timezone.now()
    inputs = {"user": ident(user)}
    with support_action(DIAGNOSE_AMC_USER, actor=actor, inputs=inputs) as trail:
        user_obj = resolve_user(user)
        trail.about(user_obj)
        orgs, problems = _check_mappings(user_obj)
        token_problems, token_check = _check_tokens(user_obj, now)
        result = AmcDiagnosis(
            user=user_obj.username,
            organizations=tuple(orgs),
            problems=tuple(problems + token_problems),
            token_check=token_check,
        )
        trail.result = result.as_dict()
        trail.outcome = SupportAction.Outcome.OK if result.ok else SupportAction.Outcome.PROBLEMS
    return result


def _check_mappings(user: Any) -> tuple[list[str], list[Problem]]:
    name = user.username
    mappings = list(
        UserOrganizationMapping.objects.filter(user=user)
        .select_related("organization")
        .prefetch_related("organization__sites")
        .order_by("-is_amc_admin", "organization__short_name")
    )
    if not mappings:
        return [], [error("no_organization", MSG["no_organization"].format(user=name), FIX_ADMIN)]
    admin_mappings = [m for m in mappings if m.is_amc_admin] or mappings
    site_mappings = {m.site_id: m for m in UserSiteMapping.objects.filter(user=user)}
    problems: list[Problem] = []
    for mapping in admin_mappings:
        org = mapping.organization
        sites = list(org.sites.all())
        if len(sites) != 1:
            problems.append(
                error(
                    "org_site_count",
                    MSG["org_site_count"].format(org=org.short_name, count=len(sites)),
                )
            )
        if not (mapping.is_active and mapping.is_amc_admin):
            problems.append(
                error(
                    "org_mapping_inactive",
                    MSG["org_mapping_inactive"].format(
                        user=name, org=org.short_name, state=_state(mapping)
                    ),
                    FIX_ADMIN,
                )
            )
        for site in sites[:1] if len(sites) == 1 else []:
            site_mapping = site_mappings.get(site.pk)
            if site_mapping is None:
                problems.append(
                    error(
                        "site_mapping_missing",
                        MSG["site_mapping_missing"].format(
                            user=name, org=org.short_name, site=site.domain
                        ),
                        FIX_ADMIN,
                    )
                )
            elif not (site_mapping.is_active and site_mapping.is_amc_admin):
                problems.append(
                    error(
                        "site_mapping_inactive",
                        MSG["site_mapping_inactive"].format(
                            user=name, site=site.domain, state=_state(site_mapping)
                        ),
                        FIX_ADMIN,
                    )
                )
    return [m.organization.short_name for m in admin_mappings], problems


def _state(mapping: Any) -> str:
    parts = []
    if not mapping.is_active:
        parts.append("inactive")
    if not mapping.is_amc_admin:
        parts.append("not AMC admin")
    return " and ".join(parts)


def _check_tokens(user: Any, now: dt.datetime) -> tuple[list[Problem], dict[str, Any]]:
    name = user.username
    problems: list[Problem] = []
    usable = refresh = None
    try:
        application = amc_application()
    except SupportError as exc:
        problems.append(error("amc_app_missing", exc.message))
    else:
        usable, refresh = _check_lms_tokens(user, application, now, problems)

    account = amc_account_of(user)
    token_check: dict[str, Any] = {}
    if account is None:
        problems.append(
            error("amc_account_missing", MSG["amc_account_missing"].format(user=name), FIX_TOKEN)
        )
    else:
        mismatched = []
        if usable is None or account.access_token != usable.token:
            mismatched.append("access token")
        if refresh is None or account.refresh_token != refresh.token:
            mismatched.append("refresh token")
        if usable is not None and account.token_expires_at != usable.expires:
            mismatched.append("expiry")
        if account.token_type != "Bearer":
            mismatched.append(f"token type {account.token_type!r}")
        if mismatched and usable is not None:
            problems.append(
                error(
                    "amc_tokens_mismatch",
                    MSG["amc_tokens_mismatch"].format(user=name, detail=", ".join(mismatched)),
                    FIX_TOKEN,
                )
            )
        if account.access_token:
            authenticates, status = token_authenticates(account.access_token)
            token_check = {
                "endpoint": "/api/v1/me",
                "authenticates": authenticates,
                "status": status,
            }
    return problems, token_check


def _check_lms_tokens(
    user: Any, application: Any, now: dt.datetime, problems: list[Problem]
) -> tuple[AccessToken | None, RefreshToken | None]:
    name = user.username
    newest = newest_access_token(user=user, application=application)
    usable = newest if newest is not None and newest.expires > now else None
    refresh = None
    if newest is None:
        problems.append(
            error("access_token_missing", MSG["access_token_missing"].format(user=name), FIX_TOKEN)
        )
    elif usable is None:
        problems.append(
            error(
                "access_token_expired",
                MSG["access_token_expired"].format(user=name, expires=format_when(newest.expires)),
                FIX_TOKEN,
            )
        )
    else:
        warn_days = settings.AMC_TOKEN_WARN_DAYS
        if usable.expires - now < dt.timedelta(days=warn_days):
            problems.append(
                warning(
                    "access_token_expiring_soon",
                    MSG["access_token_expiring_soon"].format(
                        user=name, expires=format_when(usable.expires), days=warn_days
                    ),
                )
            )
        refresh = live_refresh_token(usable)
        if refresh is None:
            problems.append(
                error(
                    "refresh_token_missing",
                    MSG["refresh_token_missing"].format(user=name),
                    FIX_TOKEN,
                )
            )
    return usable, refresh
