"""Observations × Framework → Results (see :mod:`evalkit.scoring.engine`)."""

from evalkit.scoring.engine import score

__all__ = ["score"]
