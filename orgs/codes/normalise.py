"""Turning what a learner pasted into a code, and a support person's --at into a datetime."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import unquote

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from support_tools.errors import SupportError

CODE_EMPTY = "Give an enrollment code, or the redemption link that ends in it."
AT_INVALID = "{value!r} is not an ISO 8601 date or date and time (e.g. 2025-03-01T09:00:00Z)."

# Quotes and brackets that e-mail clients and chat tools put around a pasted code or link.
_WRAPPERS = "\"'`“”‘’«»<>()[]{}"
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_BARE_HEX = re.compile(r"[0-9a-f]{32}")
_URL_MARKER = "enrollmentcode"


@dataclass(frozen=True)
class NormalisedCode:
    text: str  # the canonical code when well-formed, else the cleaned input
    well_formed: bool

    @property
    def digits(self) -> str:
        """The input without dashes: what typo suggestions compare."""
        return self.text.replace("-", "")


def normalise_code(raw: str) -> NormalisedCode:
    """Strip spaces and quotes, fold case, reduce a redemption link to its code, and give a
    UUID its canonical form (dashes at their places), accepting the 32 digits without dashes."""
    text = _strip_wrappers(raw or "")
    if "/" in text or "?" in text or "#" in text:
        text = _strip_wrappers(_code_of_url(text))
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
    return NormalisedCode(text, False)


def _strip_wrappers(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = text.strip().strip(_WRAPPERS).strip(".,;:!")
    return text


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
