"""Grades, vetoes, the top-grade quota and ranks — all per year, over whole columns.

- Grade by score: the band ``[min, max)`` that holds the published total (rounded to the
  framework's precision, so the total a school sees and its grade always agree).
- Veto: a school with a triggered veto takes the veto's grade (the worst, if several),
  whatever its score.
- Quota: at most ``n = floor(max_share × N)`` schools of the year (``N`` = schools graded that
  year) keep the quota grade, best totals first; the rest take the next grade down. When the
  boundary falls inside a tie, ``demote_all`` demotes every tied school (the quota is never
  exceeded), ``admit_all`` admits them all.
- Rank: by total, descending; tied totals share the better rank (1, 2, 2, 4) — in the county
  and among schools of the same type.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evalkit.framework import Framework


def grade_by_score(total: pd.Series, fw: Framework) -> pd.Series:
    """Band lookup: the grade whose ``[min, max)`` holds ``total`` (totals below every band,
    e.g. negative, take the lowest grade)."""
    bands = sorted(fw.grades, key=lambda g: g.min)
    mins = np.array([b.min for b in bands])
    names = np.array([b.name for b in bands], dtype=object)
    idx = np.searchsorted(mins, total.to_numpy(dtype=float), side="right") - 1
    return pd.Series(names[np.clip(idx, 0, len(bands) - 1)], index=total.index, dtype=object)


def apply_vetoes(grade: pd.Series, veto_grade: pd.Series, fw: Framework) -> pd.Series:
    """The worse of the score grade and the veto grade (``veto_grade`` missing = no veto)."""
    rank = {g: i for i, g in enumerate(fw.grade_order)}
    worse = veto_grade.map(rank).fillna(-1) > grade.map(rank)
    return veto_grade.where(worse, grade).astype(object)


def apply_quota(schools: pd.DataFrame, fw: Framework) -> pd.Series:
    """Boolean Series: schools demoted by the quota (see module docstring)."""
    demoted = pd.Series(False, index=schools.index)
    q = fw.quota
    if q is None:
        return demoted
    for _year, grp in schools.groupby("year", sort=False):
        allowed = math.floor(q.max_share * len(grp) + 1e-9)
        holders = grp[grp["grade"] == q.grade]
        if len(holders) <= allowed:
            continue
        totals = holders["total"]
        better_or_equal = totals.rank(method="max", ascending=False)  # schools with total ≥ mine
        strictly_better = totals.rank(method="min", ascending=False) - 1
        keep = better_or_equal <= allowed if q.ties == "demote_all" else strictly_better < allowed
        demoted[holders.index[~keep.to_numpy()]] = True
    return demoted


def next_grade(grade: pd.Series, fw: Framework) -> pd.Series:
    order = fw.grade_order
    step = {g: order[min(i + 1, len(order) - 1)] for i, g in enumerate(order)}
    return grade.map(step).astype(object)


def ranks(schools: pd.DataFrame) -> pd.DataFrame:
    """``rank``, ``n_schools`` per year; ``rank_in_type``, ``n_in_type`` per year × type."""
    by_year = schools.groupby("year")["total"]
    by_type = schools.groupby(["year", "school_type"])["total"]
    return pd.DataFrame(
        {
            "rank": by_year.rank(method="min", ascending=False).astype(int),
            "n_schools": by_year.transform("size").astype(int),
            "rank_in_type": by_type.rank(method="min", ascending=False).astype(int),
            "n_in_type": by_type.transform("size").astype(int),
        },
        index=schools.index,
    )
