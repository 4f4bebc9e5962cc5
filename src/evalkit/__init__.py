"""evalkit: scoring, explanation and reporting for county assessments of school Party-building.

From a notebook cell::

    import evalkit
    fw = evalkit.load_framework()                 # the shipped default framework
    results = evalkit.score(observations, fw, registry)
    results.schools.head()
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evalkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+local"

from evalkit._moved import MOVED, install_moved_finder
from evalkit.framework import Framework, FrameworkError, load_framework

__all__ = ["Framework", "FrameworkError", "__version__", "load_framework", "load_results", "score", "score_files"]


def score(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Score Observations with a Framework: see :func:`evalkit.scoring.score`."""
    from evalkit.scoring import score as _score

    return _score(*args, **kwargs)


def load_results(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Results for a year (saved scores, or the demo county scored now): see
    :func:`evalkit.api.load_results`."""
    from evalkit.api import load_results as _load

    return _load(*args, **kwargs)


def score_files(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Score observation files: see :func:`evalkit.api.score_files`."""
    from evalkit.api import score_files as _score_files

    return _score_files(*args, **kwargs)


_SUBMODULES = {"analysis", "charts", "framework", "scoring", "intake", "publish", "planner", "runtime", "demo"}


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """``evalkit.charts.radar(...)`` from a notebook without importing the submodule first
    (submodules load on first use, so ``import evalkit`` stays fast)."""
    from importlib import import_module

    if name in _SUBMODULES:
        return import_module(f"evalkit.{name}")
    if f"evalkit.{name}" in MOVED:  # ``from evalkit import uncertainty_charts`` in an older notebook
        return import_module(f"evalkit.{name}")
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")


install_moved_finder()
