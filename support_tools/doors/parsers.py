"""The REST API's request parsers (a module of their own: DRF imports them while the views'
module is still loading)."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

JSON_TOO_DEEP = "The JSON body is nested too deeply to read."


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, but a body nested past the interpreter's depth (json.loads's
    RecursionError) is a 400 with a sentence like any other unreadable body."""

    def parse(self, stream, media_type=None, parser_context=None):  # noqa: ANN001, ANN201
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(JSON_TOO_DEEP) from None
