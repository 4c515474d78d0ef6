import json
from typing import Any

from django import template

register = template.Library()

LAID_OUT_ELSEWHERE = {"ok", "problems", "results", "checks", "changed", "dry_run"}


@register.filter
def detail_items(result: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(k.replace("_", " "), v) for k, v in result.items() if k not in LAID_OUT_ELSEWHERE]


@register.filter
def pretty(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, indent=1, default=str, ensure_ascii=False)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@register.filter
def is_structured(value: Any) -> bool:
    return isinstance(value, dict | list)
