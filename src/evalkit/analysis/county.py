"""The county in one year: grades, areas across schools, groups, changes, systemic weaknesses.

>>> from evalkit.analysis.examples import example_results
>>> r = example_results()
>>> grade_distribution(r, 2024, ["好", "较好", "一般", "差"])[["grade", "by_score", "final"]]
  grade  by_score  final
0     好         1      1
1    较好         1      1
2    一般         1      0
3     差         0      1
>>> changes(r, 2024)[["school_id", "prev_total", "total", "change"]]
  school_id  prev_total  total  change
0       002        70.0   85.0    15.0
1       001        90.0   92.0     2.0
2       003        75.0   62.0   -13.0
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evalkit.analysis._common import rounded, year_rows
from evalkit.analysis.comparable import comparable_totals, framework_change
from evalkit.framework import Framework
from evalkit.results import Results

__all__ = [
    "area_matrix",
    "area_shares",
    "area_summary",
    "biggest_changes",
    "changes",
    "grade_distribution",
    "group_comparison",
    "indicator_shares",
    "missing_reports",
    "ranking",
    "read_intake_notes",
    "scoring_notes",
    "systemic_weaknesses",
    "veto_schools",
]


def _grades(results: Results, year: int, grades: Sequence[str] | None) -> list[str]:
    if grades:
        return list(grades)
    s = year_rows(results.schools, year)
    return sorted(set(s["grade"]) | set(s["grade_by_score"]))


def grade_distribution(results: Results, year: int, grades: Sequence[str] | None = None) -> pd.DataFrame:
    """Schools per grade: ``by_score`` (from the total alone) and ``final`` (after vetoes and
    the quota), with ``share`` = final ÷ schools. ``grades`` gives the order (best first,
    e.g. ``framework.grade_order``); every grade is listed, with 0 where none."""
    s = year_rows(results.schools, year)
    order = _grades(results, year, grades)
    out = pd.DataFrame(
        {
            "grade": order,
            "by_score": s["grade_by_score"].value_counts().reindex(order, fill_value=0).to_numpy(),
            "final": s["grade"].value_counts().reindex(order, fill_value=0).to_numpy(),
        }
    )
    out["share"] = out["final"] / max(len(s), 1)
    return out


def ranking(results: Results, year: int) -> pd.DataFrame:
    """The county ranking: ``rank, school_id, school_name, school_type, township, base, bonus,
    total, grade, veto_ids, change`` (since the previous year, NaN without one), best first.
    Area points are left out (see :func:`area_matrix`), so the table fits a printed page."""
    s = year_rows(results.schools, year).sort_values(["rank", "school_id"])
    c = changes(results, year).set_index("school_id")["change"]
    s["change"] = s["school_id"].map(c)
    cols = ["rank", "school_id", "school_name", "school_type", "township", "base", "bonus", "total", "grade",
            "veto_ids", "change"]
    return s[cols].reset_index(drop=True)


def area_shares(results: Results, year: int) -> pd.DataFrame:
    """One row per school × area: ``school_id, school_name, area_id, area_name, points,
    max_points, share`` (for distributions of the areas across schools)."""
    a = year_rows(results.areas, year)
    names = year_rows(results.schools, year).set_index("school_id")["school_name"]
    a["school_name"] = a["school_id"].map(names)
    return a[["school_id", "school_name", "area_id", "area_name", "points", "max_points", "share"]]


def area_summary(results: Results, year: int) -> pd.DataFrame:
    """Per area across schools: ``area_name, max_points, mean, median, min, max`` (points)
    and ``mean_share`` (mean ÷ max)."""
    a = year_rows(results.areas, year)
    g = a.groupby("area_id", sort=False)
    out = pd.DataFrame(
        {
            "area_name": g["area_name"].first(),
            "max_points": g["max_points"].first(),
            "mean": g["points"].mean(),
            "median": g["points"].median(),
            "min": g["points"].min(),
            "max": g["points"].max(),
        }
    )
    out["mean_share"] = out["mean"] / out["max_points"]
    return out.reset_index(drop=True)


def indicator_shares(results: Results, year: int, area_id: str | None = None) -> pd.DataFrame:
    """One row per school × indicator (of one area when given): ``school_id, area_id,
    indicator_id, indicator_name, points, max_points, share``."""
    ind = year_rows(results.indicators, year)
    if area_id is not None:
        ind = ind[ind["area_id"] == area_id]
    cols = ["school_id", "area_id", "indicator_id", "indicator_name", "points", "max_points", "share"]
    return ind[cols].reset_index(drop=True)


def area_matrix(results: Results, year: int) -> pd.DataFrame:
    """School × area shares (0–1): index school names in rank order, columns area names."""
    a = area_shares(results, year)
    s = year_rows(results.schools, year).sort_values(["rank", "school_id"])
    order = list(dict.fromkeys(a["area_name"]))
    m = a.pivot(index="school_id", columns="area_name", values="share").loc[s["school_id"], order]
    m.index = pd.Index(s["school_name"].to_numpy(), name="学校")
    m.columns.name = None
    return m


def group_comparison(results: Results, year: int, by: str = "school_type") -> pd.DataFrame:
    """Schools grouped by ``by`` (``school_type``, ``township``, or an extra column of the
    registry that travels in ``results.extra["registry"]``, such as 片区): ``group, n, mean_total,
    min_total, max_total``, the mean share of each area (columns named by area), and
    ``top_grade`` — the number of schools with the best final grade present that year."""
    s = year_rows(results.schools, year)
    registry = results.extra.get("registry")
    if by not in s.columns and registry is not None and by in registry.columns:  # an extra registry column
        groups = registry.assign(school_id=registry["school_id"].astype(str)).drop_duplicates("school_id")
        s = s.merge(groups[["school_id", by]], on="school_id", how="left")
    a = year_rows(results.areas, year)
    order = list(dict.fromkeys(a["area_name"]))
    shares = a.pivot(index="school_id", columns="area_name", values="share")[order]
    s = s.join(shares, on="school_id")
    g = s.groupby(by, sort=False)
    out = pd.DataFrame(
        {
            "n": g.size(),
            "mean_total": g["total"].mean(),
            "min_total": g["total"].min(),
            "max_total": g["total"].max(),
            **{name: g[name].mean() for name in order},
        }
    )
    out.index.name = "group"
    return out.sort_values(["mean_total"], ascending=False).reset_index()


def changes(results: Results, year: int) -> pd.DataFrame:
    """Schools scored in ``year`` and in the year before it: ``school_id, school_name,
    prev_total, total, change, prev_rank, rank, rank_change`` (positive = moved up),
    ``prev_grade, grade``; sorted by change, biggest rise first. Empty without an earlier year.
    When the year before was scored under another framework, ``change`` is on the comparable
    basis (得分率 in percentage points, or common-indicator points; see
    :mod:`evalkit.analysis.comparable` and :func:`~evalkit.analysis.comparable.comparison_note`)."""
    s = results.schools
    earlier = sorted(int(y) for y in s.loc[s["year"] < int(year), "year"].unique())
    cols = ["school_id", "school_name", "prev_total", "total", "change", "prev_rank", "rank",
            "rank_change", "prev_grade", "grade"]
    if not earlier:
        return pd.DataFrame(columns=cols)
    now = year_rows(s, year)
    prev = year_rows(s, earlier[-1])[["school_id", "total", "rank", "grade"]]
    both = now.merge(prev, on="school_id", suffixes=("", "_prev"))
    both = both.rename(
        columns={"total_prev": "prev_total", "rank_prev": "prev_rank", "grade_prev": "prev_grade"}
    )
    both["change"] = rounded(both["total"] - both["prev_total"], results.meta)
    moved = framework_change(results, year, earlier[-1])
    if moved is not None:  # another framework last year: the comparable change
        comp = comparable_totals(results, year, moved).set_index("school_id")["change"]
        both["change"] = both["school_id"].astype(str).map(comp)
    both["rank_change"] = both["prev_rank"] - both["rank"]
    both = both.sort_values(["change", "school_id"], ascending=[False, True])
    return both[cols].reset_index(drop=True)


def biggest_changes(results: Results, year: int, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(improvers, decliners): the ``n`` biggest rises (change > 0) and falls (change < 0)."""
    c = changes(results, year)
    up = c[c["change"] > 0].head(n).reset_index(drop=True)
    down = c[c["change"] < 0].sort_values(["change", "school_id"]).head(n).reset_index(drop=True)
    return up, down


def veto_schools(results: Results, year: int) -> pd.DataFrame:
    """Triggered vetoes of the year with the school: ``school_id, school_name, veto_id,
    veto_name, total, grade_by_score, grade, evidence``."""
    v = year_rows(results.vetoes, year)
    s = year_rows(results.schools, year)[["school_id", "school_name", "total", "grade_by_score"]]
    out = v.merge(s, on="school_id", how="left")
    return out[["school_id", "school_name", "veto_id", "veto_name", "total", "grade_by_score", "grade",
                "evidence"]].sort_values(["school_id", "veto_id"]).reset_index(drop=True)


def systemic_weaknesses(
    results: Results, year: int, framework: Framework | None = None, n: int = 8
) -> pd.DataFrame:
    """The ``n`` indicators with the lowest attainment county-wide: ``indicator_id,
    indicator_name, area_name, max_points, mean_points, mean_share`` (mean points ÷ max),
    ``full_share`` (share of schools with full points), ``n_losing`` (schools losing points),
    and ``suggestion`` with ``framework``. Indicators worth 0 points are left out."""
    ind = year_rows(results.indicators, year)
    ind = ind[ind["max_points"] > 0]
    g = ind.groupby("indicator_id", sort=False)
    out = pd.DataFrame(
        {
            "indicator_name": g["indicator_name"].first(),
            "area_name": g["area_name"].first(),
            "max_points": g["max_points"].first(),
            "mean_points": g["points"].mean(),
            "full_share": g.apply(lambda t: float((t["points"] >= t["max_points"] - 1e-9).mean())),
            "n_losing": g.apply(lambda t: int((t["points"] < t["max_points"] - 1e-9).sum())),
        }
    )
    out["mean_share"] = out["mean_points"] / out["max_points"]
    out = out.reset_index().sort_values(["mean_share", "indicator_id"]).head(n).reset_index(drop=True)
    if framework is not None:
        out["suggestion"] = [framework.indicator(i).suggestion for i in out["indicator_id"]]
    cols = ["indicator_id", "indicator_name", "area_name", "max_points", "mean_points", "mean_share",
            "full_share", "n_losing"]
    return out[cols + (["suggestion"] if framework is not None else [])]


def scoring_notes(results: Results, year: int) -> pd.DataFrame:
    """Data-quality notes from scoring (``Results.flags``) for the year, with the school's
    name: ``school_id, school_name, indicator_id, indicator_name, message``."""
    f = year_rows(results.flags, year)
    if "kind" in f.columns:  # 缺报 schools are listed apart (missing_reports)
        f = f[f["kind"] != "missing_school"]
    names = year_rows(results.schools, year).set_index("school_id")["school_name"]
    f["school_name"] = f["school_id"].map(names)
    cols = ["school_id", "school_name", "indicator_id", "indicator_name", "message"]
    for col in cols:
        if col not in f.columns:
            f[col] = ""
    return f[cols].sort_values(["school_id", "indicator_id"]).reset_index(drop=True)


def missing_reports(results: Results, year: int) -> pd.DataFrame:
    """Schools of the registry with no data at all in ``year``, scored as 缺报 (allowed at the
    gate with ``missing_schools``; they are not in ``results.schools``: not ranked, not
    graded): ``school_id, school_name, status`` ("缺报：未提交任何数据，不参加排名、不评定等次")."""
    listed = [m for m in results.meta.get("missing_schools", []) if int(m["year"]) == int(year)]
    out = pd.DataFrame(
        {
            "school_id": [str(m["school_id"]) for m in listed],
            "school_name": [str(m["school_name"]) for m in listed],
            "status": "缺报：未提交任何数据，不参加排名、不评定等次",
        },
        columns=["school_id", "school_name", "status"],
    )
    return out.sort_values("school_id").reset_index(drop=True)


#: Columns of an intake notes file (English names as in :func:`evalkit.issues.issues_frame`, or
#: the Chinese headers of its report) that a county summary shows. The message already says where
#: (file, sheet, cell) and what (school, indicator), so location columns are not repeated.
INTAKE_COLUMNS = {"severity": "严重程度", "kind": "类别", "message": "说明"}
_SEVERITY = {"error": "错误", "warning": "警告"}


_GLOSS = re.compile(r"\s+/\s+[A-Za-z][A-Za-z0-9 ,.'()_:-]*$")


def strip_english_gloss(text: str) -> str:
    """A message without the English gloss evalkit appends for logs (``… / duplicate id``):
    reports are read by evaluators, in Chinese.

    >>> strip_english_gloss("学校编号重复：第 2 行已有编号 001 / duplicate id")
    '学校编号重复：第 2 行已有编号 001'
    >>> strip_english_gloss("比例 1/2 不变")
    '比例 1/2 不变'
    """
    return "\n".join(_GLOSS.sub("", line) for line in str(text).split("\n"))


def read_intake_notes(path: str | Path, year: int | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8) of data-quality notes written at intake.

    Accepts English column names (``severity, kind, …, message`` as in
    :func:`evalkit.issues.issues_frame`) or their Chinese report headers; returns
    ``严重程度, 类别`` (when present and not empty, in Chinese) and ``说明`` (required). With
    ``year`` and a ``year`` / ``年度`` column, keeps that year's notes and notes without a year.
    """
    from evalkit.issues import KINDS

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame = frame.rename(columns={**{k: v for k, v in INTAKE_COLUMNS.items() if k in frame.columns},
                                  "year": "年度"})
    if "说明" not in frame.columns:
        raise ValueError(f"{path}: 缺少“说明”（message）列 / no message column")
    if year is not None and "年度" in frame.columns:
        frame = frame[frame["年度"].str.strip().isin({"", str(int(year))})]
    if "严重程度" in frame.columns:
        frame["严重程度"] = frame["严重程度"].map(lambda v: _SEVERITY.get(v, v))
    if "类别" in frame.columns:
        frame["类别"] = frame["类别"].map(lambda v: KINDS.get(v, v))
    frame["说明"] = frame["说明"].map(strip_english_gloss)
    keep = [c for c in ("严重程度", "类别") if c in frame.columns and frame[c].str.strip().ne("").any()]
    return frame[[*keep, "说明"]].reset_index(drop=True)
