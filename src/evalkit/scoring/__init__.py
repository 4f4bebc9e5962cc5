"""Observations × Framework → Results (see :mod:`evalkit.scoring.engine`).

``evalkit.scoring.score`` is imported on first use (PEP 562), so that the scoring steps' leaf
modules (:mod:`evalkit.scoring.codes`, used by :mod:`evalkit.observations`) can be imported
without the engine, which itself imports the observations.
"""

from __future__ import annotations

from typing import Any

__all__ = ["score"]


def __getattr__(name: str) -> Any:
    if name == "score":
        from evalkit.scoring.engine import score

        return score
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
