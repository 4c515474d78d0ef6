"""Filters of the audit list that answer "who did what to this learner, and when": by actor, by
learner (typed: username, email or external key, bulk runs included) and by a date range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest

SYSTEM = "system"
DATE_INVALID = "{label}: {value!r} is not a date (YYYY-MM-DD)."


class ActorFilter(admin.SimpleListFilter):
    """Staff who ran actions, and the commands (no staff user)."""

    title = "actor"
    parameter_name = "actor"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        staff = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(str(pk), name) for pk, name in staff.values_list("pk", "username")[:200]] + [
            (SYSTEM, "commands and jobs (no staff user)")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == SYSTEM:
            return queryset.filter(actor__isnull=True)
        if value and value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset


class InputFilter(admin.ListFilter):
    """A filter that takes typed text (or dates) instead of a list of links."""

    template = "support_tools/admin/input_filter.html"
    fields: tuple[tuple[str, str, str], ...] = ()  # (parameter, label, input type)

    def __init__(self, request: HttpRequest, params: dict, model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        for name, _label, _kind in self.fields:
            if name in params:
                value = params.pop(name)
                value = value[-1] if isinstance(value, list) else value
                if value.strip():
                    self.used_parameters[name] = value.strip()

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [name for name, _label, _kind in self.fields]

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        mine = set(self.expected_parameters())
        yield {
            "fields": [
                {
                    "name": name,
                    "label": label,
                    "type": kind,
                    "value": self.used_parameters.get(name, ""),
                    "id": f"filter-{name}",
                }
                for name, label, kind in self.fields
            ],
            # The other filters and the search stay as they are.
            "hidden": [(k, v) for k, v in changelist.params.items() if k not in mine],
            "clear": changelist.get_query_string(remove=list(mine))
            if self.used_parameters
            else None,
        }


class LearnerFilter(InputFilter):
    """The learner's username, email or external user key: the actions about them, bulk runs
    (a link sheet, a sweep) included through the learners they touched."""

    title = "learner"
    fields = (("learner", "Username, email or external key", "text"),)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.used_parameters.get("learner")
        if not value:
            return queryset
        users = get_user_model().objects.filter(Q(username=value) | Q(email__iexact=value))
        ids = list(users.values_list("pk", flat=True)[:50])
        about = (
            Q(subject_user_id__in=ids)
            | Q(learners__user_id__in=ids)
            | Q(learners__key__iexact=value)
        )
        return queryset.filter(about).distinct()


class DateRangeFilter(InputFilter):
    """From one day to another, both included, in UTC."""

    title = "date range (UTC)"
    fields = (("created_from", "From", "date"), ("created_to", "To (included)", "date"))

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        start = self._day("created_from", "From")
        end = self._day("created_to", "To")
        if start:
            queryset = queryset.filter(created_at__gte=start)
        if end:
            queryset = queryset.filter(created_at__lt=end + dt.timedelta(days=1))
        return queryset

    def _day(self, name: str, label: str) -> dt.datetime | None:
        value = self.used_parameters.get(name)
        if not value:
            return None
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            # The admin turns this into its "?e=1" page: the filter's value is not used.
            raise admin.options.IncorrectLookupParameters(
                DATE_INVALID.format(label=label, value=value)
            ) from None
        return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
