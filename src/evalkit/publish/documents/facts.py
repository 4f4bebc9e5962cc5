"""Every figure the county's notice and publicity list quote, taken from the Results.

:func:`county_facts` gathers them for one year: participation, the final grade of each school and
the lists by grade, the mean total and its change from the year before, how many schools rose or
fell, vetoes, and the indicators most often losing points. Templates only format these values;
they compute nothing.

>>> from evalkit.analysis.examples import example_results
>>> f = county_facts(example_results(), 2024, ["好", "较好", "一般", "差"])
>>> f.n_schools == sum(g.count for g in f.grades)
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.publish.documents.workdays import add_working_days
from evalkit.results import Results
from evalkit.textfmt import round_half_up

__all__ = [
    "PROCESS_NAMES",
    "CountyFacts",
    "GradeList",
    "SchoolGrade",
    "WeakIndicator",
    "add_working_days",
    "chinese_date",
    "county_facts",
]

PROCESS_NAMES = {"self": "学校自评", "inspection": "实地核查", "survey": "问卷测评", "document": "资料审核"}
"""How each source of observations is named in the notice's sentence on the process."""


@dataclass(frozen=True)
class SchoolGrade:
    """One school's published result."""

    school_id: str
    school_name: str
    grade: str
    total: float
    rank: int


@dataclass(frozen=True)
class GradeList:
    """The schools of one grade, in school-id order."""

    grade: str
    schools: list[SchoolGrade]

    @property
    def count(self) -> int:
        return len(self.schools)

    @property
    def names(self) -> list[str]:
        return [s.school_name for s in self.schools]


@dataclass(frozen=True)
class WeakIndicator:
    """An indicator many schools lose points on (county-wide attainment among the lowest)."""

    indicator_id: str
    indicator_name: str
    area_name: str
    n_losing: int
    mean_share: float


@dataclass(frozen=True)
class CountyFacts:
    """The year's results as the notice and the publicity list state them."""

    year: int
    n_schools: int
    grades: list[GradeList]
    mean_total: float
    decimals: int
    framework_name: str
    framework_version: str
    prev_year: int | None = None
    prev_n_schools: int | None = None
    prev_mean_total: float | None = None
    n_improved: int = 0
    n_declined: int = 0
    n_vetoed: int = 0
    weak: list[WeakIndicator] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Registry schools without any data this year (缺报: not graded, not in ``grades``)."""
    basis: str = "total"
    """What ``mean_change``, ``n_improved`` and ``n_declined`` compare: ``total`` (the same
    framework both years), ``rate`` (得分率, percentage points) or ``common`` (common-indicator
    points) — see :mod:`evalkit.analysis.comparable`."""
    comparison_note: str = ""
    """The sentence saying how the two years' frameworks differ ("" when the same)."""
    mean_rate: float | None = None
    prev_mean_rate: float | None = None
    mean_common_change: float | None = None

    @property
    def mean_change(self) -> float | None:
        """Mean total minus last year's, rounded to the framework's precision; across a change
        of framework, the comparable change (mean 得分率 in percentage points, or the mean
        change of the common indicators' points)."""
        if self.prev_mean_total is None:
            return None
        if self.basis == "rate" and self.mean_rate is not None and self.prev_mean_rate is not None:
            return float(round_half_up(self.mean_rate - self.prev_mean_rate, self.decimals))
        if self.basis == "common" and self.mean_common_change is not None:
            return round(self.mean_common_change, self.decimals)
        return round(self.mean_total - self.prev_mean_total, self.decimals)

    @property
    def schools(self) -> list[SchoolGrade]:
        """Every school of the year, by grade (in grade order) then school id."""
        return [s for g in self.grades for s in g.schools]


def _id_key(school_id: str) -> tuple[int, str]:
    return (0, f"{int(school_id):012d}") if school_id.isdigit() else (1, school_id)


def county_facts(
    results: Results,
    year: int,
    grade_order: Sequence[str],
    *,
    sources: Iterable[str] = (),
    n_weak: int = 5,
) -> CountyFacts:
    """The facts of ``year``: grades in ``grade_order`` (every grade listed, empty ones too),
    ``n_weak`` weak indicators (lowest county-wide attainment, see
    :func:`evalkit.analysis.county.systemic_weaknesses`; only those some school lost points on),
    ``sources`` (observation sources of the year, e.g. ``self``, ``inspection``) named as steps of
    the process, and the 缺报 schools (allowed at the gate as ``missing_schools``) by name.
    Means are rounded to the framework's precision (``Results.meta["precision"]``)."""
    from evalkit.analysis.comparable import comparable_totals, framework_change, score_rate
    from evalkit.analysis.county import changes, missing_reports, systemic_weaknesses

    decimals = int(results.meta.get("precision", 1))
    table = results.schools
    now = table[table["year"] == int(year)]
    if now.empty:
        raise ValueError(f"{year} 年没有评分结果 / no results for {year}")
    rows = [
        SchoolGrade(str(r.school_id), str(r.school_name), str(r.grade), float(r.total), int(r.rank))
        for r in now.itertuples(index=False)
    ]
    rows.sort(key=lambda s: _id_key(s.school_id))
    order = list(grade_order) + sorted({s.grade for s in rows} - set(grade_order))
    grades = [GradeList(g, [s for s in rows if s.grade == g]) for g in order]
    earlier = sorted(int(y) for y in table.loc[table["year"] < int(year), "year"].unique())
    prev_year = earlier[-1] if earlier else None
    prev = table[table["year"] == prev_year] if prev_year is not None else None
    moved = changes(results, year)
    weak = systemic_weaknesses(results, year, n=n_weak)
    weak = weak[weak["n_losing"] > 0]
    known = [s for s in PROCESS_NAMES if s in set(sources)]
    across: dict = {}
    change = framework_change(results, year, prev_year) if prev_year is not None else None
    if change is not None:  # last year under another framework: compare like with like
        across = {"basis": change.basis, "comparison_note": change.sentence}
        if change.basis == "rate":
            across.update(mean_rate=float(round_half_up(float(score_rate(results, year).mean()), decimals)),
                          prev_mean_rate=float(round_half_up(float(score_rate(results, prev_year).mean()), decimals)))
        else:
            both = comparable_totals(results, year, change)
            across["mean_common_change"] = float(both["value"].mean() - both["prev_value"].mean())
    return CountyFacts(
        year=int(year),
        n_schools=len(rows),
        grades=grades,
        mean_total=round(float(now["total"].mean()), decimals),
        decimals=decimals,
        framework_name=str(results.meta.get("framework_name", "")),
        framework_version=str(results.meta.get("framework_version", "")),
        prev_year=prev_year,
        prev_n_schools=len(prev) if prev is not None else None,
        prev_mean_total=round(float(prev["total"].mean()), decimals) if prev is not None else None,
        n_improved=int((moved["change"] > 0).sum()),
        n_declined=int((moved["change"] < 0).sum()),
        n_vetoed=int(now["veto"].astype(bool).sum()),
        weak=[
            WeakIndicator(str(w.indicator_id), str(w.indicator_name), str(w.area_name), int(w.n_losing),
                          float(w.mean_share))
            for w in weak.itertuples(index=False)
        ],
        processes=[PROCESS_NAMES[s] for s in known],
        missing=missing_reports(results, year)["school_name"].astype(str).tolist(),
        **across,
    )


def chinese_date(day: dt.date) -> str:
    """``2026年12月1日``: Arabic numerals without leading zeros, as GB/T 9704 writes dates.

    >>> chinese_date(dt.date(2025, 1, 6))
    '2025年1月6日'
    """
    return f"{day.year}年{day.month}月{day.day}日"


def correction_context(correction: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a reissued (corrected) document says about the correction: ``version``, ``date``
    and ``original_date`` as dates, the first issue's ``wenhao``; ``None`` for a first issue."""
    if not correction:
        return None
    original = correction.get("original_date")
    return {
        "version": int(correction["version"]),
        "date": dt.date.fromisoformat(str(correction["date"])),
        "original_date": dt.date.fromisoformat(str(original)) if original else None,
        "wenhao": correction.get("wenhao") or "",
    }
