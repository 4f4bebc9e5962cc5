"""What-if: change the areas' weights and see the county ranking move.

An area's new weight is the number of points it would be worth. The weights are rescaled so
they add up to the framework's base points (the sum of the areas' maxima), so totals stay on
the same scale and the grade bands still apply. Each school keeps its share of every area:

    new_total = total + Σ_area share × (new_weight − max_points)

(so the current weights reproduce the current totals exactly), rounded to the Results'
precision. With the framework, grades are recomputed the way scoring does it: bands, then
vetoes, then the quota.

>>> from evalkit.analysis.examples import example_results
>>> r = example_results()
>>> reweight_ranking(r, 2024, {"A": 10, "B": 10})[["school_id", "total", "rank", "new_total", "new_rank"]]
  school_id  total  rank  new_total  new_rank
0       001   92.0     1       92.0         1
1       002   85.0     2       85.0         2
2       003   62.0     3       62.0         3
>>> w = reweight_ranking(r, 2024, {"A": 90, "B": 10})
>>> w[["school_id", "new_total", "new_rank", "rank_change"]]
  school_id  new_total  new_rank  rank_change
0       002       98.6         1            1
1       001       92.0         2           -1
2       003       52.4         3            0
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evalkit.analysis._common import rounded, year_rows
from evalkit.framework import Framework
from evalkit.results import Results

__all__ = ["area_weights", "reweight_ranking"]


def area_weights(results: Results, year: int) -> dict[str, float]:
    """The current weights: area id → max points, in framework order."""
    a = year_rows(results.areas, year)
    return {str(k): float(v) for k, v in a.groupby("area_id", sort=False)["max_points"].first().items()}


def _normalised(results: Results, year: int, weights: Mapping[str, float]) -> pd.Series:
    """Area id → weight rescaled to the base points; areas not in ``weights`` keep theirs."""
    current = area_weights(results, year)
    ids = year_rows(results.areas, year).groupby("area_name", sort=False)["area_id"].first().to_dict()
    w = pd.Series(current)
    for key, value in weights.items():
        area = key if key in current else ids.get(key)
        if area is None:
            raise KeyError(f"没有领域 {key} / unknown area; 现有：{', '.join(current)}")
        if float(value) < 0:
            raise ValueError(f"领域 {key} 的权重不能为负数 / weights must be ≥ 0")
        w[area] = float(value)
    if w.sum() <= 0:
        raise ValueError("权重之和必须大于 0 / weights must not all be 0")
    return w / w.sum() * sum(current.values())


def reweight_ranking(
    results: Results, year: int, weights: Mapping[str, float], framework: Framework | None = None
) -> pd.DataFrame:
    """The county ranking with areas re-weighted (see the module docstring).

    ``weights`` maps area ids (or names) to relative weights; areas not named keep their
    current points. Columns: ``school_id, school_name, school_type, total, rank, grade,
    new_total, new_rank, rank_change`` (positive = moved up) and, with ``framework``,
    ``new_grade``; sorted by ``new_rank``.
    """
    w = _normalised(results, year, weights)
    a = year_rows(results.areas, year)
    delta = (a["share"] * (a["area_id"].map(w) - a["max_points"])).groupby(a["school_id"]).sum()
    s = year_rows(results.schools, year)
    s["new_total"] = rounded(s["total"] + s["school_id"].map(delta).fillna(0.0), results.meta)
    s["new_rank"] = s["new_total"].rank(method="min", ascending=False).astype(int)
    s["rank_change"] = s["rank"] - s["new_rank"]
    cols = ["school_id", "school_name", "school_type", "total", "rank", "grade", "new_total", "new_rank",
            "rank_change"]
    if framework is not None:
        s["new_grade"] = _grades(s, year_rows(results.vetoes, year), framework)
        cols.append("new_grade")
    return s.sort_values(["new_rank", "school_id"])[cols].reset_index(drop=True)


def _grades(s: pd.DataFrame, vetoes: pd.DataFrame, fw: Framework) -> pd.Series:
    """Final grades for ``new_total`` as scoring makes them: bands, worst veto grade, quota."""
    from evalkit.scoring.grading import apply_quota, apply_vetoes, grade_by_score, next_grade

    order = {g: i for i, g in enumerate(fw.grade_order)}
    worst = vetoes.assign(o=vetoes["grade"].map(order)).sort_values("o").groupby("school_id")["grade"].last()
    graded = apply_vetoes(grade_by_score(s["new_total"], fw), s["school_id"].map(worst), fw)
    demoted = apply_quota(pd.DataFrame({"year": s["year"], "grade": graded, "total": s["new_total"]}), fw)
    return next_grade(graded, fw).where(demoted, graded)
