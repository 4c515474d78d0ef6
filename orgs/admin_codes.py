"""Admin of contracts and enrollment codes, and the pages of the enrollment-code playbook
(imported by orgs/admin.py). Thin: every page calls one service of orgs.codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from orgs.codes import (
    FIX_ADD_SEATS,
    FIX_SYNC_DATES,
    add_contract_seats,
    diagnose_code,
    normalise_code,
    sync_code_dates,
)
from orgs.codes.selectors import code_state, codes_with_state
from orgs.models import CodeRedemption, Contract, EnrollmentCode
from support_tools.actors import Actor
from support_tools.admin_pages import ActionPage, DiagnosisPage, register_page
from support_tools.errors import SupportError

CODES_SHOWN = 50


def _count_of(queryset: QuerySet, link: str) -> Coalesce:
    """A correlated COUNT, computed for the shown rows only (no GROUP BY over the table)."""
    counted = (
        queryset.filter(**{link: OuterRef("pk")})
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


@admin.register(Contract)
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


@admin.register(EnrollmentCode)
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
            .annotate(redemptions_total=_count_of(CodeRedemption.objects, "code"))
        )

    @admin.display(description="redemptions", ordering="redemptions_total")
    def redemption_count(self, obj: EnrollmentCode) -> int:
        return obj.redemptions_total

    @admin.display(description="state")
    def state(self, obj: EnrollmentCode) -> str:
        return code_state(obj, redemptions=obj.redemptions_total, at=timezone.now())

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


@admin.register(CodeRedemption)
class CodeRedemptionAdmin(_ExactCodeSearch):
    list_display = ["code", "user", "redeemed_on"]
    list_select_related = ["code", "user"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["code", "user"]
    date_hierarchy = "redeemed_on"
    code_field = "code__code"


# --- The playbook's pages ----------------------------------------------------------------------


class DiagnoseCodeForm(forms.Form):
    code = forms.CharField(
        label="Enrollment code",
        strip=False,
        widget=forms.TextInput(attrs={"size": 70, "autofocus": True}),
        help_text="The code or the redemption link, pasted as the learner sent it.",
    )
    user = forms.CharField(required=False, help_text="Optional: the learner's email or username.")
    at = forms.CharField(
        required=False,
        label="At",
        help_text="Optional: an ISO 8601 date or time to check at (UTC); empty means now.",
    )


class DiagnoseCodePage(DiagnosisPage):
    name = "diagnose-code"
    route = "codes/diagnose/"
    title = "Diagnose enrollment code"
    intro = (
        "Why a code can or cannot be redeemed: typos, its dates, its use, its contract and "
        "organization, the seats left."
    )
    view_permission = "orgs.view_enrollmentcode"
    form_class = DiagnoseCodeForm
    template_name = "orgs/admin/diagnose_code.html"

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return diagnose_code(
            code_text=data["code"], user=data["user"] or None, at=data["at"] or None, actor=actor
        )

    def fix_url(self, problem: dict, result: dict, data: dict) -> str | None:
        if problem["fix"] == FIX_SYNC_DATES:
            return f"{reverse('support:sync-code-dates')}?{urlencode({'code': result['code']})}"
        if problem["fix"] == FIX_ADD_SEATS and result.get("contract"):
            return reverse(
                "support:add-contract-seats", kwargs={"contract_id": result["contract"]["id"]}
            )
        return None

    def render(self, request: HttpRequest, form: forms.Form, **extra: Any) -> Any:
        result = extra.get("result")
        if result is not None and "suggestions" in result:
            keep = {k: form.cleaned_data[k] for k in ("user", "at") if form.cleaned_data.get(k)}
            base = reverse("support:diagnose-code")
            extra["suggestion_links"] = [
                (code, f"{base}?{urlencode({'code': code, **keep})}")
                for code in result["suggestions"]
            ]
            extra["result"] = {k: v for k, v in result.items() if k != "suggestions"}
        return super().render(request, form, **extra)


class SyncCodeDatesForm(forms.Form):
    code = forms.CharField(required=False, help_text="One code (or its redemption link)…")
    contract = forms.CharField(
        required=False, help_text='…or every code of a contract: its id or "ORG:contract name".'
    )


class SyncCodeDatesPage(ActionPage):
    name = "sync-code-dates"
    route = "codes/sync-dates/"
    title = "Align enrollment code dates with their contract"
    intro = (
        "Sets the activation and expiration dates of one code, or of every code of a contract, "
        "to the contract's start and end. Codes already aligned are left alone."
    )
    permission = "run_sync_code_dates"
    view_permission = "orgs.view_enrollmentcode"
    form_class = SyncCodeDatesForm

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return sync_code_dates(
            code=data["code"] or None,
            contract=data["contract"] or None,
            actor=actor,
            dry_run=dry_run,
        )


class AddContractSeatsForm(forms.Form):
    seats = forms.IntegerField(min_value=1, help_text="How many seats to add.")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why: the order, ticket or person who decided. The audit trail keeps it.",
    )
    expected_max_learners = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AddContractSeatsPage(ActionPage):
    name = "add-contract-seats"
    route = "contracts/<int:contract_id>/add-seats/"
    title = "Add seats to a contract"
    permission = "run_add_contract_seats"
    view_permission = "orgs.view_contract"
    form_class = AddContractSeatsForm

    def initial(self, request: HttpRequest, **url_kwargs: Any) -> dict[str, Any]:
        contract = get_object_or_404(
            Contract.objects.select_related("organization"), pk=url_kwargs["contract_id"]
        )
        limit = contract.max_learners or "unlimited"
        self.intro = (
            f"{contract}: {contract.learners.count()} of {limit} seats used. Raising the limit "
            "is a commercial decision: it needs the support leads' permission and a reason."
        )
        # The limit seen now: applying the same form twice then adds the seats once.
        return {"expected_max_learners": contract.max_learners}

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return add_contract_seats(
            contract=self.kwargs["contract_id"],
            seats=data["seats"],
            reason=data["reason"],
            expected_max_learners=data.get("expected_max_learners"),
            actor=actor,
            dry_run=dry_run,
        )


for _page in (DiagnoseCodePage, SyncCodeDatesPage, AddContractSeatsPage):
    register_page(_page)
