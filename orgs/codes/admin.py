"""Model admins of contracts, enrollment codes and redemptions: codes found exactly by their
index, seats and code states shown. Registered by orgs/admin.py."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from orgs.codes import code_state, codes_with_state, normalise_code
from orgs.models import CodeRedemption, Contract, EnrollmentCode
from support_tools.errors import SupportError

CODES_SHOWN = 50


def _count_of(queryset: QuerySet, link: str, outer: str = "pk") -> Coalesce:
    """A correlated COUNT, computed for the shown rows only (no GROUP BY over the table)."""
    counted = (
        queryset.filter(**{link: OuterRef(outer)})
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class _ExactCodeSearch(admin.ModelAdmin):
    """A whole code (or a link to one) is looked up exactly, by its index; other terms as usual."""

    code_field = "code"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        try:
            normalised = normalise_code(search_term)
        except SupportError:
            normalised = None
        if normalised is not None and normalised.well_formed:
            return queryset.filter(**{self.code_field: normalised.text}), False
        return super().get_search_results(request, queryset, search_term)


class ContractAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "membership_type", "start", "end", "active"]
    list_display += ["seats", "code_count"]
    list_filter = ["active", "membership_type"]
    list_select_related = ["organization"]
    search_fields = ["name", "organization__short_name", "organization__name"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["learners"]
    readonly_fields = ["seats", "codes_overview"]
    fieldsets = [
        (None, {"fields": ["organization", "name", "membership_type", "start", "end", "active"]}),
        ("Seats", {"fields": ["max_learners", "seats", "learners"]}),
        ("Enrollment codes", {"fields": ["codes_overview"]}),
    ]
    change_form_template = "orgs/admin/contract_change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                seats_used=_count_of(Contract.learners.through.objects, "contract"),
                codes_total=_count_of(EnrollmentCode.objects, "contract"),
            )
        )

    @admin.display(description="seats used / total", ordering="seats_used")
    def seats(self, obj: Contract) -> str:
        used = getattr(obj, "seats_used", None)
        used = obj.learners.count() if used is None else used
        return f"{used} / {obj.max_learners or 'unlimited'}"

    @admin.display(description="codes", ordering="codes_total")
    def code_count(self, obj: Contract) -> Any:
        url = reverse("admin:orgs_enrollmentcode_changelist") + f"?contract__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, getattr(obj, "codes_total", "—"))

    @admin.display(description="codes and their state")
    def codes_overview(self, obj: Contract) -> Any:
        if obj.pk is None:
            return "—"
        now = timezone.now()
        rows = format_html_join(
            "",
            "<tr><td><a href='{}'><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td class='code-state'>{}</td></tr>",
            (
                (
                    reverse("admin:orgs_enrollmentcode_change", args=[code.pk]),
                    code.code,
                    code.activation_date or "—",
                    code.expiration_date or "—",
                    code.get_redemption_type_display(),
                    redemptions,
                    state,
                )
                for code, redemptions, state in codes_with_state(obj, limit=CODES_SHOWN, at=now)
            ),
        )
        total = getattr(obj, "codes_total", None) or obj.codes.count()
        url = reverse("admin:orgs_enrollmentcode_changelist") + f"?contract__id__exact={obj.pk}"
        return format_html(
            "<table id='contract-codes'><thead><tr><th>code</th><th>activation</th>"
            "<th>expiration</th><th>type</th><th>redemptions</th><th>state</th></tr></thead>"
            "<tbody>{}</tbody></table><p><a href='{}'>All {} codes of this contract</a></p>",
            rows,
            url,
            total,
        )


class EnrollmentCodeAdmin(_ExactCodeSearch):
    list_display = ["code", "contract", "activation_date", "expiration_date", "redemption_type"]
    list_display += ["redemption_count", "state"]
    list_filter = ["redemption_type", "contract__active"]
    list_select_related = ["contract__organization"]
    search_fields = ["code", "contract__name", "contract__organization__short_name"]
    raw_id_fields = ["contract"]
    readonly_fields = ["redemption_list"]
    show_full_result_count = False  # a million codes: no COUNT(*) of the whole table
    change_form_template = "orgs/admin/enrollmentcode_change_form.html"
    change_list_template = "orgs/admin/enrollmentcode_change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                redemptions_total=_count_of(CodeRedemption.objects, "code"),
                # The state says "contract full": the seats of each row's contract, in the query.
                contract_seats_used=_count_of(
                    Contract.learners.through.objects, "contract", outer="contract"
                ),
            )
        )

    @admin.display(description="redemptions", ordering="redemptions_total")
    def redemption_count(self, obj: EnrollmentCode) -> int:
        return obj.redemptions_total

    @admin.display(description="state")
    def state(self, obj: EnrollmentCode) -> str:
        return code_state(
            obj,
            redemptions=obj.redemptions_total,
            seats_used=obj.contract_seats_used,
            at=timezone.now(),
        )

    @admin.display(description="redemptions")
    def redemption_list(self, obj: EnrollmentCode) -> Any:
        if obj.pk is None:
            return "—"
        redemptions = obj.redemptions.select_related("user")[:20]
        return (
            format_html_join(
                "",
                "<li>{} ({}) on {}</li>",
                ((r.user.username, r.user.email, r.redeemed_on) for r in redemptions),
            )
            or "none"
        )


class CodeRedemptionAdmin(_ExactCodeSearch):
    list_display = ["code", "user", "redeemed_on"]
    list_select_related = ["code", "user"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["code", "user"]
    date_hierarchy = "redeemed_on"
    code_field = "code__code"
