"""The enrollment-code playbook's admin pages. Thin: every page calls one service of
orgs.codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode

from orgs.codes import (
    ADD_CONTRACT_SEATS,
    DIAGNOSE_CODE,
    FIX_ADD_SEATS,
    FIX_SYNC_DATES,
    SYNC_CODE_DATES,
    WORDING,
    add_contract_seats,
    diagnose_code,
    resolve_contract,
    seats_used_of,
    sync_code_dates,
)
from support_tools.actors import Actor
from support_tools.doors.pages import ActionPage, DiagnosisPage
from support_tools.errors import SupportError

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
    action = DIAGNOSE_CODE
    intro = (
        "Why a code can or cannot be redeemed: typos, its dates, its use, its contract and "
        "organization, the seats left."
    )
    form_class = DiagnoseCodeForm
    template_name = "orgs/admin/diagnose_code.html"
    wording = WORDING
    # Adding seats is the leads' commercial decision: support sees no button for it.
    fix_actions = {FIX_SYNC_DATES: SYNC_CODE_DATES, FIX_ADD_SEATS: ADD_CONTRACT_SEATS}

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
    action = SYNC_CODE_DATES
    wording = WORDING
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
    action = ADD_CONTRACT_SEATS
    wording = WORDING
    form_class = AddContractSeatsForm

    def contract(self) -> Any:
        try:
            return resolve_contract(self.kwargs["contract_id"])
        except SupportError as exc:
            raise Http404(exc.message) from None

    def initial(self, request: HttpRequest, **url_kwargs: Any) -> dict[str, Any]:
        # The limit seen now: applying the same form twice then adds the seats once.
        return {"expected_max_learners": self.contract().max_learners}

    def render(self, request: HttpRequest, form: forms.Form, **extra: Any) -> HttpResponse:
        # Read when the page is drawn, so that after Apply it shows the new limit.
        contract = self.contract()
        limit = contract.max_learners or "unlimited"
        self.intro = (
            f"{contract}: {seats_used_of(contract)} of {limit} seats used. Raising the limit "
            "is a commercial decision: it needs the support leads' permission and a reason."
        )
        return super().render(request, form, **extra)

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return add_contract_seats(
            contract=self.kwargs["contract_id"],
            seats=data["seats"],
            reason=data["reason"],
            expected_max_learners=data.get("expected_max_learners"),
            actor=actor,
            dry_run=dry_run,
        )


PAGES = [DiagnoseCodePage, SyncCodeDatesPage, AddContractSeatsPage]
