"""Scoring's large arrays on ordinary memory pages, not transparent huge pages.

NumPy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every array
of 4 MB or more. Scoring a province (millions of observation rows) makes hundreds of such
short-lived arrays; where the kernel's THP ``defrag`` setting is ``madvise`` (the common
default), each first touch of a 2 MB page may compact memory synchronously. Measured on a
5,000-school × 5-year county (2.1 million rows, 2 cores): 1.1–1.5 s of kernel time in a
4.3 s scoring, 0.4 s without the advice, with more (cheaper) 4 KB page faults. Values are
unaffected: only the kernel's page size changes.

:func:`small_pages` turns NumPy's advice off for the duration of a ``with`` block and puts the
previous setting back (``NUMPY_MADVISE_HUGEPAGE=0`` does the same for a whole process). NumPy
keeps one process-wide switch: two threads scoring at once may leave it off, which only costs
the huge pages' benefit elsewhere. Without the switch (another NumPy) nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


@contextmanager
def small_pages() -> Iterator[None]:
    """Run the block with NumPy's huge-page advice off (restored afterwards)."""
    core = getattr(np, "_core", None)
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is None:
        yield
        return
    previous = setter(False)
    try:
        yield
    finally:
        setter(previous)
