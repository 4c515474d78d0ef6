"""Writes about organizations: the AMC playbook (mappings and tokens).

Each public function is one whole support action: one transaction, one audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.sites.models import Site

from accounts import services as account_services
from accounts.selectors import resolve_user
from orgs.models import Organization, UserOrganizationMapping, UserSiteMapping
from orgs.selectors import resolve_organization
from support_tools.actors import Actor
from support_tools.audit import AuditTrail, ident, support_action
from support_tools.errors import USER_INACTIVE, ErrorKind, SupportError
from support_tools.permissions import ActionSpec
from support_tools.results import Repair
from support_tools.secrets import mask_token

# Staff who may see users may see what a repair would do; applying needs its own permission.
ENSURE_AMC_TOKEN = ActionSpec(
    "ensure_amc_token", preview="auth.view_user", apply=("run_ensure_amc_token",)
)
ENSURE_AMC_ADMIN = ActionSpec(
    "ensure_amc_admin", preview="auth.view_user", apply=("run_ensure_amc_admin",)
)

STAFF_ACCOUNT_REFUSED = (
    "{user} is a staff or superuser account: an AMC token would act with its powers on the LMS. "
    "Only staff holding the permission orgs.amc_for_staff_accounts may do this."
)
NOT_AN_ORG_ADMIN = (
    "Nothing ties {user} to {org}: their email domain {domain!r} is not among the "
    "organization's email domains ({domains}) and they hold no membership of it. An AMC admin "
    "is an administrator of the organization; check the account, or record the domain first."
)
STAFF_PERMISSION = "orgs.amc_for_staff_accounts"

ORG_SITE_COUNT = (
    "The organization {org} has {count} sites; the AMC needs exactly one. "
    "Give the organization exactly one site first."
)


@dataclass(frozen=True)
class MappingOutcome:
    organization_mapping: str  # "created", "updated" or "unchanged"
    site_mapping: str

    @property
    def changed(self) -> bool:
        return (self.organization_mapping, self.site_mapping) != ("unchanged", "unchanged")

    def as_dict(self) -> dict[str, str]:
        return {"organization": self.organization_mapping, "site": self.site_mapping}


@dataclass(frozen=True)
class EnsureAmcTokenResult(Repair):
    user: str
    organization: str
    dry_run: bool
    mappings: MappingOutcome
    access_token_created: bool
    access_token_expires: str
    access_token_last4: str | None
    refresh_token_created: bool
    amc_account_updated: bool

    @property
    def changed(self) -> bool:
        return (
            self.mappings.changed
            or self.access_token_created
            or self.refresh_token_created
            or self.amc_account_updated
        )

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "organization": self.organization,
            "mappings": self.mappings.as_dict(),
            "access_token": {
                "created": self.access_token_created,
                "expires": self.access_token_expires,
                "token": self.access_token_last4,
            },
            "refresh_token": {"created": self.refresh_token_created},
            "amc_account": {"updated": self.amc_account_updated},
        }


@dataclass(frozen=True)
class EnsureAmcAdminResult(Repair):
    user: str
    organization: str
    dry_run: bool
    mappings: MappingOutcome

    @property
    def changed(self) -> bool:
        return self.mappings.changed

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "organization": self.organization,
            "mappings": self.mappings.as_dict(),
        }


def ensure_amc_token(
    *, user: str | Any, organization: str | Organization, actor: Actor, dry_run: bool = False
) -> EnsureAmcTokenResult:
    """The spinning-wheel repair: mappings exist, a usable token pair exists, and the user's
    AmcAccount holds exactly that pair."""
    inputs = {"user": ident(user), "organization": ident(organization)}
    with support_action(ENSURE_AMC_TOKEN, actor=actor, inputs=inputs, dry_run=dry_run) as trail:
        user_obj, org, site = _playbook_subjects(user, organization, trail, actor)
        account_services.lock_user(user_obj)
        mappings = _ensure_mappings(user_obj, org, site, trail, admin=False)
        tokens = account_services.ensure_amc_tokens(user=user_obj)
        trail.record(tokens.changes)
        result = EnsureAmcTokenResult(
            user=user_obj.username,
            organization=org.short_name,
            dry_run=dry_run,
            mappings=mappings,
            access_token_created=tokens.access_created,
            access_token_expires=tokens.access_token.expires.isoformat(),
            # A dry run rolls its new token back: there is no token to show the end of.
            access_token_last4=None
            if dry_run and tokens.access_created
            else mask_token(tokens.access_token.token),
            refresh_token_created=tokens.refresh_created,
            amc_account_updated=tokens.account_updated,
        )
        trail.result = result.as_dict()
    return result


def ensure_amc_admin(
    *, user: str | Any, organization: str | Organization, actor: Actor, dry_run: bool = False
) -> EnsureAmcAdminResult:
    """Organization and site mappings exist, are active and AMC-admin."""
    inputs = {"user": ident(user), "organization": ident(organization)}
    with support_action(ENSURE_AMC_ADMIN, actor=actor, inputs=inputs, dry_run=dry_run) as trail:
        user_obj, org, site = _playbook_subjects(user, organization, trail, actor)
        account_services.lock_user(user_obj)
        mappings = _ensure_mappings(user_obj, org, site, trail, admin=True)
        result = EnsureAmcAdminResult(
            user=user_obj.username, organization=org.short_name, dry_run=dry_run, mappings=mappings
        )
        trail.result = result.as_dict()
    return result


def _require_may_be_amc_admin(user: Any, org: Organization, actor: Actor) -> None:
    """Least privilege: the AMC user is an administrator of the organization, matched by email
    domain (or already a member of it), and never a staff or superuser account unless the actor
    was explicitly granted that."""
    if (user.is_staff or user.is_superuser) and not actor.has_perm(STAFF_PERMISSION):
        raise SupportError(
            STAFF_ACCOUNT_REFUSED.format(user=user.username), kind=ErrorKind.PERMISSION
        )
    domain = (user.email or "").rpartition("@")[2].strip().lower()
    domains = {d.strip().lower() for d in org.email_domains or []}
    if domain and domain in domains:
        return
    if UserOrganizationMapping.objects.filter(user=user, organization=org).exists():
        return
    raise SupportError(
        NOT_AN_ORG_ADMIN.format(
            user=user.username,
            org=org.short_name,
            domain=domain,
            domains=", ".join(sorted(domains)) or "none recorded",
        ),
        kind=ErrorKind.CONFLICT,
    )


def _playbook_subjects(
    user: Any, organization: Any, trail: AuditTrail, actor: Actor
) -> tuple[Any, Organization, Site]:
    user_obj = resolve_user(user)
    trail.about(user_obj)
    org = resolve_organization(organization)
    trail.about(target=org)
    if not user_obj.is_active:
        raise SupportError(USER_INACTIVE.format(user=user_obj.username), kind=ErrorKind.CONFLICT)
    sites = list(org.sites.all()[:3])
    if len(sites) != 1:
        raise SupportError(
            ORG_SITE_COUNT.format(org=org.short_name, count=org.sites.count()),
            kind=ErrorKind.CONFLICT,
        )
    _require_may_be_amc_admin(user_obj, org, actor)
    return user_obj, org, sites[0]


def _ensure_mappings(
    user: Any, org: Organization, site: Site, trail: AuditTrail, *, admin: bool
) -> MappingOutcome:
    wanted = {"is_active": True, "is_amc_admin": True} if admin else {}
    org_outcome = _ensure_row(
        UserOrganizationMapping, {"user": user, "organization": org}, wanted, trail
    )
    site_outcome = _ensure_row(UserSiteMapping, {"user": user, "site": site}, wanted, trail)
    return MappingOutcome(org_outcome, site_outcome)


def _ensure_row(model: Any, key: dict[str, Any], wanted: dict[str, Any], trail: AuditTrail) -> str:
    row = model.objects.select_for_update().filter(**key).first()
    if row is None:
        row = model.objects.create(**key, **wanted)
        trail.created(row, {**key, **{f: getattr(row, f) for f in ("is_active", "is_amc_admin")}})
        return "created"
    return "updated" if trail.update(row, wanted) else "unchanged"
