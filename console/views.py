"""The console's admin door: a search box and one page per learner."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from console.checklist import AMC_TITLE, learner_checklist
from console.history import action_label
from console.search import search_learners
from support_tools.actors import Actor
from support_tools.errors import SupportError

User = get_user_model()

# The section's status, in words (the badge; data-status keeps the identifier).
STATUS_WORDS = {
    "ok": "fine",
    "warning": "warning",
    "error": "needs fixing",
    "not_checked": "not checked",
}


def _actor(request: HttpRequest) -> Actor:
    actor = Actor.for_user(request.user, door="console")
    if not actor.has_perm("auth.view_user"):
        raise PermissionDenied
    return actor


def console_search(request: HttpRequest) -> HttpResponse:
    _actor(request)
    query = request.GET.get("q", "")
    search = None
    error = None
    if "q" in request.GET:
        try:
            search = search_learners(query)
        except SupportError as exc:
            error = exc.message
        if search is not None and len(search.users) == 1 and not search.notes:
            return HttpResponseRedirect(
                reverse("support:console-learner", args=[search.users[0].pk])
            )
    context = {
        **admin.site.each_context(request),
        "title": "Support console",
        # A refused query is not echoed back into the box (it may hold a NUL).
        "query": "" if error else query,
        "users": search.users if search else [],
        "notes": search.notes if search else [],
        "searched": "q" in request.GET,
        "error": error,
    }
    return TemplateResponse(request, "console/console_search.html", context)


def console_learner(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = _actor(request)
    learner = get_object_or_404(User, pk=user_id)
    previews = request.GET.get("previews") == "1"
    checklist = learner_checklist(user=learner, actor=actor, previews=previews)
    sections = checklist.as_dict()["sections"]
    for section in sections:
        section["status_words"] = STATUS_WORDS.get(section["status"], section["status"])
    history = [
        {
            "row": row,
            "label": action_label(row.action),
            "url": reverse("admin:support_tools_supportaction_change", args=[row.id]),
        }
        for row in checklist.history.rows
    ]
    trail = reverse("admin:support_tools_supportaction_changelist")
    context = {
        **admin.site.each_context(request),
        "title": f"Support console: {learner.username}",
        "learner": learner,
        "checklist": checklist,
        "sections": sections,
        "amc_title": AMC_TITLE,
        "history": history,
        "history_more": checklist.history.more,
        "previews": previews,
        "previews_hidden": checklist.history.previews_hidden,
        "toggle_url": "?" + urlencode({"previews": "0" if previews else "1"}),
        "trail_url": f"{trail}?{urlencode({'learner': learner.username})}",
    }
    return TemplateResponse(request, "console/console_learner.html", context)
