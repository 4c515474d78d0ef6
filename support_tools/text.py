"""Free text from any door, checked before a service or the database sees it.

Each door runs its free-text inputs through `clean_text`: text the database could not store
(NUL, lone surrogates from a terminal in another encoding) or that a person cannot see (control
characters) is refused with a sentence naming the field.
"""

from __future__ import annotations

import unicodedata

from support_tools.errors import SupportError

TEXT_NOT_UTF8 = (
    "{field}: the text is not valid UTF-8 (pasted from a terminal in another encoding?); "
    "type it again."
)
TEXT_CONTROL = "{field}: the text holds an invisible control character ({char}); remove it."
TEXT_TOO_LONG = "{field}: the text is longer than {limit} characters."
TEXT_BLANK = "{field}: the text is empty or only invisible characters."

ALLOWED_CONTROLS = frozenset("\t")
LINE_BREAKS = frozenset("\r\n")


def clean_text(value: str, *, field: str, max_length: int = 1000, multiline: bool = False) -> str:
    if len(value) > max_length:
        raise SupportError(TEXT_TOO_LONG.format(field=field, limit=max_length))
    allowed = ALLOWED_CONTROLS | LINE_BREAKS if multiline else ALLOWED_CONTROLS
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            raise SupportError(TEXT_NOT_UTF8.format(field=field))
        if category == "Cc" and char not in allowed:
            raise SupportError(TEXT_CONTROL.format(field=field, char=f"U+{ord(char):04X}"))
    return value


def visible(value: str) -> str:
    """The text without its invisible characters (spaces, zero-width and format characters)."""
    return "".join(
        c for c in value if not c.isspace() and unicodedata.category(c) not in {"Cf", "Cc"}
    )
