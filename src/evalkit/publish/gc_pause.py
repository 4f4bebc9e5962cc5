"""Python's cyclic garbage collector paused while WeasyPrint lays out a document.

A school report's layout allocates hundreds of thousands of objects, which sets off about 140
collections of the cyclic collector per PDF, each walking every object the worker holds: about a
tenth of the PDF's time (measured in ``docs/benchmarks.md``). Nothing is leaked: reference
counting frees everything not held in a cycle at once, and the cycles are collected as soon as
the collector is back on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_state = {"holders": 0, "was_enabled": False}


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic collector off inside the ``with`` block; on again (if it was on before the
    first of them) when the last block open in any thread closes."""
    with _lock:
        if _state["holders"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["holders"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["holders"] -= 1
            if _state["holders"] == 0 and _state["was_enabled"]:
                gc.enable()
