"""The admin index offers a support page only to those the page itself would let in."""

from __future__ import annotations

from typing import Any

from django import template

from console.pages import PAGES
from support_tools.actors import Actor

register = template.Library()

PAGES_BY_NAME = {page.name: page for page in PAGES}


@register.simple_tag(takes_context=True)
def may_open(context: dict[str, Any], name: str) -> bool:
    """What the page's own check (`SupportPage.check_view`) would answer for this person."""
    actor = Actor.for_user(context["request"].user, door="admin")
    return PAGES_BY_NAME[name].action.can_preview(actor)
