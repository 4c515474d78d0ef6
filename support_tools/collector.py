"""CPython's cyclic garbage collector, paused for bulk work.

A bulk run allocates millions of small objects (rows, tuples, dicts) that form no cycles:
reference counting frees each as soon as it is dropped, and the cyclic collector only costs,
more the bigger the heap. Linking 100,000 learners triggered it about 9,500 times (41 of them
over the whole heap): 4.9 s of a 15 s run, counted with `gc.callbacks` (README, Benchmarks).
`paused()` turns it off for the run; it runs again, as configured, when the last run that
paused it ends, and then collects any cycle made meanwhile.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def paused() -> Iterator[None]:
    """No automatic cyclic collection inside the block (reentrant, and across threads: the
    collector is one per process)."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
