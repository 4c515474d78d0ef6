"""How the support pages show a result to a person: labelled fields, never raw JSON; times in
UTC with their zone; identifiers turned into words (the codes stay in the JSON)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from support_tools.doors.wording import Wording, humanize
from support_tools.results import format_when

register = template.Library()

LAID_OUT_ELSEWHERE = {"ok", "problems", "results", "checks", "changed", "dry_run"}
NOTHING = "none"
UNKNOWN = "—"
_ISO_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def as_moment(value: Any) -> dt.datetime | None:
    """A datetime, or an ISO 8601 text of one (as results carry them); naive means UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and _ISO_MOMENT.match(value.strip()):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@register.filter
def when(value: Any) -> str:
    """ "2026-11-20 10:51 UTC" for a datetime or its ISO text; "never" for none."""
    if value in (None, ""):
        return "never"
    moment = as_moment(value)
    return format_when(moment) if moment else str(value)


@register.filter
def label(key: Any) -> str:
    return humanize(str(key))


def _scalar(value: Any) -> str:
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    moment = as_moment(value)
    return format_when(moment) if moment else str(value)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | tuple | dict) and not value)


def render_value(value: Any) -> SafeString:
    """A value of a result as HTML a person reads: nested fields, lists, small tables."""
    if isinstance(value, dict):
        return render_fields(value, skip_empty=False)
    if isinstance(value, list | tuple):
        if not value:
            return format_html("{}", NOTHING)
        if all(isinstance(v, dict) for v in value):
            return render_table(value)
        return format_html_join(", ", "{}", ((render_value(v),) for v in value))
    return format_html("{}", _scalar(value))


def render_fields(data: dict[str, Any], *, skip_empty: bool = True) -> SafeString:
    items = [(k, v) for k, v in data.items() if not (skip_empty and _is_empty(v))]
    if not items:
        return format_html("{}", NOTHING)
    rows = format_html_join(
        "", "<dt>{}</dt><dd>{}</dd>", ((humanize(k), render_value(v)) for k, v in items)
    )
    return format_html('<dl class="fields">{}</dl>', rows)


def render_table(
    rows: list[dict[str, Any]], *, wording: Wording | None = None, table_id: str = ""
) -> SafeString:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    head = format_html_join("", '<th scope="col">{}</th>', ((humanize(k),) for k in keys))

    def cell(key: str, value: Any) -> SafeString:
        shown: Any = value
        if key == "fix" and wording is not None and value:
            shown = format_html(
                '{} <code class="code-name">{}</code>', wording.fix_label(value), value
            )
        elif key == "status" and isinstance(value, str):
            shown = value.replace("_", " ")
        content = shown if isinstance(shown, SafeString) else render_value(shown)
        if key == "status":
            return format_html('<td class="status-{}">{}</td>', value, content)
        return format_html("<td>{}</td>", content)

    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((mark_safe("".join(cell(k, row.get(k)) for k in keys)),) for row in rows),  # noqa: S308
    )
    id_attr = format_html(' id="{}"', table_id) if table_id else ""
    return format_html(
        # Focusable: a table wider than a phone scrolls, by keyboard too.
        '<div class="table-scroll" tabindex="0" role="region" aria-label="Rows">'
        '<table class="result-table"{}><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>',
        id_attr,
        head,
        body,
    )


@register.filter
def as_fields(result: dict[str, Any]) -> SafeString:
    """The result's details (what the checklist and the rows do not already show) as labelled
    fields; empty ones are left out."""
    return render_fields({k: v for k, v in result.items() if k not in LAID_OUT_ELSEWHERE})


@register.filter
def as_value(value: Any) -> SafeString:
    return render_value(value)


@register.simple_tag
def result_rows(rows: list[dict[str, Any]], wording: Wording | None = None) -> SafeString:
    return render_table(rows, wording=wording, table_id="result-rows")


# Kept for templates that still use them: the same words, never JSON.
@register.filter
def detail_items(result: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (humanize(k), v)
        for k, v in result.items()
        if k not in LAID_OUT_ELSEWHERE and not _is_empty(v)
    ]


@register.filter
def pretty(value: Any) -> SafeString:
    return render_value(value)


@register.filter
def is_structured(value: Any) -> bool:
    return isinstance(value, dict | list)
