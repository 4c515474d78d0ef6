"""Run code under the project's own LOGGING (every handler and filter as configured), at a
chosen level, with the handlers writing into a buffer the test can read."""

from __future__ import annotations

import copy
import io
import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings


@contextmanager
def captured_logs(*, level: str = "DEBUG", fmt: str | None = None) -> Iterator[io.StringIO]:
    config = copy.deepcopy(settings.LOGGING)
    config["root"]["level"] = level
    if fmt is not None:
        config["handlers"]["stderr"]["formatter"] = fmt
    buffer = io.StringIO()
    logging.config.dictConfig(config)
    for handler in logging.getLogger().handlers:
        handler.setStream(buffer)
    try:
        yield buffer
    finally:
        logging.config.dictConfig(settings.LOGGING)
