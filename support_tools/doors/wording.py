"""Words for people: what the admin door and the console show instead of identifiers.

Each playbook declares, beside its diagnosis, a title per problem code (`TITLES`), a label per
fix (`FIX_LABELS`) and the problems that stop a fix from working (`FIX_BLOCKED_BY`); they meet
here as one `Wording`. Codes and fix names stay what they are in the JSON and the audit trail:
the pages show them as small text for engineers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FIXED_ABOVE = "The “{label}” button above fixes this too."
NOT_YOURS = "Fixing this needs a permission you do not have: ask a support lead."

# Abbreviations that stay in capitals when an identifier is turned into words.
_CAPITALS = {"amc": "AMC", "sso": "SSO", "id": "ID", "url": "URL", "idp": "IdP", "idps": "IdPs"}


def humanize(identifier: str) -> str:
    """ "token_check" -> "Token check", "amc_account" -> "AMC account"."""
    words = [_CAPITALS.get(w, w) for w in str(identifier).replace("-", "_").split("_") if w]
    if not words:
        return ""
    first = words[0]
    return " ".join([first[:1].upper() + first[1:], *words[1:]])


@dataclass(frozen=True)
class Blocker:
    """A problem that stops some fixes from working, and the sentence saying why."""

    fixes: frozenset[str]
    why: str


@dataclass(frozen=True)
class Wording:
    titles: Mapping[str, str] = field(default_factory=dict)
    fix_labels: Mapping[str, str] = field(default_factory=dict)
    blocked_by: Mapping[str, Blocker] = field(default_factory=dict)

    def title(self, code: str) -> str:
        return self.titles.get(code) or humanize(code)

    def fix_label(self, fix: str | None) -> str:
        return (self.fix_labels.get(fix) or humanize(fix)) if fix else ""

    def blocked(self, codes: Iterable[str]) -> dict[str, str]:
        """fix -> why it is not offered, for the fixes that the problems `codes` stop."""
        out: dict[str, str] = {}
        for code in codes:
            blocker = self.blocked_by.get(code)
            for fix in blocker.fixes if blocker else ():
                out.setdefault(fix, blocker.why)
        return out

    def present(
        self,
        problems: Iterable[dict[str, Any]],
        *,
        may_apply: Callable[[str], bool],
        fix_url: Callable[[dict[str, Any]], str | None],
    ) -> list[dict[str, Any]]:
        """The problems (their JSON) with what a person reads: `title`, `fix_label`, and either
        a `fix_url` (a fix that can work and that the viewer may apply, offered once) or a
        `fix_note` saying why there is no button."""
        problems = list(problems)
        blocked = self.blocked(p["code"] for p in problems)
        offered: set[str] = set()
        shown = []
        for problem in problems:
            fix = problem.get("fix")
            view = {
                **problem,
                "title": self.title(problem["code"]),
                "fix_label": self.fix_label(fix),
                "fix_url": None,
                "fix_note": None,
            }
            if fix in blocked:
                view["fix_note"] = blocked[fix]
            elif fix in offered:
                view["fix_note"] = FIXED_ABOVE.format(label=view["fix_label"])
            elif fix and not may_apply(fix):
                view["fix_note"] = NOT_YOURS
            elif fix:
                view["fix_url"] = fix_url(problem)
                if view["fix_url"]:
                    offered.add(fix)
            shown.append(view)
        return shown
