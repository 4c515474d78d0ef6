"""The console's admin door: a search box and one page per learner."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from console.checklist import find_learners, learner_checklist
from support_tools.actors import Actor
from support_tools.errors import SupportError

User = get_user_model()


def _actor(request: HttpRequest) -> Actor:
    actor = Actor.for_user(request.user, door="console")
    if not actor.has_perm("auth.view_user"):
        raise PermissionDenied
    return actor


def console_search(request: HttpRequest) -> HttpResponse:
    _actor(request)
    query = request.GET.get("q", "")
    users: list[Any] = []
    error = None
    if "q" in request.GET:
        try:
            users = find_learners(query)
        except SupportError as exc:
            error = exc.message
        if len(users) == 1:
            return HttpResponseRedirect(reverse("support:console-learner", args=[users[0].pk]))
    context = {
        **admin.site.each_context(request),
        "title": "Support console",
        "query": query,
        "users": users,
        "searched": "q" in request.GET,
        "error": error,
    }
    return TemplateResponse(request, "console/console_search.html", context)


def console_learner(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = _actor(request)
    learner = get_object_or_404(User, pk=user_id)
    checklist = learner_checklist(user=learner, actor=actor).as_dict()
    context = {
        **admin.site.each_context(request),
        "title": f"Support console: {learner.username}",
        "learner": learner,
        "checklist": checklist,
    }
    return TemplateResponse(request, "console/console_learner.html", context)
