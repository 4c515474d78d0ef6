"""Finding the learner a ticket is about: by email, username or a registrar's external key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from enrollments.selectors import external_key_exists, user_ids_with_external_key
from support_tools.errors import SupportError
from support_tools.text import clean_text

User = get_user_model()

SEARCH_EMPTY = "Type an email address, a username or an external user key."
SEARCH_LIMIT = 20
SEARCH_MORE = (
    "More than {limit} people match “{query}”: only the first {limit} are listed. "
    "Type more of the email address or username."
)
KEY_NOT_LINKED = (
    "“{query}” is an external user key that exists, but it is not linked to an account yet: "
    "a registrar's link sheet (Link program enrollments) links it."
)


@dataclass(frozen=True)
class LearnerSearch:
    query: str
    users: tuple[Any, ...]
    more: bool  # the list stops at the limit; more people match
    unlinked_key: bool  # the query is an external user key that no account holds yet

    @property
    def notes(self) -> list[str]:
        notes = []
        if self.more:
            notes.append(SEARCH_MORE.format(limit=len(self.users), query=self.query))
        if self.unlinked_key:
            notes.append(KEY_NOT_LINKED.format(query=self.query))
        return notes


def search_learners(query: str, *, limit: int = SEARCH_LIMIT) -> LearnerSearch:
    """Exact email (case-insensitive) or username, and the holders of an external user key;
    when none, partial email or username. Control characters (a NUL) are refused."""
    query = clean_text(query or "", field="Search", max_length=254).strip()
    if not query:
        raise SupportError(SEARCH_EMPTY)
    exact = Q(email__iexact=query) | Q(username=query)
    users = list(User.objects.filter(exact).order_by("username")[: limit + 1])
    keyed = user_ids_with_external_key(query)
    users += [u for u in User.objects.filter(pk__in=keyed).order_by("username") if u not in users]
    if not users:
        partial = Q(email__icontains=query) | Q(username__icontains=query)
        users = list(User.objects.filter(partial).order_by("username")[: limit + 1])
    return LearnerSearch(
        query=query,
        users=tuple(users[:limit]),
        more=len(users) > limit,
        unlinked_key=not keyed and external_key_exists(query),
    )


def find_learners(query: str, *, limit: int = SEARCH_LIMIT) -> list[Any]:
    """The people `query` finds (at most `limit`): see search_learners."""
    return list(search_learners(query, limit=limit).users)
