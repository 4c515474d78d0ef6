"""Set up the local Keycloak started by scripts/keycloak.sh: idempotent, run with the master admin.

Creates the realm (organizations enabled), an OIDC identity provider linked to the organization
"Acme University" (domain acme.test), a second organization without one ("Beta College",
beta.test), the confidential client whose service account the support tools use (with the
least realm-management roles they need: see orgs/README-keycloak.md), a public client that
tests use to sign learners in (direct grants), and two learners:
ann@acme.test (a member of Acme with a password, which blocks the identity provider) and
bob@beta.test (not a member of Beta). With --demo, also "Gamma Institute" (gamma.test) and its
member carol@gamma.test.

Prints `export KEY=VALUE` lines on stdout (the realm, client id and secret, the organization ids);
everything else goes to stderr.

    KEYCLOAK_ADMIN_USER=admin KEYCLOAK_ADMIN_PASSWORD=... \
        .venv/bin/python scripts/keycloak_setup.py --server-url http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys

from keycloak import KeycloakAdmin

REALM = "support-tools"
CLIENT_ID = "support-tools"
LOGIN_CLIENT_ID = "support-tools-login"
# What the gateway needs, and no more (measured against Keycloak 26.4):
#   view-users   find users, read their credentials and sessions
#   manage-users delete a password credential, end a user's sessions
#   manage-realm read organizations, their identity providers and members; add a member
#                (Keycloak 26 guards every organization endpoint with manage-realm)
SERVICE_ACCOUNT_ROLES = ("view-users", "manage-users", "manage-realm")
IDP_ALIAS = "acme-idp"
ORGS = [
    {"name": "Acme University", "alias": "acme", "domain": "acme.test", "idp": IDP_ALIAS},
    {"name": "Beta College", "alias": "beta", "domain": "beta.test", "idp": None},
]
USERS = [
    {"username": "ann", "email": "ann@acme.test", "password": "ann-password", "org": "acme"},
    {"username": "bob", "email": "bob@beta.test", "password": None, "org": None},
]
# --demo adds an organization that the demo's local data names with a wrong SSO id
# (sso_id_not_found, fixed by correct_sso_id), and its learner.
DEMO_ORGS = [{"name": "Gamma Institute", "alias": "gamma", "domain": "gamma.test", "idp": None}]
DEMO_USERS = [
    {"username": "carol", "email": "carol@gamma.test", "password": None, "org": "gamma"},
]


def log(message: str) -> None:
    print(f"keycloak_setup: {message}", file=sys.stderr)


def admin_client(server_url: str) -> KeycloakAdmin:
    return KeycloakAdmin(
        server_url=server_url,
        username=os.environ.get("KEYCLOAK_ADMIN_USER", "admin"),
        password=os.environ["KEYCLOAK_ADMIN_PASSWORD"],
        realm_name="master",
        user_realm_name="master",
        timeout=30,
    )


def ensure_realm(kc: KeycloakAdmin, realm: str) -> None:
    if not any(r["realm"] == realm for r in kc.get_realms()):
        kc.create_realm({"realm": realm, "enabled": True, "organizationsEnabled": True})
        log(f"created realm {realm}")
    else:
        kc.update_realm(realm, {"organizationsEnabled": True})
    kc.change_current_realm(realm)


def ensure_idp(kc: KeycloakAdmin, alias: str) -> None:
    if any(i["alias"] == alias for i in kc.get_idps()):
        return
    # A stand-in upstream: nobody signs in through it here; it only has to exist and be linked.
    kc.create_idp(
        {
            "alias": alias,
            "providerId": "oidc",
            "enabled": True,
            "config": {
                "clientId": "upstream-client",
                "clientSecret": "upstream-secret",
                "authorizationUrl": "http://127.0.0.1:9/authorize",
                "tokenUrl": "http://127.0.0.1:9/token",
                "clientAuthMethod": "client_secret_post",
            },
        }
    )
    log(f"created identity provider {alias}")


def ensure_org(kc: KeycloakAdmin, spec: dict) -> str:
    found = [
        o for o in kc.get_organizations({"search": spec["name"]}) if o["alias"] == spec["alias"]
    ]
    if found:
        org_id = found[0]["id"]
    else:
        kc.create_organization(
            {
                "name": spec["name"],
                "alias": spec["alias"],
                "enabled": True,
                "domains": [{"name": spec["domain"], "verified": False}],
            }
        )
        org_id = [
            o for o in kc.get_organizations({"search": spec["name"]}) if o["alias"] == spec["alias"]
        ][0]["id"]
        log(f"created organization {spec['name']} ({org_id})")
    if spec["idp"] and not any(i["alias"] == spec["idp"] for i in kc.get_organization_idps(org_id)):
        kc.organization_idp_add(org_id, spec["idp"])
    return org_id


def ensure_clients(kc: KeycloakAdmin, secret: str) -> None:
    client_uuid = kc.get_client_id(CLIENT_ID)
    representation = {
        "clientId": CLIENT_ID,
        "name": "Support tools (service account)",
        "enabled": True,
        "publicClient": False,
        "serviceAccountsEnabled": True,
        "standardFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "secret": secret,
    }
    if client_uuid is None:
        kc.create_client(representation)
        client_uuid = kc.get_client_id(CLIENT_ID)
    else:
        kc.update_client(client_uuid, representation)
    account = kc.get_client_service_account_user(client_uuid)
    realm_management = kc.get_client_id("realm-management")
    held = {r["name"] for r in kc.get_client_roles_of_user(account["id"], realm_management)}
    missing = [
        kc.get_client_role(realm_management, n) for n in SERVICE_ACCOUNT_ROLES if n not in held
    ]
    if missing:
        kc.assign_client_role(account["id"], realm_management, missing)
    if kc.get_client_id(LOGIN_CLIENT_ID) is None:
        kc.create_client(
            {
                "clientId": LOGIN_CLIENT_ID,
                "enabled": True,
                "publicClient": True,
                "standardFlowEnabled": False,
                "directAccessGrantsEnabled": True,
            }
        )


def ensure_user(kc: KeycloakAdmin, spec: dict, org_ids: dict[str, str]) -> None:
    user_id = kc.get_user_id(spec["username"])
    if user_id is None:
        payload = {
            "username": spec["username"],
            "email": spec["email"],
            "emailVerified": True,
            "enabled": True,
            "firstName": spec["username"].title(),
            "lastName": "Learner",
        }
        if spec["password"]:
            payload["credentials"] = [
                {"type": "password", "value": spec["password"], "temporary": False}
            ]
        user_id = kc.create_user(payload)
        log(f"created user {spec['email']}")
    if spec["org"]:
        org_id = org_ids[spec["org"]]
        if not any(o["id"] == org_id for o in kc.get_user_organizations(user_id)):
            kc.organization_user_add(user_id, org_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--realm", default=REALM)
    parser.add_argument("--demo", action="store_true", help="Add the demo's organization and user.")
    args = parser.parse_args()
    kc = admin_client(args.server_url)
    ensure_realm(kc, args.realm)
    ensure_idp(kc, IDP_ALIAS)
    orgs, users = (ORGS + DEMO_ORGS, USERS + DEMO_USERS) if args.demo else (ORGS, USERS)
    org_ids = {spec["alias"]: ensure_org(kc, spec) for spec in orgs}
    secret = os.environ.get("KEYCLOAK_CLIENT_SECRET") or secrets.token_urlsafe(24)
    ensure_clients(kc, secret)
    for spec in users:
        ensure_user(kc, spec, org_ids)
    print(f"export KEYCLOAK_REALM={args.realm}")
    print(f"export KEYCLOAK_CLIENT_ID={CLIENT_ID}")
    print(f"export KEYCLOAK_CLIENT_SECRET={secret}")
    print(f"export KEYCLOAK_LOGIN_CLIENT_ID={LOGIN_CLIENT_ID}")
    for alias, org_id in org_ids.items():
        print(f"export KEYCLOAK_ORG_{alias.upper()}_ID={org_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
