"""One school over the years: totals and grades, area trajectories, persistent weaknesses.

>>> from evalkit.analysis.examples import example_results
>>> r = example_results()
>>> school_trend(r, "003")[["year", "total", "grade", "rank", "county_mean"]]
   year  total grade  rank  county_mean
0  2023   75.0    一般     2    78.333333
1  2024   62.0     差     3    79.666667
>>> persistent_weaknesses(r, "003")[["indicator_id", "weak_years", "n_years"]]
  indicator_id  weak_years  n_years
0           A1           2        2
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from evalkit.analysis._common import MIN_GROUP, school_rows
from evalkit.analysis.comparable import framework_change, total_points
from evalkit.framework import Framework
from evalkit.results import Results

__all__ = ["area_trend", "has_history", "persistent_weaknesses", "school_trend", "trend_notes"]


def school_trend(results: Results, school_id: str) -> pd.DataFrame:
    """The school's result per year it was scored: ``year, base, bonus, total, grade, veto,
    rank, n_schools, rank_in_type, n_in_type, county_mean, type_mean`` (same-type mean NaN
    when fewer than :data:`MIN_GROUP` schools share the type that year) and ``rate``,
    ``county_rate``, ``type_rate`` (得分率, %: the total and the means ÷ that year's framework's
    total points × 100, comparable across a framework change).
    Empty if never scored."""
    s = results.schools
    own = school_rows(s, school_id).sort_values("year")
    county = s.groupby("year")["total"].mean()
    by_type = s.groupby(["year", "school_type"])["total"].agg(["mean", "size"])
    keys = list(zip(own["year"], own["school_type"], strict=True))
    typed = by_type.reindex(keys)
    own["county_mean"] = own["year"].map(county).to_numpy()
    own["type_mean"] = np.where(typed["size"].to_numpy() >= MIN_GROUP, typed["mean"].to_numpy(), np.nan)
    full = own["year"].map(lambda y: total_points(results, int(y))).astype(float)
    own["rate"] = own["total"].astype(float) / full * 100
    own["county_rate"] = own["county_mean"].astype(float) / full * 100
    own["type_rate"] = own["type_mean"].astype(float) / full * 100
    cols = ["year", "base", "bonus", "total", "grade", "veto", "rank", "n_schools", "rank_in_type",
            "n_in_type", "county_mean", "type_mean", "rate", "county_rate", "type_rate"]
    return own[cols].reset_index(drop=True)


def trend_notes(results: Results, school_id: str, year: int | None = None) -> list[str]:
    """One sentence per change of framework between consecutive years of the school (up to
    ``year``), saying how those years compare (:mod:`evalkit.analysis.comparable`); empty when
    every year was scored under the same framework."""
    years = sorted(int(y) for y in school_rows(results.schools, school_id)["year"].unique()
                   if year is None or int(y) <= int(year))
    notes = []
    for before, after in itertools.pairwise(years):
        change = framework_change(results, after, before)
        if change is not None:
            notes.append(change.sentence)
    return notes


def has_history(results: Results, school_id: str, year: int) -> bool:
    """True when the school was scored in some year before ``year``."""
    s = results.schools
    return bool(((s["school_id"] == str(school_id)) & (s["year"] < int(year))).any())


def area_trend(results: Results, school_id: str) -> pd.DataFrame:
    """The school's areas per year: ``year, area_id, area_name, points, max_points, share,
    county_share`` (the county's mean share of the area that year)."""
    a = results.areas
    county = a.groupby(["year", "area_id"])["share"].mean().rename("county_share")
    own = school_rows(a, school_id).join(county, on=["year", "area_id"]).sort_values(["year"], kind="stable")
    return own[["year", "area_id", "area_name", "points", "max_points", "share", "county_share"]].reset_index(
        drop=True
    )


def persistent_weaknesses(
    results: Results,
    school_id: str,
    framework: Framework | None = None,
    min_years: int | None = None,
    n: int | None = None,
) -> pd.DataFrame:
    """Indicators weak in (at least ``min_years``, default every one of) the school's years.

    Weak in a year = the school lost points on it *and* scored below the county mean. Columns:
    ``indicator_id, indicator_name, area_name, weak_years, n_years, mean_share`` (school's mean
    points ÷ max) ``, mean_county_share`` and ``suggestion`` with ``framework``; sorted by
    ``weak_years`` then by the gap to the county; the first ``n`` when given. Empty when the
    school has a single year (one year is not "persistent").
    """
    ind = results.indicators[results.indicators["max_points"] > 0]
    county = ind.groupby(["year", "indicator_id"])["points"].mean().rename("county_mean")
    own = school_rows(ind, school_id).join(county, on=["year", "indicator_id"])
    n_years = int(own["year"].nunique())
    cols = ["indicator_id", "indicator_name", "area_name", "weak_years", "n_years", "mean_share",
            "mean_county_share"] + (["suggestion"] if framework is not None else [])
    if n_years < 2:
        return pd.DataFrame(columns=cols)
    eps = 1e-9
    own["weak"] = (own["points"] < own["max_points"] - eps) & (own["points"] < own["county_mean"] - eps)
    own["county_share"] = own["county_mean"] / own["max_points"]
    g = own.groupby("indicator_id", sort=False)
    out = pd.DataFrame(
        {
            "indicator_name": g["indicator_name"].first(),
            "area_name": g["area_name"].first(),
            "weak_years": g["weak"].sum().astype(int),
            "n_years": n_years,
            "mean_share": g["share"].mean(),
            "mean_county_share": g["county_share"].mean(),
        }
    ).reset_index()
    need = n_years if min_years is None else int(min_years)
    out = out[out["weak_years"] >= need].copy()
    out["_gap"] = out["mean_share"] - out["mean_county_share"]
    out = out.sort_values(["weak_years", "_gap", "indicator_id"], ascending=[False, True, True])
    if n is not None:
        out = out.head(n)
    if framework is not None:
        known = {i.id: i.suggestion for i in framework.indicators}  # not an indicator of every year
        out["suggestion"] = [known.get(i, "") for i in out["indicator_id"]]
    return out[cols].reset_index(drop=True)
