"""The AMC playbook in words: a title per problem code, a label per fix, and the problems that
stop a fix from working (the admin pages and the console show these; the JSON keeps the codes).
"""

from __future__ import annotations

from orgs.amc.diagnosis import FIX_ADMIN, FIX_TOKEN
from support_tools.doors.wording import Blocker, Wording

TITLES = {
    "amc_app_missing": "The AMC's OAuth application is missing",
    "no_organization": "Not in any organization",
    "org_site_count": "The organization does not have exactly one site",
    "org_mapping_inactive": "The organization membership is inactive or not AMC admin",
    "site_mapping_missing": "Not linked to the organization's site",
    "site_mapping_inactive": "The site link is inactive or not AMC admin",
    "access_token_missing": "No AMC access token",
    "access_token_expired": "The access token has expired",
    "access_token_expiring_soon": "The access token expires soon",
    "refresh_token_missing": "The access token has no refresh token",
    "amc_account_missing": "No AMC account",
    "amc_tokens_mismatch": "The AMC account holds other tokens than the LMS",
}

FIX_LABELS = {
    FIX_TOKEN: "Renew the AMC tokens",
    FIX_ADMIN: "Make AMC admin",
}

# Both repairs refuse an organization without exactly one site, and the token repair needs the
# AMC's OAuth application: offering them then would only lead to a refusal.
FIX_BLOCKED_BY = {
    "org_site_count": Blocker(
        frozenset({FIX_TOKEN, FIX_ADMIN}),
        "No fix offered: the repairs need the organization to have exactly one site. "
        "Correct the organization's sites first.",
    ),
    "amc_app_missing": Blocker(
        frozenset({FIX_TOKEN}),
        "No fix offered: new tokens need the AMC's OAuth application (AMC_OAUTH_CLIENT_ID). "
        "An administrator must set it up first.",
    ),
}

WORDING = Wording(TITLES, FIX_LABELS, FIX_BLOCKED_BY)
