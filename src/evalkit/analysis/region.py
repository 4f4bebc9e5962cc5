"""Comparing the counties of a city or a province (the region summary notebook).

Each county keeps its own Results (scored on its own: its own quota, ranks and grades), saved by
``evalkit run`` in ``<output>/<year>/<county>/scores``; :func:`load_region` reads them into one
:class:`Region`. Every table here is per county, so a county is compared as a whole and no
school is ranked against another county's schools.

- :func:`grade_shares` — per county, the number of schools and the share of each grade;
- :func:`score_distribution` — per county, n, mean, standard deviation and the quartiles of the
  total score;
- :func:`league_table` — counties ordered by mean total (ties: higher median, then name), with
  rank, mean, median and the share of the top grade;
- :func:`weakest_indicators` — indicators ordered by their mean share of the maximum points over
  all schools of the region (each school counting once), with the county where it is lowest;
- :func:`data_quality` — per county, schools with at least one data-quality flag (missing data
  scored as zero or reweighted, intake warnings) and the flags per school; a county is *poor*
  when more than :data:`POOR_SHARE` of its schools are flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.results import Results

POOR_SHARE = 0.10
"""A county whose share of flagged schools exceeds this is listed as having poor data quality."""


@dataclass
class Region:
    """The Results of each county, in the run file's order."""

    name: str
    counties: dict[str, Results]

    def schools(self, year: int) -> pd.DataFrame:
        """Every county's school table of ``year`` with a ``county`` column first."""
        frames = []
        for county, results in self.counties.items():
            table = results.schools[results.schools["year"] == year].copy()
            table.insert(0, "county", county)
            frames.append(table)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_region(folder: str | Path, counties: str | list[str], name: str = "全市") -> Region:
    """Read ``<folder>/<county>/scores`` for each county (``counties``: a list or comma-separated)."""
    names = [c.strip() for c in counties.split(",")] if isinstance(counties, str) else list(counties)
    return Region(name, {c: Results.load(Path(folder) / c / "scores") for c in names if c})


def grade_shares(region: Region, year: int, grade_order: list[str]) -> pd.DataFrame:
    """Per county: ``n`` schools and the share (0–1) of each grade (columns in ``grade_order``)."""
    table = region.schools(year)
    counts = pd.crosstab(table["county"], table["grade"]).reindex(columns=grade_order, fill_value=0)
    counts = counts.reindex(list(region.counties), fill_value=0)
    n = counts.sum(axis=1)
    shares = counts.div(n.replace(0, np.nan), axis=0).fillna(0.0)
    shares.insert(0, "n", n)
    shares.index.name = "county"
    return shares.reset_index()


def score_distribution(region: Region, year: int) -> pd.DataFrame:
    """Per county: n, mean, sd (sample), min, p25, median, p75, max of the total score."""
    table = region.schools(year)
    g = table.groupby("county", sort=False)["total"]
    out = pd.DataFrame(
        {
            "n": g.size(),
            "mean": g.mean(),
            "sd": g.std(),
            "min": g.min(),
            "p25": g.quantile(0.25),
            "median": g.median(),
            "p75": g.quantile(0.75),
            "max": g.max(),
        }
    )
    out.index.name = "county"
    return out.reindex(list(region.counties)).reset_index()


def league_table(region: Region, year: int, top_grade: str) -> pd.DataFrame:
    """Counties by mean total, descending (ties: higher median, then name); ``rank`` 1 = best
    (equal mean and median share a rank), ``top_share`` the share of schools graded ``top_grade``."""
    dist = score_distribution(region, year)
    table = region.schools(year)
    top = table.assign(top=table["grade"] == top_grade).groupby("county")["top"].mean()
    dist["top_share"] = dist["county"].map(top).fillna(0.0)
    dist = dist.sort_values(["mean", "median", "county"], ascending=[False, False, True]).reset_index(drop=True)
    key = list(zip(dist["mean"].round(6), dist["median"].round(6), strict=True))
    ranks, prev = [], None
    for i, k in enumerate(key, start=1):
        ranks.append(ranks[-1] if k == prev else i)
        prev = k
    dist.insert(0, "rank", ranks)
    return dist[["rank", "county", "n", "mean", "median", "top_share", "sd"]]


def weakest_indicators(region: Region, year: int, n: int = 8) -> pd.DataFrame:
    """The ``n`` indicators with the lowest mean share of their maximum points region-wide (each
    school once), with the per-county lowest mean and its county. Bonus items are left out."""
    frames = []
    for county, results in region.counties.items():
        ind = results.indicators[(results.indicators["year"] == year) & (results.indicators["max_points"] > 0)]
        frames.append(ind.assign(county=county))
    if not frames:
        return pd.DataFrame()
    ind = pd.concat(frames, ignore_index=True)
    overall = ind.groupby(["indicator_id", "indicator_name"], sort=False).agg(
        max_points=("max_points", "first"), mean_share=("share", "mean"), mean_points=("points", "mean")
    )
    per_county = ind.groupby(["indicator_id", "county"], sort=False)["share"].mean().reset_index()
    worst = per_county.sort_values(["share", "county"]).drop_duplicates("indicator_id").set_index("indicator_id")
    out = overall.reset_index().sort_values(["mean_share", "indicator_id"]).head(n)
    out["worst_county"] = out["indicator_id"].map(worst["county"])
    out["worst_share"] = out["indicator_id"].map(worst["share"])
    return out.reset_index(drop=True)


def data_quality(region: Region, year: int, poor_share: float = POOR_SHARE) -> pd.DataFrame:
    """Per county: ``n`` schools, ``flagged`` schools (at least one flag of ``year``), their
    ``share``, ``flags`` in all, ``flags_per_school`` and ``poor`` (share > ``poor_share``)."""
    rows = []
    for county, results in region.counties.items():
        n = int((results.schools["year"] == year).sum())
        flags = results.flags[results.flags["year"] == year] if len(results.flags) else results.flags
        flagged = int(flags["school_id"].nunique()) if len(flags) else 0
        share = flagged / n if n else 0.0
        rows.append({"county": county, "n": n, "flagged": flagged, "share": share, "flags": len(flags),
                     "flags_per_school": len(flags) / n if n else 0.0, "poor": share > poor_share})
    return pd.DataFrame(rows, columns=["county", "n", "flagged", "share", "flags", "flags_per_school", "poor"])
