"""How a link result reads: its verdict, its Apply label, its statuses in words.

Shared by the link page (a small sheet, run in the request) and the job page of a big one.
"""

from __future__ import annotations

from typing import Any

from django import template

from enrollments.linking.rows import ERROR, LINKED, RELINKED, UNCHANGED

register = template.Library()

PREVIEW = "Dry run: nothing has been written yet."
WOULD_CHANGE = "Applying would {what}."
WOULD_SKIP = "{errors} with errors would be skipped (see below)."
NOTHING_WOULD_CHANGE = "Nothing would change: everything is already in order."
NOTHING_WOULD_CHANGE_BUT_ERRORS = (
    "Nothing would change: {errors} have errors (see below), the others are already in order."
)
DONE = "Done: changes applied."
DONE_ALL = "{what}."
PARTIAL = (
    "Partial success: {what}; {errors} failed and changed nothing (see the errors below): "
    "correct them and run those rows again."
)
NOTHING_CHANGED = "Nothing needed changing."
NOTHING_CHANGED_BUT_ERRORS = (
    "Nothing was changed: {errors} failed (see the errors below); the others were already in order."
)
STATUS_LABELS = {
    LINKED: "Linked",
    RELINKED: "Relinked (taken from another account)",
    UNCHANGED: "Unchanged (already linked)",
    ERROR: "Errors",
}


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _what(counts: dict[str, int], *, past: bool) -> str:
    linked, relinked = counts.get(LINKED, 0), counts.get(RELINKED, 0)
    verbs = ("linked", "relinked") if past else ("link", "relink")
    parts = [f"{verb} {n:,}" for verb, n in zip(verbs, (linked, relinked), strict=True) if n]
    return " and ".join(parts)


@register.simple_tag
def link_verdict(result: dict[str, Any], counts: dict[str, int]) -> str:
    """One sentence that never says more than happened (or would)."""
    errors = counts.get(ERROR, 0)
    changed = bool(counts.get(LINKED) or counts.get(RELINKED))
    rows = _n(errors, "row")
    if result.get("dry_run"):
        if not changed:
            if errors:
                return f"{PREVIEW} {NOTHING_WOULD_CHANGE_BUT_ERRORS.format(errors=rows)}"
            return f"{PREVIEW} {NOTHING_WOULD_CHANGE}"
        verdict = f"{PREVIEW} {WOULD_CHANGE.format(what=_what(counts, past=False))}"
        return f"{verdict} {WOULD_SKIP.format(errors=rows)}" if errors else verdict
    if not changed:
        return NOTHING_CHANGED_BUT_ERRORS.format(errors=rows) if errors else NOTHING_CHANGED
    what = _what(counts, past=True)
    if errors:
        return f"{DONE} {PARTIAL.format(what=what, errors=rows)}"
    return f"{DONE} {DONE_ALL.format(what=what.capitalize())}"


@register.filter
def link_apply_label(counts: dict[str, int]) -> str:
    """What Apply will do, e.g. "Link 9,000, relink 1,000"."""
    return _what(counts, past=False).replace(" and ", ", ").capitalize() or "Apply"


@register.filter
def link_status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.capitalize() if status else "All")


@register.filter
def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
