"""Comparing two years scored under different frameworks: like with like, said in words.

Each year's framework is in ``Results.meta["frameworks"]`` (year → id, name, version,
fingerprint, total points, ``history``). When a year and the year it is compared with were
scored under the same framework, nothing here applies (:func:`framework_change` is ``None``) and
comparisons stay differences of totals. Otherwise the newer framework's ``history:`` says how its
indicators relate to the older ones (renamed, merged, added, removed; maxima that changed are
read from the two years' scores) and what a comparison uses:

- ``rate`` (default): the score rate, 得分率 = total ÷ the framework's total points × 100, and the
  change in percentage points (百分点);
- ``common``: the points of the indicators common to both versions, as published (rounded per
  indicator as the reports show them; a renamed indicator counts
  as its old self, a merged one as the sum of its old ones; an indicator whose maximum changed
  counts last year at its rate × this year's maximum), and the change in points.

Every place that compares across the change shows :attr:`FrameworkChange.sentence`, e.g.
"2025 年指标体系调整：新增“网络阵地”；“三会一课”满分由 4 分调整为 3 分。与上年比较按得分率计算。"

>>> from evalkit.analysis.examples import example_results
>>> framework_change(example_results(), 2024) is None  # one framework every year
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from evalkit.analysis._common import rounded, year_rows
from evalkit.results import Results

__all__ = ["FrameworkChange", "comparable_totals", "comparison_basis", "comparison_note", "framework_change",
           "score_rate", "year_framework"]

Basis = Literal["rate", "common"]


def year_framework(results: Results, year: int) -> dict[str, Any]:
    """The framework ``year`` was scored under: ``meta["frameworks"][year]``, else the
    Results' own (``framework_id``, ``framework_version``, ``framework_fingerprint``)."""
    entry = (results.meta.get("frameworks") or {}).get(str(int(year)))
    if entry:
        return dict(entry)
    m = results.meta
    return {"id": m.get("framework_id", ""), "name": m.get("framework_name", ""),
            "version": m.get("framework_version", ""), "fingerprint": m.get("framework_fingerprint", ""),
            "history": None}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("fingerprint") and b.get("fingerprint"):
        return a["fingerprint"] == b["fingerprint"]
    return (a.get("id"), a.get("version")) == (b.get("id"), b.get("version"))


def total_points(results: Results, year: int) -> float:
    """The maximum total of ``year``'s framework (``total_points``; else the sum of the areas'
    maxima of one school that year)."""
    entry = year_framework(results, year)
    if entry.get("total_points"):
        return float(entry["total_points"])
    a = year_rows(results.areas, year)
    if a.empty:
        return float("nan")
    first = a[a["school_id"] == a["school_id"].iloc[0]]
    return float(first["max_points"].sum())


def score_rate(results: Results, year: int) -> pd.Series:
    """得分率 of every school scored in ``year`` (percent, ``school_id`` index):
    total ÷ the framework's total points × 100."""
    s = year_rows(results.schools, year)
    return pd.Series((s["total"] / total_points(results, year) * 100).to_numpy(), index=s["school_id"].astype(str))


def _indicators(results: Results, year: int) -> pd.DataFrame:
    ind = year_rows(results.indicators, year)
    return ind.drop_duplicates("indicator_id").set_index("indicator_id")[["indicator_name", "max_points"]]


@dataclass(frozen=True)
class FrameworkChange:
    """How ``year``'s framework differs from ``prev_year``'s, and what comparisons use."""

    year: int
    prev_year: int
    basis: Basis
    prev_version: str
    version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    merged: list[tuple[list[str], str]] = field(default_factory=list)
    max_changed: list[tuple[str, float, float]] = field(default_factory=list)
    total_changed: tuple[float, float] | None = None
    common: dict[str, list[str]] = field(default_factory=dict)
    """This year's indicator id → the previous year's ids it is compared with."""

    @property
    def sentence(self) -> str:
        """The one sentence every comparison across the change shows."""
        parts = []
        if self.added:
            parts.append("新增" + "、".join(f"“{n}”" for n in self.added))
        if self.removed:
            parts.append("取消" + "、".join(f"“{n}”" for n in self.removed))
        parts += [f"“{old}”更名为“{new}”" for old, new in self.renamed]
        parts += ["".join(f"“{o}”" for o in olds) + f"合并为“{new}”" for olds, new in self.merged]
        parts += [f"“{n}”满分由 {a:g} 分调整为 {b:g} 分" for n, a, b in self.max_changed]
        if self.total_changed:
            parts.append(f"总分由 {self.total_changed[0]:g} 分调整为 {self.total_changed[1]:g} 分")
        what = "；".join(parts) if parts else f"版本由 {self.prev_version} 调整为 {self.version}"
        how = ("与上年比较按得分率（总分 ÷ 满分）计算，变化以百分点表示" if self.basis == "rate"
               else "与上年比较按两年共有指标的得分计算（满分调整的指标按得分率折算）")
        return f"{self.year} 年指标体系调整：{what}。{how}。"


def _previous(results: Results, year: int) -> int | None:
    earlier = results.schools.loc[results.schools["year"] < int(year), "year"]
    return int(earlier.max()) if not earlier.empty else None


def framework_change(results: Results, year: int, prev_year: int | None = None) -> FrameworkChange | None:
    """How ``year``'s framework differs from that of ``prev_year`` (default: the latest earlier
    year scored), or ``None`` when both years were scored under the same framework (or there
    is no earlier year)."""
    prev_year = _previous(results, year) if prev_year is None else int(prev_year)
    if prev_year is None:
        return None
    new_fw, old_fw = year_framework(results, year), year_framework(results, prev_year)
    if _same(new_fw, old_fw):
        return None
    h = new_fw.get("history") or {}
    now, before = _indicators(results, year), _indicators(results, prev_year)
    renamed = {o: n for o, n in (h.get("renamed") or {}).items() if o in before.index and n in now.index}
    merged = {n: [o for o in olds if o in before.index] for n, olds in (h.get("merged") or {}).items()
              if n in now.index}
    common: dict[str, list[str]] = {}
    for new in now.index:
        olds = [o for o, n in renamed.items() if n == new] or merged.get(new) or ([new] if new in before.index else [])
        if olds:
            common[str(new)] = [str(o) for o in olds]
    used = {o for olds in common.values() for o in olds}
    name_now, name_before = now["indicator_name"], before["indicator_name"]
    max_changed = []
    for new, olds in common.items():
        old_max, new_max = float(before.loc[olds, "max_points"].sum()), float(now.loc[new, "max_points"])
        if abs(old_max - new_max) > 1e-9:
            max_changed.append((str(name_now[new]), old_max, new_max))
    totals = (total_points(results, prev_year), total_points(results, year))
    return FrameworkChange(
        year=int(year),
        prev_year=int(prev_year),
        basis="common" if h.get("compare") == "common" else "rate",
        prev_version=str(old_fw.get("version", "")),
        version=str(new_fw.get("version", "")),
        added=[str(name_now[i]) for i in now.index if i not in common],
        removed=[str(name_before[i]) for i in before.index if i not in used],
        renamed=[(str(name_before[o]), str(name_now[n])) for o, n in renamed.items()],
        merged=[([str(name_before[o]) for o in olds], str(name_now[n])) for n, olds in merged.items()
                if len(olds) > 1],
        max_changed=max_changed,
        total_changed=totals if abs(totals[0] - totals[1]) > 1e-9 else None,
        common=common,
    )


def _common_points(results: Results, change: FrameworkChange) -> tuple[pd.Series, pd.Series]:
    """(previous, this year) points of every school over the common indicators; the previous
    year's at its rate × this year's maximum where the maximum changed."""
    now = year_rows(results.indicators, change.year)
    before = year_rows(results.indicators, change.prev_year)
    now_max = now.drop_duplicates("indicator_id").set_index("indicator_id")["max_points"]
    before_max = before.drop_duplicates("indicator_id").set_index("indicator_id")["max_points"]
    this = now[now["indicator_id"].isin(list(change.common))].groupby("school_id")["points"].sum()
    prev = pd.Series(0.0, index=pd.Index(before["school_id"].astype(str).unique(), name="school_id"))
    pivot = before.pivot_table(index="school_id", columns="indicator_id", values="points", aggfunc="sum")
    pivot.index = pivot.index.astype(str)
    for new, olds in change.common.items():
        got = pivot[olds].sum(axis=1)
        old_max = float(before_max[olds].sum())
        scale = float(now_max[new]) / old_max if old_max > 0 else 0.0
        prev = prev.add(got * scale, fill_value=0.0)
    this.index = this.index.astype(str)
    return prev, this


def comparable_totals(results: Results, year: int, change: FrameworkChange) -> pd.DataFrame:
    """Per school scored in both years: ``school_id, prev_value, value, change`` on the
    change's basis (得分率 in percent and the change in percentage points; or common-indicator
    points and the change in points), the change rounded to the Results' precision."""
    if change.basis == "rate":
        prev, this = score_rate(results, change.prev_year), score_rate(results, year)
    else:
        prev, this = _common_points(results, change)
    both = pd.DataFrame({"prev_value": prev, "value": this}).dropna()
    both["change"] = rounded(both["value"] - both["prev_value"], results.meta)
    both.index.name = "school_id"
    return both.reset_index()


def comparison_note(results: Results, year: int) -> str:
    """The sentence saying how ``year`` compares with the year before when their frameworks
    differ (:attr:`FrameworkChange.sentence`); ``""`` when they are the same."""
    change = framework_change(results, year)
    return change.sentence if change is not None else ""


def comparison_basis(results: Results, year: int) -> str:
    """What ``year``'s comparisons with the year before compare: ``total`` (the same
    framework), ``rate`` or ``common`` (see the module docstring)."""
    change = framework_change(results, year)
    return change.basis if change is not None else "total"
