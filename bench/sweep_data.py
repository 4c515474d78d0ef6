"""The data of bench/sweep.py, made by PostgreSQL itself (INSERT ... SELECT generate_series):
see bench/sweep.py for what it holds."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

ORGS = 1_000
TWO_SITE_ORGS = 100  # the last organizations have two sites: org_site_count
PROGRAMS = 10
COURSES = 20
FULL_CONTRACTS = 100
NEARLY_FULL_CONTRACTS = 100
SEATS = 50


def fill(args: Any) -> None:
    from django.db import connection
    from oauth2_provider.models import Application

    from bench.sweep import APP_CLIENT_ID

    app = Application.objects.create(
        name="AMC",
        client_id=APP_CLIENT_ID,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_PASSWORD,
    )
    steps = _statements(args, app.pk)
    with connection.cursor() as cursor:
        for title, sql in steps:
            started = time.perf_counter()
            cursor.execute(sql)
            print(f"  {title}: {time.perf_counter() - started:.1f} s", flush=True)
        for table in ("auth_user", "django_site", "orgs_organization", "orgs_contract"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        started = time.perf_counter()
        cursor.execute("ANALYZE")
        print(f"  analyze: {time.perf_counter() - started:.1f} s", flush=True)


def _statements(args: Any, app_id: int) -> list[tuple[str, str]]:
    n_users, admins = args.users, args.admins
    contracts, codes, programs = args.contracts, args.codes, args.programs
    per_contract = max(1, codes // contracts)
    # an admin's way of being broken: i % 10 (0 healthy, 1..9 below)
    way = "(g % 10)"
    org_of = (
        f"CASE WHEN {way} = 9 THEN {ORGS - TWO_SITE_ORGS + 1} + g % {TWO_SITE_ORGS} "
        f"ELSE 1 + g % {ORGS - TWO_SITE_ORGS} END"
    )
    expires = (
        f"CASE {way} WHEN 2 THEN now() - interval '1 day' WHEN 3 THEN now() + interval '5 days' "
        "ELSE now() + interval '200 days' END"
    )
    first_linked = admins + 1
    limited = FULL_CONTRACTS + NEARLY_FULL_CONTRACTS
    return [
        (
            f"{n_users:,} users",
            "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined) SELECT g, '!', false, 'u' || g, '', '',"
            f" 'u' || g || '@example.com', false, true, now() FROM generate_series(1, {n_users}) g",
        ),
        (
            f"{ORGS:,} organizations and their sites",
            "INSERT INTO django_site (id, domain, name) SELECT g + 1, 's' || g || '.example.com',"
            f" 's' || g FROM generate_series(1, {ORGS + TWO_SITE_ORGS}) g;"
            " INSERT INTO orgs_organization (id, name, short_name, active, email_domains)"
            f" SELECT g, 'Org ' || g, 'org' || g, true, '[]' FROM generate_series(1, {ORGS}) g;"
            " INSERT INTO orgs_organization_sites (organization_id, site_id)"
            f" SELECT g, g + 1 FROM generate_series(1, {ORGS}) g UNION ALL"
            f" SELECT g, {ORGS} + g - ({ORGS - TWO_SITE_ORGS}) + 1"
            f" FROM generate_series({ORGS - TWO_SITE_ORGS + 1}, {ORGS}) g",
        ),
        (
            f"{admins:,} AMC admins: mappings",
            "INSERT INTO orgs_userorganizationmapping (user_id, organization_id, is_active,"
            f" is_amc_admin, keep_until_seen) SELECT g, {org_of}, true, true, false"
            f" FROM generate_series(1, {admins}) g;"
            " INSERT INTO orgs_usersitemapping (user_id, site_id, is_active, is_amc_admin)"
            f" SELECT g, ({org_of}) + 1, {way} <> 8, true FROM generate_series(1, {admins}) g"
            f" WHERE {way} NOT IN (7, 9)",
        ),
        (
            "their tokens and AMC accounts",
            "INSERT INTO oauth2_provider_accesstoken (id, user_id, token, token_checksum,"
            " application_id, expires, scope, resource, created, updated)"
            f" SELECT g, g, 'at' || g, encode(sha256(('at' || g)::bytea), 'hex'), {app_id},"
            f" {expires}, 'read', '[]', now(), now() FROM generate_series(1, {admins}) g"
            f" WHERE {way} <> 1;"
            " INSERT INTO oauth2_provider_refreshtoken (user_id, token, token_checksum,"
            " application_id, access_token_id, resource, created, updated)"
            f" SELECT g, 'rt' || g, encode(sha256(('rt' || g)::bytea), 'hex'), {app_id}, g,"
            f" '[]', now(), now() FROM generate_series(1, {admins}) g WHERE {way} NOT IN (1, 4);"
            " INSERT INTO accounts_amcaccount (user_id, access_token, refresh_token,"
            " token_expires_at, token_type, updated_at)"
            f" SELECT g, CASE WHEN {way} = 1 THEN '' ELSE 'at' || g END, 'rt' || g,"
            f" CASE WHEN {way} = 1 THEN NULL ELSE {expires} END,"
            f" CASE WHEN {way} = 6 THEN 'bearer' ELSE 'Bearer' END, now()"
            f" FROM generate_series(1, {admins}) g WHERE {way} <> 5",
        ),
        (
            f"{contracts:,} contracts, full and nearly full ones filled",
            'INSERT INTO orgs_contract (id, organization_id, name, membership_type, start, "end",'
            " active, max_learners)"
            f" SELECT g, 1 + g % {ORGS}, 'Contract ' || g, 'code', now() - interval '30 days',"
            f" now() + interval '300 days', true, CASE WHEN g <= {limited} THEN {SEATS} END"
            f" FROM generate_series(1, {contracts}) g;"
            " INSERT INTO orgs_contract_learners (contract_id, user_id)"
            f" SELECT c, {admins} + c * {SEATS} + s FROM generate_series(1, {limited}) c,"
            f" generate_series(1, {SEATS}) s WHERE c <= {FULL_CONTRACTS} OR s <= {SEATS - 4}",
        ),
        (
            f"{codes:,} codes, 1 % out of step, a tenth of them redeemed",
            "INSERT INTO orgs_enrollmentcode (code, contract_id, activation_date, expiration_date,"
            " redemption_type)"
            " SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-a'"
            " || substr(h, 18, 3) || '-' || substr(h, 21, 12), c.id, c.start,"
            ' CASE WHEN g % 100 = 0 THEN c."end" - interval \'5 days\' ELSE c."end" END,'
            " 'one-time'"
            f" FROM generate_series(1, {codes}) g CROSS JOIN LATERAL (SELECT md5('c' || g) AS h) m"
            f" JOIN orgs_contract c ON c.id = 1 + (g - 1) / {per_contract};"
            " INSERT INTO orgs_coderedemption (code_id, user_id, redeemed_on)"
            f" SELECT id, 1 + id % {n_users}, now() - interval '3 days' FROM orgs_enrollmentcode"
            " WHERE id % 10 = 0",
        ),
        (
            f"{programs:,} linked program enrollments, two courses each",
            "INSERT INTO enrollments_coursemode (course_key, mode_slug)"
            f" SELECT {course_of('c')}, 'masters' FROM generate_series(0, {COURSES - 1}) c;"
            " INSERT INTO enrollments_programenrollment (id, user_id, external_user_key,"
            " program_uuid, curriculum_uuid, status, created)"
            f" SELECT g, {first_linked} + g, 'KEY-' || g,"
            f" ('00000000-0000-4000-8000-' || lpad((g % {PROGRAMS})::text, 12, '0'))::uuid,"
            " '11111111-1111-4111-8111-111111111111', 'enrolled', now()"
            f" FROM generate_series(1, {programs}) g;"
            # a tenth without its first course enrollment, a twentieth in the audit track
            " INSERT INTO enrollments_courseenrollment"
            " (user_id, course_key, mode, is_active, created)"
            f" SELECT {first_linked} + g, {course_of(f'(g + k) % {COURSES}')},"
            " CASE WHEN g % 20 = 1 AND k = 0 THEN 'audit' ELSE 'masters' END, true, now()"
            f" FROM generate_series(1, {programs}) g, generate_series(0, 1) k"
            " WHERE NOT (g % 10 = 2 AND k = 0);"
            " INSERT INTO enrollments_programcourseenrollment (program_enrollment_id, course_key,"
            " course_enrollment_id, status)"
            f" SELECT pe.id, {course_of(f'(pe.id + k) % {COURSES}')}, ce.id, 'active'"
            " FROM enrollments_programenrollment pe CROSS JOIN generate_series(0, 1) k"
            " LEFT JOIN enrollments_courseenrollment ce ON ce.user_id = pe.user_id"
            f" AND ce.course_key = {course_of(f'(pe.id + k) % {COURSES}')};"
            # a twentieth with a waiting staff role
            " INSERT INTO enrollments_courseaccessroleassignment (enrollment_id, role)"
            " SELECT id, 'staff' FROM enrollments_programcourseenrollment WHERE id % 20 = 3",
        ),
    ]


def course_of(number: str) -> str:
    return f"'course-v1:UNI+C' || ({number}) || '+2025'"


# -- Keycloak --------------------------------------------------------------------------------------


class _KeycloakAdmin:
    """The master realm's admin, its token renewed before it runs out (a minute by default)."""

    def __init__(self) -> None:
        import os

        import requests

        self.url, realm = os.environ["KEYCLOAK_SERVER_URL"], os.environ["KEYCLOAK_REALM"]
        self.base = f"{self.url}/admin/realms/{realm}"
        self.session = requests.Session()
        self.renew_at = 0.0

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        import os

        if time.monotonic() >= self.renew_at:
            answer = self.session.post(
                f"{self.url}/realms/master/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": "admin-cli",
                    "username": os.environ["KEYCLOAK_ADMIN_USER"],
                    "password": os.environ["KEYCLOAK_ADMIN_PASSWORD"],
                },
                timeout=30,
            ).json()
            self.session.headers["Authorization"] = f"Bearer {answer['access_token']}"
            self.renew_at = time.monotonic() + answer["expires_in"] / 2
        response = self.session.request(method, f"{self.base}/{path}", timeout=120, **kwargs)
        if method != "DELETE":
            response.raise_for_status()
        return response


def fill_keycloak(args: Any):
    """Keycloak organizations (half with an identity provider) and their members through its
    admin API, their local side here; returns the function that removes them from Keycloak
    (also called here when the filling fails part-way)."""
    admin = _KeycloakAdmin()
    tag = uuid.uuid4().hex[:8]
    orgs: list[tuple[str, str]] = []
    idps: list[str] = []
    ids: dict[str, str] = {}

    def cleanup() -> None:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda uid: admin("DELETE", f"users/{uid}"), list(ids.values())))
        for org_id, _ in orgs:
            admin("DELETE", f"organizations/{org_id}")
        for idp in idps:
            admin("DELETE", f"identity-provider/instances/{idp}")

    started = time.perf_counter()
    try:
        people = _keycloak_side(args, admin, tag, orgs, idps, ids)
        _local_side(orgs, people)
    except BaseException:
        cleanup()
        raise
    members = sum(p[5] for p in people)
    print(
        f"  Keycloak: {len(orgs)} organizations, {members:,} members, "
        f"{len(people) - members:,} local members it does not list: "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return cleanup


def _keycloak_side(args, admin, tag, orgs, idps, ids) -> list[tuple]:  # noqa: ANN001
    for k in range(args.keycloak_orgs):
        alias = f"bench-{tag}-{k}"
        domain = {"name": f"{alias}.test"}
        body = {"name": alias, "alias": alias, "enabled": True, "domains": [domain]}
        admin("POST", "organizations", json=body)
        found = admin("GET", "organizations", params={"search": f"{alias}.test"}).json()
        orgs.append((found[0]["id"], alias))
        if k % 2 == 0:  # half of them sign in through an identity provider
            idp = f"{alias}-idp"
            admin("POST", "identity-provider/instances", json=_idp(idp))
            idps.append(idp)
            admin("POST", f"organizations/{found[0]['id']}/identity-providers", json=idp)
    per_org = args.members // args.keycloak_orgs
    extra = per_org // 10  # local members Keycloak does not list
    people = [
        (k, org_id, i, f"m{i}-{alias}@{alias}.test", i < per_org)
        for k, (org_id, alias) in enumerate(orgs)
        for i in range(per_org + extra)
    ]
    users = [
        {
            "username": email.split("@")[0],
            "email": email,
            "enabled": True,
            "emailVerified": True,
            "firstName": "Bench",
            "lastName": "Learner",
            # a tenth with a password: in an organization with an identity provider, it blocks
            **(
                {"credentials": [{"type": "password", "value": "Pw-1234567"}]}
                if i % 10 == 1
                else {}
            ),
        }
        for _, _, i, email, _ in people
    ]
    for start in range(0, len(users), 500):
        batch = {"ifResourceExists": "SKIP", "users": users[start : start + 500]}
        admin("POST", "partialImport", json=batch)
    for _, alias in orgs:  # Keycloak's search is by prefix; "*" makes it infix
        first = 0
        while True:
            query = {"search": f"*@{alias}.test", "first": first, "max": 500}
            page = admin("GET", "users", params=query).json()
            ids.update({u["email"]: u["id"] for u in page if u["email"].endswith(f"@{alias}.test")})
            if len(page) < 500:
                break
            first += 500

    def join(person: tuple) -> None:
        _, org_id, _, email, member = person
        if member:
            admin("POST", f"organizations/{org_id}/members", json=ids[email])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(join, people))
    return [(k, org_id, "", i, email, member) for k, org_id, i, email, member in people]


def _local_side(orgs: list[tuple[str, str]], people: list[tuple]) -> None:
    from django.contrib.auth import get_user_model

    from orgs.models import Organization, UserOrganizationMapping

    User = get_user_model()
    local = [
        Organization.objects.create(
            name=alias,
            short_name=alias,
            sso_organization_id=org_id,
            email_domains=[f"{alias}.test"],
        )
        for org_id, alias in orgs
    ]
    made = User.objects.bulk_create(
        User(username=email.split("@")[0], email=email, password="!") for *_, email, _ in people
    )
    UserOrganizationMapping.objects.bulk_create(
        UserOrganizationMapping(user=user, organization=local[k], keep_until_seen=i % 10 == 3)
        for user, (k, _, _, i, _, _) in zip(made, people, strict=True)
        if i % 10 != 2  # a tenth of the members have no local membership
    )


def _idp(alias: str) -> dict[str, Any]:
    return {
        "alias": alias,
        "providerId": "oidc",
        "enabled": True,
        "config": {
            "clientId": "upstream",
            "clientSecret": "upstream",
            "authorizationUrl": "http://127.0.0.1:9/authorize",
            "tokenUrl": "http://127.0.0.1:9/token",
            "clientAuthMethod": "client_secret_post",
        },
    }
