"""Run code under the logging Django configured from the settings' LOGGING (its handlers and
their filters as they are), at a chosen level, with those handlers writing into a buffer."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from support_tools.logsafe import JsonFormatter


@contextmanager
def captured_logs(*, level: str = "DEBUG", fmt: str | None = None) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers = [h for h in root.handlers if not type(h).__module__.startswith("_pytest")]
    assert handlers, "the settings' LOGGING gives the root logger a handler"
    buffer = io.StringIO()
    saved = [(h, h.setStream(buffer), h.formatter) for h in handlers]
    if fmt == "json":
        for handler in handlers:
            handler.setFormatter(JsonFormatter())
    saved_level = root.level
    root.setLevel(level)
    try:
        yield buffer
    finally:
        root.setLevel(saved_level)
        for handler, stream, formatter in saved:
            handler.setStream(stream)
            handler.setFormatter(formatter)
