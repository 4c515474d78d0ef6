"""Support pages inside the Django admin: a form, a dry-run preview, then a confirmed apply.

Every playbook's admin door is an `ActionPage` (repairs) or a `DiagnosisPage` (checklists):
thin classes that call one service. Each playbook lists its pages in its `PAGES`; the console
collects them and the project mounts them under /admin/support/ with URL names
"support:<name>". They reuse the admin's templates, CSS and login.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View

from support_tools.actors import Actor
from support_tools.doors.wording import Wording
from support_tools.errors import ErrorKind, SupportError
from support_tools.permissions import ActionSpec

log = logging.getLogger(__name__)

UNEXPECTED = (
    "An unexpected error stopped this ({detail}); nothing was changed, and it was recorded in "
    "the audit trail."
)


def page_urls(pages: list[type[SupportPage]], extra: list[URLPattern] = ()) -> list[URLPattern]:
    """The URL patterns of `pages` (each wrapped in the admin's login and CSRF checks), plus
    `extra` admin views. The project's URL module calls this once with every page."""
    return [
        path(page.route, admin.site.admin_view(page.as_view()), name=page.name) for page in pages
    ] + list(extra)


class SupportPage(View):
    name: ClassVar[str]
    route: ClassVar[str]
    title: ClassVar[str]
    form_class: ClassVar[type[forms.Form]]
    # The service's spec: who may open the page (preview) and who is offered Apply.
    action: ClassVar[ActionSpec]
    template_name: ClassVar[str] = "support_tools/page.html"
    form_method: ClassVar[str] = "post"
    intro: ClassVar[str] = ""
    # A button with this label on every user's admin page (the route takes `user_id`).
    user_tool: ClassVar[str | None] = None
    # The playbook in words: problem titles, fix labels, fixes that cannot work.
    wording: ClassVar[Wording] = Wording()

    def initial(self, request: HttpRequest, **url_kwargs: Any) -> dict[str, Any]:
        return {}

    def actor(self, request: HttpRequest) -> Actor:
        return Actor.for_user(request.user, door="admin")

    def check_view(self, request: HttpRequest) -> None:
        if not self.action.can_preview(self.actor(request)):
            raise PermissionDenied

    def can_apply(self, request: HttpRequest) -> bool:
        return self.action.can_apply(self.actor(request))

    def render(
        self, request: HttpRequest, form: forms.Form, *, status: int = 200, **extra: Any
    ) -> HttpResponse:
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        result = extra.get("result")
        context = {
            **admin.site.each_context(request),
            "next_url": next_url,
            "title": self.title,
            "intro": self.intro,
            "form": form,
            "page": self,
            "can_apply": self.can_apply(request),
            # Apply only when the dry run found something to change.
            "offer_apply": bool(extra.get("preview") and result and result.get("changed"))
            and self.can_apply(request),
            **extra,
        }
        return TemplateResponse(request, self.template_name, context, status=status)

    def failed(self, request: HttpRequest, form: forms.Form, exc: Exception) -> HttpResponse:
        """The admin's own page with the error's sentence: a refusal is a 403, an unexpected
        error a 500 (the service has already audited both)."""
        if isinstance(exc, Http404 | PermissionDenied):
            raise exc
        if isinstance(exc, SupportError):
            messages.error(request, exc.message)
            status = 403 if exc.kind == ErrorKind.PERMISSION else 200
        else:
            log.error("%s failed: %s", self.name, type(exc).__name__)
            messages.error(request, UNEXPECTED.format(detail=type(exc).__name__))
            status = 500
        return self.render(request, form, status=status)

    def make_form(self, **kwargs: Any) -> forms.Form:
        """The page's form; pages whose choices depend on the URL (a learner's organizations)
        build it here."""
        return self.form_class(**kwargs)

    def _bound_from_query(self, request: HttpRequest, initial: dict[str, Any]) -> forms.Form:
        names = set(self.form_class.base_fields) - {"next"}
        if names & set(request.GET):
            data = {**{k: v for k, v in initial.items() if k in names}, **request.GET.dict()}
            return self.make_form(data=data, initial=initial)
        return self.make_form(initial=initial)


class ActionPage(SupportPage):
    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        raise NotImplementedError

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        self.check_view(request)
        form = self._bound_from_query(request, self.initial(request, **kwargs))
        if form.is_bound and form.is_valid():
            return self._run(request, form, dry_run=True)
        return self.render(request, form)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        self.check_view(request)
        form = self.make_form(
            data=request.POST, files=request.FILES, initial=self.initial(request, **kwargs)
        )
        if not form.is_valid():
            return self.render(request, form)
        # Apply without the permission goes to the service too: it refuses and audits it.
        return self._run(request, form, dry_run="apply" not in request.POST)

    def _run(self, request: HttpRequest, form: forms.Form, *, dry_run: bool) -> HttpResponse:
        try:
            result = self.run(form.cleaned_data, self.actor(request), dry_run=dry_run)
        except Exception as exc:  # noqa: BLE001 - every failure gets the admin's own page
            return self.failed(request, form, exc)
        data = result.as_dict()
        if not dry_run:
            done = "Done: changes applied." if data.get("changed") else "Nothing needed changing."
            messages.success(request, done)
        return self.render(request, form, result=data, preview=dry_run, applied=not dry_run)


class DiagnosisPage(SupportPage):
    form_method = "get"
    # The repair behind each fix name: its button shows only to who may apply it.
    fix_actions: ClassVar[Mapping[str, ActionSpec]] = {}

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        raise NotImplementedError

    def fix_url(
        self, problem: dict[str, Any], result: dict[str, Any], data: dict[str, Any]
    ) -> str | None:
        return None

    def may_apply_fix(self, actor: Actor, fix: str) -> bool:
        spec = self.fix_actions.get(fix)
        return spec is not None and spec.can_apply(actor)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        self.check_view(request)
        form = self._bound_from_query(request, self.initial(request, **kwargs))
        if not (form.is_bound and form.is_valid()):
            return self.render(request, form)
        actor = self.actor(request)
        try:
            result = self.run(form.cleaned_data, actor)
        except Exception as exc:  # noqa: BLE001 - every failure gets the admin's own page
            return self.failed(request, form, exc)
        data = result.as_dict()

        def url(problem: dict[str, Any]) -> str | None:
            found = self.fix_url(problem, data, form.cleaned_data)
            return with_back(found, request.get_full_path()) if found else None

        data["problems"] = self.wording.present(
            data.get("problems", []),
            may_apply=lambda fix: self.may_apply_fix(actor, fix),
            fix_url=url,
        )
        return self.render(request, form, result=data, diagnosis=True)


def with_back(url: str, back: str) -> str:
    """`url` leading back to `back` after Apply, unless it already names where to go."""
    if "next=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'next': back})}"
