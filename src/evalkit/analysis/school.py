"""One school in one year: headline, areas against the county, strengths and weaknesses.

Everything here is what a school's own report may show: the school's figures, county-wide and
same-type aggregates, and its own rank — never another school's name or figures. Same-type
means are withheld (``NaN``) when fewer than :data:`MIN_GROUP` schools share the type, since
with two schools the mean would reveal the other school's figure.

>>> from evalkit.analysis.examples import example_results
>>> r = example_results()
>>> h = headline(r, "002", 2024)
>>> h.total, h.grade, h.rank, h.prev_total, h.change
(85.0, '较好', 2, 70.0, 15.0)
>>> area_comparison(r, "002", 2024)[["area_name", "points", "county_mean", "type_mean"]]
  area_name  points  county_mean  type_mean
0      思想强基    50.0    40.333333        NaN
1      夯基垒台    33.0    38.666667        NaN
>>> strengths, weaknesses = strengths_weaknesses(r, "002", 2024)
>>> list(strengths["indicator_id"]), list(weaknesses["indicator_id"])
(['A2', 'A1'], ['B2', 'B1'])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.analysis._common import (
    MIN_GROUP,
    check_school,
    previous_year,
    rounded,
    school_rows,
    year_rows,
)
from evalkit.analysis.comparable import comparable_totals, framework_change
from evalkit.framework import Framework
from evalkit.results import Results

__all__ = [
    "Headline",
    "area_comparison",
    "bonus_details",
    "headline",
    "indicator_comparison",
    "indicator_table",
    "points_lost",
    "public_view",
    "strengths_weaknesses",
    "veto_details",
]


@dataclass(frozen=True)
class Headline:
    """A school's result in one year and its change from the previous year it was scored."""

    school_id: str
    school_name: str
    school_type: str
    township: str
    year: int
    base: float
    bonus: float
    total: float
    grade: str
    grade_by_score: str
    veto: bool
    veto_ids: str
    quota_demoted: bool
    rank: int
    n_schools: int
    rank_in_type: int
    n_in_type: int
    prev_year: int | None = None
    prev_total: float | None = None
    prev_grade: str | None = None
    prev_rank: int | None = None
    change: float | None = None
    basis: str = "total"
    """What ``change`` compares: ``total`` (points; the same framework both years), ``rate``
    (得分率, percentage points) or ``common`` (points of the common indicators), see
    :mod:`evalkit.analysis.comparable`."""
    prev_rate: float | None = None
    rate: float | None = None
    comparison_note: str = ""
    """The sentence saying how the frameworks of the two years differ (empty when the same)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def headline(results: Results, school_id: str, year: int) -> Headline:
    """The school's total, bonus, grade, ranks and change from the previous scored year.

    ``change`` is ``total − prev_total`` rounded to the Results' precision; ``None`` (and the
    ``prev_*`` fields too) when the school has no earlier year. ``prev_total``, ``prev_grade``
    and ``prev_rank`` are last year's as scored (as published, for a sealed year). When last
    year was scored under another framework, ``change`` is on the comparable basis
    (:mod:`evalkit.analysis.comparable`: ``basis``, ``rate``/``prev_rate``, ``comparison_note``).
    """
    row = check_school(results, school_id, year)
    prev = previous_year(results, school_id, year)
    extra: dict[str, Any] = {}
    if prev is not None:
        p = results.school(str(school_id), prev)
        extra = {
            "prev_year": prev,
            "prev_total": float(p["total"]),
            "prev_grade": str(p["grade"]),
            "prev_rank": int(p["rank"]),
            "change": float(rounded(float(row["total"]) - float(p["total"]), results.meta)),
        }
        moved = framework_change(results, year, prev)
        if moved is not None:  # another framework last year: compare like with like
            both = comparable_totals(results, year, moved).set_index("school_id")
            if str(school_id) in both.index:
                got = both.loc[str(school_id)]
                extra.update(change=float(got["change"]), basis=moved.basis, comparison_note=moved.sentence)
                if moved.basis == "rate":
                    extra.update(prev_rate=float(got["prev_value"]), rate=float(got["value"]))
    return Headline(
        school_id=str(row["school_id"]),
        school_name=str(row["school_name"]),
        school_type=str(row["school_type"] or ""),
        township=str(row["township"] or ""),
        year=int(year),
        base=float(row["base"]),
        bonus=float(row["bonus"]),
        total=float(row["total"]),
        grade=str(row["grade"]),
        grade_by_score=str(row["grade_by_score"]),
        veto=bool(row["veto"]),
        veto_ids=str(row["veto_ids"] or ""),
        quota_demoted=bool(row["quota_demoted"]),
        rank=int(row["rank"]),
        n_schools=int(row["n_schools"]),
        rank_in_type=int(row["rank_in_type"]),
        n_in_type=int(row["n_in_type"]),
        **extra,
    )


def _same_type_ids(results: Results, school_id: str, year: int) -> list[str]:
    s = year_rows(results.schools, year)
    school_type = s.loc[s["school_id"] == str(school_id), "school_type"].iloc[0]
    return s.loc[s["school_type"] == school_type, "school_id"].tolist()


def area_comparison(results: Results, school_id: str, year: int) -> pd.DataFrame:
    """The school's points per area against the county mean and the same-type mean.

    Columns: ``area_id, area_name, max_points, points, share, county_mean, county_share,
    type_mean, type_share, diff`` (points − county mean). ``type_*`` are NaN when fewer than
    :data:`MIN_GROUP` schools share the type.
    """
    check_school(results, school_id, year)
    areas = year_rows(results.areas, year)
    order = list(dict.fromkeys(areas["area_id"]))
    county = areas.groupby("area_id")["points"].mean()
    same = _same_type_ids(results, school_id, year)
    typed = areas[areas["school_id"].isin(same)].groupby("area_id")["points"].mean()
    if len(same) < MIN_GROUP:
        typed = typed * np.nan
    own = school_rows(areas, school_id).set_index("area_id").loc[order]
    out = pd.DataFrame(
        {
            "area_id": order,
            "area_name": own["area_name"].to_numpy(),
            "max_points": own["max_points"].to_numpy(),
            "points": own["points"].to_numpy(),
            "share": own["share"].to_numpy(),
            "county_mean": county.loc[order].to_numpy(),
            "type_mean": typed.reindex(order).to_numpy(),
        }
    )
    out["county_share"] = out["county_mean"] / out["max_points"]
    out["type_share"] = out["type_mean"] / out["max_points"]
    out["diff"] = out["points"] - out["county_mean"]
    return out[["area_id", "area_name", "max_points", "points", "share", "county_mean", "county_share",
                "type_mean", "type_share", "diff"]]


def indicator_comparison(results: Results, school_id: str, year: int) -> pd.DataFrame:
    """Every indicator of the school with the county mean points and the gap relative to max.

    ``gap = (points − county_mean) / max_points`` (NaN for indicators worth 0 points), so a
    gap of −0.25 means a quarter of the indicator's points below the county average.
    """
    check_school(results, school_id, year)
    ind = year_rows(results.indicators, year)
    county = ind.groupby("indicator_id")["points"].mean().rename("county_mean")
    own = school_rows(ind, school_id).join(county, on="indicator_id")
    own["gap"] = (own["points"] - own["county_mean"]) / own["max_points"].replace(0, np.nan)
    own["lost"] = own["max_points"] - own["points"]
    return own


def public_view(frame: pd.DataFrame, rater_marks: bool = False) -> pd.DataFrame:
    """``frame`` (rows of ``Results.indicators``) as a school's report shows it: unless
    ``rater_marks``, ``value_text`` and ``explanation`` are replaced by their public versions
    (``public_value_text``, ``public_explanation``: several raters' individual marks left out,
    only how they were combined), when the Results have them. Returns a copy."""
    out = frame.copy()
    if not rater_marks:
        for col in ("value_text", "explanation"):
            public = f"public_{col}"
            if public in out.columns and col in out.columns:
                out[col] = out[public].where(out[public].notna(), out[col])
    return out


def strengths_weaknesses(
    results: Results, school_id: str, year: int, framework: Framework | None = None, n: int = 3,
    rater_marks: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(strengths, weaknesses): the ``n`` indicators furthest above / below the county mean,
    relative to each indicator's maximum (see :func:`indicator_comparison`).

    Only indicators strictly above (strengths) or strictly below (weaknesses) the mean are
    listed, so either table can be shorter than ``n`` or empty. With ``framework``, the
    weaknesses carry each indicator's ``suggestion`` (整改建议). Raters' individual marks are
    shown only with ``rater_marks`` (see :func:`public_view`).
    """
    comp = public_view(indicator_comparison(results, school_id, year), rater_marks).dropna(subset=["gap"])
    cols = ["area_name", "indicator_id", "indicator_name", "value_text", "points", "max_points",
            "county_mean", "gap"]
    eps = 1e-9
    strengths = comp[comp["gap"] > eps].sort_values(["gap", "indicator_id"], ascending=[False, True])
    weaknesses = comp[comp["gap"] < -eps].sort_values(["gap", "indicator_id"])
    strengths = strengths.head(n)[cols].reset_index(drop=True)
    weaknesses = weaknesses.head(n)[cols].reset_index(drop=True)
    if framework is not None:
        weaknesses["suggestion"] = [framework.indicator(i).suggestion for i in weaknesses["indicator_id"]]
    return strengths, weaknesses


def points_lost(results: Results, school_id: str, year: int) -> pd.DataFrame:
    """Indicators where the school lost points, most first: ``indicator_id, indicator_name,
    area_id, area_name, points, max_points, lost``."""
    comp = indicator_comparison(results, school_id, year)
    lost = comp[comp["lost"] > 1e-9].sort_values(["lost", "indicator_id"], ascending=[False, True])
    return lost[["indicator_id", "indicator_name", "area_id", "area_name", "points", "max_points",
                 "lost"]].reset_index(drop=True)


def indicator_table(results: Results, school_id: str, year: int, rater_marks: bool = False) -> pd.DataFrame:
    """The full indicator table of the school: ``area_name, indicator_id, indicator_name,
    value_text, explanation, points, max_points``, in framework order. Raters' individual
    marks are shown only with ``rater_marks`` (see :func:`public_view`)."""
    check_school(results, school_id, year)
    rows = public_view(school_rows(results.indicators, school_id, year), rater_marks)
    return rows[["area_name", "indicator_id", "indicator_name", "value_text", "explanation", "points",
                 "max_points"]]


def bonus_details(results: Results, school_id: str, year: int) -> pd.DataFrame:
    """The school's bonus items: ``item_id, item_name, value_text, points, explanation, evidence``."""
    check_school(results, school_id, year)
    rows = school_rows(results.bonus, school_id, year)
    cols = ["item_id", "item_name", "value_text", "points", "explanation", "evidence"]
    if "value_text" not in rows.columns:
        rows["value_text"] = rows.get("value", "")
    return rows[cols]


def veto_details(results: Results, school_id: str, year: int) -> pd.DataFrame:
    """The school's triggered vetoes: ``veto_id, veto_name, grade, evidence``."""
    check_school(results, school_id, year)
    return school_rows(results.vetoes, school_id, year)[["veto_id", "veto_name", "grade", "evidence"]]
