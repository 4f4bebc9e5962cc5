"""Helpers shared by the analysis modules: picking a year, checking a school, rounding.

>>> _precision({"precision": 2})
2
>>> _precision({})
1
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evalkit.results import Results
from evalkit.textfmt import round_half_up

#: Smallest group whose mean a school's report may show: with two schools, the mean and the
#: school's own figure would reveal the other school's figure.
MIN_GROUP = 3


def _precision(meta: dict[str, Any]) -> int:
    """Decimals of the published points (``meta["precision"]``, default 1)."""
    return int(meta.get("precision", 1))


def year_rows(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """The rows of ``frame`` for ``year`` (a copy with a fresh index)."""
    return frame[frame["year"] == int(year)].reset_index(drop=True)


def school_rows(frame: pd.DataFrame, school_id: str, year: int | None = None) -> pd.DataFrame:
    """The rows of ``frame`` for one school (and one year when given)."""
    pick = frame["school_id"] == str(school_id)
    if year is not None:
        pick &= frame["year"] == int(year)
    return frame[pick].reset_index(drop=True)


def check_school(results: Results, school_id: str, year: int) -> pd.Series:
    """The school's ``schools`` row; ``KeyError`` in Chinese and English when not scored."""
    return results.school(str(school_id), int(year))


def rounded(x: float | pd.Series, meta: dict[str, Any]) -> Any:
    """``x`` rounded half up to the Results' precision."""
    return round_half_up(x, _precision(meta))


def previous_year(results: Results, school_id: str, year: int) -> int | None:
    """The latest year before ``year`` in which the school was scored, or ``None``."""
    s = results.schools
    earlier = s[(s["school_id"] == str(school_id)) & (s["year"] < int(year))]["year"]
    return int(earlier.max()) if not earlier.empty else None
