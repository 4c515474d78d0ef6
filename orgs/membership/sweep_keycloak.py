"""Keycloak's side of the membership sweep: every Keycloak-controlled organization read with
bounded concurrency and one deadline for the whole sweep.

Two phases, each on a small thread pool (one gateway per thread: a gateway serves one caller at
a time): per organization its Keycloak organization (or the candidates when its SSO id is not
found), identity providers and members (paged); then per learner what the checklist needs and
the member list does not say: the Keycloak account of a local member who is not a Keycloak
member, and the passwords of learners of organizations with an identity provider.

An organization is checked whole or not at all: when one of its calls fails, or the deadline
passes first, it is reported unchecked with the reason, and the others keep their result. No
thread touches the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from orgs import keycloak
from orgs.membership.inspect import KeycloakStatus
from orgs.models import Organization
from support_tools.errors import SupportError
from support_tools.sweeps import chunks

SWEEP_DEADLINE_PASSED = (
    "the sweep's deadline for Keycloak ({seconds:g} s) passed before this organization was "
    "checked; the next sweep checks it again."
)
LEARNERS_PER_TASK = 25


@dataclass(frozen=True)
class OrgRead:
    """What Keycloak said about one organization (all of it, or why it was not checked)."""

    status: KeycloakStatus
    detail: str = ""
    kc_org: keycloak.KeycloakOrganization | None = None
    candidates: tuple[keycloak.KeycloakOrganization, ...] = ()
    identity_providers: tuple[str, ...] = ()
    members: dict[str, keycloak.KeycloakUser] = field(default_factory=dict)  # by email
    accounts: dict[str, keycloak.KeycloakUser | None] = field(default_factory=dict)  # by email
    passwords: dict[str, tuple[keycloak.Credential, ...]] = field(default_factory=dict)

    @property
    def target(self) -> keycloak.KeycloakOrganization | None:
        """The organization the checks run against: the SSO id's, or the single candidate."""
        if self.kc_org is not None:
            return self.kc_org
        return self.candidates[0] if len(self.candidates) == 1 else None

    def account_of(self, email: str) -> keycloak.KeycloakUser | None:
        return self.members.get(email) or self.accounts.get(email)


class _Stopped(Exception):
    pass


class KeycloakReader:
    def __init__(self, *, deadline_seconds: float, workers: int) -> None:
        self.seconds = deadline_seconds
        self.deadline = time.monotonic() + deadline_seconds
        self.workers = max(1, workers)
        self.calls = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._local = threading.local()

    def read(
        self, orgs: list[Organization], local_emails: dict[int, set[str]]
    ) -> dict[int, OrgRead]:
        """Each organization's read; `local_emails` are the emails of its active local members."""
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sweep-keycloak")
        try:
            reads = self._phase(pool, {org.pk: [(self._read_org, org)] for org in orgs}, {})
            tasks = {}
            for org in orgs:
                read = reads[org.pk]
                if read.status == KeycloakStatus.CHECKED and read.target is not None:
                    found = self._learner_tasks(read, local_emails.get(org.pk, set()))
                    if found:
                        tasks[org.pk] = found
            return self._phase(pool, tasks, reads)
        finally:
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def _phase(
        self,
        pool: ThreadPoolExecutor,
        tasks: dict[int, list[tuple[Callable[..., Any], Any]]],
        reads: dict[int, OrgRead],
    ) -> dict[int, OrgRead]:
        """Runs every organization's tasks; each task returns a function that folds its answer
        into the organization's read. An organization with a failed or unfinished task is
        unchecked."""
        futures: dict[Future, int] = {}
        for org_pk, items in tasks.items():
            for func, arg in items:
                futures[pool.submit(func, arg)] = org_pk
        pending = set(futures)
        while pending:
            left = self.deadline - time.monotonic()
            if left <= 0:
                break
            _, pending = wait(pending, timeout=left, return_when=FIRST_EXCEPTION)
        if pending:
            self._stop.set()
        result = dict(reads)
        failed: dict[int, str] = {}
        for future, org_pk in futures.items():
            if future in pending or future.cancelled():
                failed.setdefault(org_pk, SWEEP_DEADLINE_PASSED.format(seconds=self.seconds))
                continue
            exc = future.exception()
            if isinstance(exc, _Stopped):
                failed.setdefault(org_pk, SWEEP_DEADLINE_PASSED.format(seconds=self.seconds))
            elif isinstance(exc, SupportError):
                failed.setdefault(org_pk, exc.message)
            elif exc is not None:
                raise exc
            elif org_pk not in failed:
                result[org_pk] = future.result()(result.get(org_pk))
        for org_pk, detail in failed.items():
            result[org_pk] = OrgRead(KeycloakStatus.UNREACHABLE, detail)
        return result

    # -- the calls -----------------------------------------------------------------------------

    def _gateway(self) -> keycloak.KeycloakGateway:
        gw = getattr(self._local, "gateway", None)
        if gw is None:
            gw = self._local.gateway = keycloak.gateway()
        return gw

    def _ask(self, func: Callable[..., Any], *args: Any) -> Any:
        self._go_on()
        with self._lock:
            self.calls += 1
        return func(*args)

    def _go_on(self) -> None:
        if self._stop.is_set() or time.monotonic() >= self.deadline:
            raise _Stopped

    def _read_org(self, org: Organization) -> Callable[[OrgRead | None], OrgRead]:
        gw = self._gateway()
        kc_org = self._ask(gw.get_organization, str(org.sso_organization_id))
        candidates: tuple[keycloak.KeycloakOrganization, ...] = ()
        if kc_org is None:
            candidates = tuple(self._ask(gw.find_organizations, org.name, org.short_name))
        read = OrgRead(KeycloakStatus.CHECKED, kc_org=kc_org, candidates=candidates)
        target = read.target
        if target is not None:
            idps = tuple(self._ask(gw.organization_identity_providers, target.id))
            members: dict[str, keycloak.KeycloakUser] = {}
            pages = gw.organization_members(target.id)
            while True:
                self._go_on()
                page = next(pages, None)  # asks Keycloak only while there is a next page
                if page is None:
                    break
                with self._lock:
                    self.calls += 1
                members.update((u.email.strip().lower(), u) for u in page if u.email)
            read = replace(read, identity_providers=idps, members=members)
        return lambda _: read

    def _learner_tasks(
        self, read: OrgRead, local_emails: set[str]
    ) -> list[tuple[Callable[..., Any], Any]]:
        """Look up the local members Keycloak does not list; with an identity provider, read
        every learner's passwords (the members' now, the others' once found)."""
        missing = sorted(e for e in local_emails if e and e not in read.members)
        tasks: list[tuple[Callable[..., Any], Any]] = [
            (self._look_up, (chunk, bool(read.identity_providers)))
            for chunk in chunks(missing, LEARNERS_PER_TASK)
        ]
        if read.identity_providers:
            ids = sorted(u.id for u in read.members.values())
            tasks += [(self._passwords, chunk) for chunk in chunks(ids, LEARNERS_PER_TASK)]
        return tasks

    def _look_up(self, job: tuple[list[str], bool]) -> Callable[[OrgRead], OrgRead]:
        emails, with_passwords = job
        gw = self._gateway()
        found = {email: self._ask(gw.find_user_by_email, email) for email in emails}
        passwords = {}
        if with_passwords:
            for user in found.values():
                if user is not None:
                    passwords[user.id] = tuple(self._ask(gw.password_credentials, user.id))
        return lambda r: replace(
            r, accounts={**r.accounts, **found}, passwords={**r.passwords, **passwords}
        )

    def _passwords(self, user_ids: Iterable[str]) -> Callable[[OrgRead], OrgRead]:
        gw = self._gateway()
        found = {uid: tuple(self._ask(gw.password_credentials, uid)) for uid in user_ids}
        return lambda r: replace(r, passwords={**r.passwords, **found})
