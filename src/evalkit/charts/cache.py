"""A run's charts drawn once: PNGs shared by the kernels of one run, by what they are drawn from.

The school report and the trend report of a school draw the same trend chart from the same
table. When the folder named by the environment variable :data:`CACHE_ENV` exists (``evalkit
run`` sets it for its worker processes and their kernels, and removes the folder when its batch
ends: :func:`evalkit.runtime.processes.run_in_processes`), :func:`evalkit.charts.figures.show_chart` keeps each chart's
PNG there under a content address, and the second report reads it instead of drawing again.

The address is the SHA-256 of everything the pixels depend on:

- the chart's function (module and qualified name; any other callable, or a lambda, makes the
  chart uncacheable) and the PNG's resolution;
- its arguments: data frames by their pickle (values, dtypes, index and columns), other
  arguments by ``repr`` with their type; an argument of any other kind makes the chart
  uncacheable (drawn every time);
- the versions of evalkit, matplotlib, NumPy and Pillow, the CJK font file, and every
  matplotlib rcParam in force when drawing.

So a cached PNG is byte for byte the PNG a fresh drawing would give (tests/test_chart_cache.py
checks it). An entry is written atomically (a reader sees the whole file or none); a missing,
unreadable or foreign entry is a miss, and a miss only draws. Without the variable (a notebook
run by hand, a Dask worker) nothing is cached and nothing is written.

An entry is the PNG preceded by one ASCII line: the figure's width in inches (``repr`` of the
float), which the notebook display needs (:func:`evalkit.charts.figures.show`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["CACHE_ENV", "cache_folder", "chart_key", "load", "store"]

CACHE_ENV = "EVALKIT_CHART_CACHE"
"""Environment variable naming the run's chart folder (unset: no cache)."""

_SCALARS = (str, int, float, bool, type(None))


def cache_folder() -> Path | None:
    """The folder named by :data:`CACHE_ENV` if it is set and exists, else ``None``."""
    folder = os.environ.get(CACHE_ENV, "")
    if not folder:
        return None
    path = Path(folder)
    return path if path.is_dir() else None


def _feed(h: Any, value: object) -> bool:
    """Add ``value`` to the hash ``h``; ``False`` when it is of a kind not addressed here."""
    import pandas as pd

    if isinstance(value, pd.DataFrame | pd.Series):
        h.update(f"<{type(value).__name__}>".encode())
        h.update(pickle.dumps(value, protocol=5))
        return True
    if isinstance(value, _SCALARS):
        h.update(repr((type(value).__name__, value)).encode())
        return True
    if isinstance(value, tuple | list):
        h.update(f"<{type(value).__name__} {len(value)}>".encode())
        return all(_feed(h, v) for v in value)
    if isinstance(value, dict):
        h.update(f"<dict {len(value)}>".encode())
        return all(_feed(h, k) and _feed(h, v) for k, v in sorted(value.items(), key=lambda kv: repr(kv[0])))
    return False


def _environment() -> str:
    """Versions, the font file and the rcParams: what the same call's pixels also depend on."""
    import matplotlib
    import numpy
    import PIL

    import evalkit
    from evalkit.charts.fonts import cjk_font_path, setup_matplotlib

    setup_matplotlib()
    rc = sorted((k, repr(v)) for k, v in matplotlib.rcParams.items())
    return repr((evalkit.__version__, matplotlib.__version__, numpy.__version__, PIL.__version__,
                 str(cjk_font_path()), rc))


def chart_key(draw: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object],
              dpi: int) -> str | None:
    """The content address of ``draw(*args, **kwargs)`` drawn at ``dpi`` (hex SHA-256), or
    ``None`` when an argument is of a kind that is not addressed (see the module)."""
    name = getattr(draw, "__qualname__", None)  # a function; not an instance, a partial, …
    if not isinstance(name, str) or "<lambda>" in name:
        return None
    h = hashlib.sha256()
    h.update(f"{draw.__module__}.{name}@{dpi}\n".encode())
    if not (_feed(h, args) and _feed(h, kwargs)):
        return None
    h.update(_environment().encode())
    return h.hexdigest()


def load(key: str) -> tuple[float, bytes] | None:
    """(width in inches, PNG bytes) kept under ``key`` in the run's folder; ``None`` when there
    is no folder or no whole entry."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        data = (folder / f"{key}.png").read_bytes()
    except OSError:
        return None
    head, sep, png = data.partition(b"\n")
    try:
        width = float(head.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not sep or not png.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    return width, png


def store(key: str, width: float, png: bytes) -> None:
    """Keep ``png`` (of a figure ``width`` inches wide) under ``key`` in the run's folder,
    atomically; nothing without a folder, or when it cannot be written (the next report draws
    again)."""
    from evalkit.io.atomic import atomic_write_bytes

    folder = cache_folder()
    if folder is None:
        return
    try:
        atomic_write_bytes(folder / f"{key}.png", repr(float(width)).encode("ascii") + b"\n" + png, fsync=False)
    except OSError:
        pass
