"""Turning what people typed into what the services use: a pasted code or link into a code,
`--at` into a datetime; and the text checks the playbook's inputs need."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from support_tools.errors import SupportError

CODE_EMPTY = "Give an enrollment code, or the redemption link that ends in it."
AT_INVALID = "{value!r} is not an ISO 8601 date or date and time (e.g. 2025-03-01T09:00:00Z)."

# Quotes and brackets that e-mail clients and chat tools put around a pasted code or link,
# and the punctuation a sentence leaves after it.
_WRAPPERS = frozenset("\"'`“”‘’«»<>()[]{}.,;:!")
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_BARE_HEX = re.compile(r"[0-9a-f]{32}")
_URL_MARKER = "enrollmentcode"
# A malformed input is echoed (JSON, audit row, admin page) at most this long.
SHOWN_MAX = 200
# Kept as typed when echoed: the line breaks and tabs of a pasted text.
_KEPT_CONTROLS = frozenset("\t\n\r")
# Letters that render as nothing (Hangul fillers, the Braille blank).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})


@dataclass(frozen=True)
class NormalisedCode:
    text: str  # the canonical code when well-formed, else the cleaned input, safe to show
    well_formed: bool

    @property
    def digits(self) -> str:
        """The input without dashes: what typo suggestions compare."""
        return self.text.replace("-", "")


def normalise_code(raw: str) -> NormalisedCode:
    """Strip spaces and quotes, fold case, reduce a redemption link to its code, and give a
    UUID its canonical form (dashes at their places), accepting the 32 digits without dashes.

    Invisible format characters that copying carries (zero-width spaces, byte-order marks,
    soft hyphens) are dropped like spaces. Control characters (NUL from a link ending in
    `%00`, lone surrogates) make the input malformed; they are shown escaped, so the
    result can be stored and displayed."""
    text = _strip_wrappers(_drop_invisible(raw or ""))
    if "/" in text or "?" in text or "#" in text:
        text = _strip_wrappers(_drop_invisible(_code_of_url(text)))
    text = "".join(text.split()).lower()  # a link or code broken over lines by an e-mail
    if not text:
        raise SupportError(CODE_EMPTY)
    if text.startswith("urn:uuid:"):
        text = text[len("urn:uuid:") :]
    if _CANONICAL.fullmatch(text):
        return NormalisedCode(text, True)
    if _BARE_HEX.fullmatch(text):
        canonical = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
        return NormalisedCode(canonical, True)
    shown = escape_controls(text, keep=frozenset())
    if len(shown) > SHOWN_MAX:
        shown = shown[:SHOWN_MAX] + "…"
    return NormalisedCode(shown, False)


def escape_controls(text: str, *, keep: frozenset[str] = _KEPT_CONTROLS) -> str:
    """`text` with its control characters (but line breaks and tabs) and lone surrogates
    written as escapes (`\\x00`, `\\ud800`): PostgreSQL refuses NUL, UTF-8 refuses lone
    surrogates, and neither means anything to a person reading it."""
    return "".join(
        _escape(char) if unicodedata.category(char) in {"Cc", "Cs"} and char not in keep else char
        for char in text
    )


def has_visible_text(text: str | None) -> bool:
    """Whether `text` holds something a person can read: not only spaces, zero-width or
    other invisible characters."""
    return any(
        unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _BLANK_LETTERS
        for char in text or ""
    )


def _escape(char: str) -> str:
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def _drop_invisible(text: str) -> str:
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def _strip_wrappers(text: str) -> str:
    # One pass from each end: stripping each kind in turn until nothing changes is the same
    # result, but quadratic on inputs like "'.'.'.'.".
    start, end = 0, len(text)
    while start < end and _wraps(text[start]):
        start += 1
    while end > start and _wraps(text[end - 1]):
        end -= 1
    return text[start:end]


def _wraps(char: str) -> bool:
    return char.isspace() or char in _WRAPPERS


def _code_of_url(text: str) -> str:
    """The path segment after `enrollmentcode/`, else the last one; never the query string."""
    path = re.split(r"[?#]", text, maxsplit=1)[0]
    if "://" in path:  # the host is never the code
        path = path.split("://", 1)[1].partition("/")[2]
    segments = [unquote(s) for s in path.split("/") if s]
    lowered = [s.lower() for s in segments]
    if _URL_MARKER in lowered[:-1]:
        return segments[lowered.index(_URL_MARKER) + 1]
    return segments[-1] if segments else ""


def parse_at(value: str | dt.datetime | None) -> dt.datetime | None:
    """An ISO 8601 date or datetime; naive values are UTC. None stays None (meaning now)."""
    if value is None or isinstance(value, dt.datetime):
        return _aware(value) if value is not None else None
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            parsed = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise SupportError(AT_INVALID.format(value=text))
    return _aware(parsed)


def _aware(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        return timezone.make_aware(value, dt.UTC)
    return value
