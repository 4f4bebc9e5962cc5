"""Clean-up that must run when this process ends, also when it is a ``multiprocessing`` worker.

A worker of a process pool ends with ``os._exit``: it skips ``atexit``, but runs the finalizers
of :mod:`multiprocessing.util`. :func:`call_at_exit` registers a function with both, once per
process, so it runs whichever way the process ends normally (WeasyPrint's temporary font folder,
:mod:`evalkit.publish.render`; the long-lived pandoc, :mod:`evalkit.publish.pandoc_server`). The
function must be safe to call twice.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable

__all__ = ["call_at_exit"]

_registered: set[tuple[int, Callable[[], object]]] = set()


def call_at_exit(function: Callable[[], object]) -> None:
    """Call ``function`` when this process exits (``atexit``) or when it ends as a
    ``multiprocessing`` worker (its finalizers); registered once per process."""
    key = (os.getpid(), function)
    if key in _registered:
        return
    _registered.add(key)
    atexit.register(function)
    try:
        from multiprocessing import util

        util.Finalize(None, function, exitpriority=0)
    except Exception:  # pragma: no cover - multiprocessing is in the standard library
        pass
