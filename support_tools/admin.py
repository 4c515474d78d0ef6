"""The audit trail's admin: read-only for everyone, and built to answer "who did what to this
learner, and when": filters by actor, learner, action, outcome, door, dry run and dates; search
by the learner's username, email or external key (bulk runs included); a CSV download of the
filtered list; each row linked to its learner's console page."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from knox.models import AuthToken

from support_tools.admin_filters import ActorFilter, DateRangeFilter, LearnerFilter
from support_tools.doors.wording import humanize
from support_tools.models import SupportAction, SupportActionLearner
from support_tools.results import format_when

CSV_COLUMNS = [
    "id",
    "seq",
    "when_utc",
    "action",
    "actor",
    "door",
    "learner",
    "learner_email",
    "bulk_learners",
    "target",
    "dry_run",
    "outcome",
    "error",
]
WOULD_CHANGE = "would change"
EXPORT_REFUSED = "The filters of this list are not valid: {detail}"
# A cell starting with one of these is a formula to a spreadsheet: it is quoted as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def console_url(user_id: int) -> str | None:
    try:  # the console lives in a layer above: its page exists when the project mounts it
        return reverse("support:console-learner", kwargs={"user_id": user_id})
    except NoReverseMatch:
        return None


def outcome_words(row: SupportAction) -> str:
    """A preview changed nothing: it "would change"."""
    if row.dry_run and row.outcome == SupportAction.Outcome.CHANGED:
        return WOULD_CHANGE
    return row.get_outcome_display()


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@admin.register(SupportAction)
class SupportActionAdmin(admin.ModelAdmin):
    """The audit trail: read-only for everyone (the model refuses changes anyway)."""

    # Four columns, so that none is cut off beside the admin's sidebar and the filters.
    list_display = ["when", "action_name", "by", "learner"]
    list_display_links = ["when"]
    # Not editable, so not in the form: shown so a row can be compared with the verifier's.
    readonly_fields = ["created_at", "seq", "key_id", "prev_hash", "row_hash", "personal_digest"]
    list_filter = [
        ActorFilter,
        LearnerFilter,
        "action",
        "outcome",
        "door",
        "dry_run",
        DateRangeFilter,
    ]
    list_select_related = ["subject_user"]
    search_fields = [
        "actor_label",
        "subject_user__username",
        "subject_user__email",
        "target_label",
        "learners__user__username",
        "learners__user__email",
        "learners__key",
    ]
    date_hierarchy = "created_at"
    change_list_template = "support_tools/admin/supportaction_change_list.html"
    change_form_template = "support_tools/admin/supportaction_change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # A subquery, not a join: the search's join on learners must not inflate the count.
        counted = (
            SupportActionLearner.objects.filter(action=OuterRef("pk"))
            .order_by()
            .values("action")
            .annotate(n=Count("pk"))
            .values("n")
        )
        count = Coalesce(Subquery(counted, output_field=IntegerField()), 0)
        return super().get_queryset(request).annotate(learner_count=count)

    @admin.display(description="when (UTC), door", ordering="created_at")
    def when(self, obj: SupportAction) -> Any:
        return format_html(
            '{}<br><span class="code-name">via {}</span>', format_when(obj.created_at), obj.door
        )

    @admin.display(description="action and outcome", ordering="action")
    def action_name(self, obj: SupportAction) -> Any:
        preview = (
            mark_safe(' <span class="badge badge-preview">preview</span>') if obj.dry_run else ""
        )
        return format_html(
            '{}: <strong>{}</strong>{}<br><code class="code-name">{}</code>',
            humanize(obj.action),
            outcome_words(obj),
            preview,
            obj.action,
        )

    @admin.display(description="by", ordering="actor_label")
    def by(self, obj: SupportAction) -> str:
        return obj.actor_label

    @admin.display(description="learner")
    def learner(self, obj: SupportAction) -> Any:
        user = obj.subject_user
        if user is not None:
            url = console_url(user.pk)
            if url:
                return format_html('<a href="{}" class="learner-console">{}</a>', url, user)
            return str(user)
        count = getattr(obj, "learner_count", 0)
        return f"bulk run: {count} learner{'s' if count != 1 else ''}" if count else "—"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        row = self.get_object(request, object_id)
        subject = getattr(row, "subject_user_id", None)
        extra = {"learner_console_url": console_url(subject) if subject else None}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- the CSV download of the filtered list -------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_csv),
            name="support_tools_supportaction_export",
        )
        return [export, *super().get_urls()]

    def export_csv(self, request: HttpRequest) -> HttpResponse:
        """Every row of the list as filtered and searched now (not just one page), streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            rows = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters as exc:
            return HttpResponseBadRequest(EXPORT_REFUSED.format(detail=exc))
        writer = csv.writer(_Echo())
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(
            (writer.writerow(line) for line in self._csv_lines(rows)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="support-actions-{stamp}.csv"'
        return response

    def _csv_lines(self, rows: QuerySet) -> Iterator[list[str]]:
        yield CSV_COLUMNS
        for row in rows.iterator(chunk_size=500):
            user = row.subject_user
            yield [
                _cell(v)
                for v in (
                    row.pk,
                    row.seq,
                    row.created_at.isoformat(),
                    row.action,
                    row.actor_label,
                    row.door,
                    user.username if user else "",
                    user.email if user else "",
                    getattr(row, "learner_count", 0),
                    row.target_label,
                    "yes" if row.dry_run else "no",
                    row.outcome,
                    row.error,
                )
            ]


# API tokens come only from `manage.py create_api_token` (audited, shown once): the admin lists
# them by digest prefix and may revoke them, never add one.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "created", "expiry"]
    search_fields = ["user__username", "user__email", "token_key"]
    fields = ["token_key", "user", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
