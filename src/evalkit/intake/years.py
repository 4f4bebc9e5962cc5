"""The gate when each year has its own framework (a run file's ``framework: {2024: …, 2025: …}``).

Each year's rows are read and checked against that year's framework (:func:`read_validated_years`):
the files are read once per year with ``year=Y`` (:func:`evalkit.intake.read_observations`), so
year Y's observations, missing values and 缺报 schools are those of Y's framework. What one
year's reading says about another year's rows is left to that year's reading:

- "年度为 2024，与本次评价年度 2025 不符" (``wrong_year`` for another mapped year) is dropped;
- an issue on a row (file, sheet, row) that another year's reading accepted is dropped (that
  row belongs to the other year and was checked against the other year's framework) — so an
  indicator of 2024 removed in 2025 is no error in 2024's rows, and an indicator added in 2025
  is neither an error nor missing in 2024;
- an "unknown indicator" issue whose id is an indicator of another mapped year's framework and
  whose row that year's reading reported a problem on is dropped too (that problem stands), as
  is one about a column (a wide sheet's header) of a sheet whose data that year's reading took;
- 缺报 (``no_data``) of another year is dropped; identical issues are reported once.

A year of the data without a framework is a ``wrong_year`` error naming the year. Every
problem of every year is listed at once (:class:`~evalkit.intake.gate.GateError`); when none
stops the run, each year gets its own :class:`~evalkit.intake.gate.ValidatedObservations`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple
from pathlib import Path

import pandas as pd

from evalkit.framework import Framework
from evalkit.intake.gate import GateError, ValidatedObservations, admit
from evalkit.intake.result import IntakeResult
from evalkit.issues import Issue

__all__ = ["read_validated_years"]

_ROW = re.compile(r"(\d+)$")
_NOT_THE_ROWS = {"unknown_indicator", "unknown_column", "wrong_year", "no_data"}
"""Issues that do not show a reading took a row as its year's (another framework's id, a column)."""


def _row_of(cell: str) -> int | None:
    m = _ROW.search(str(cell or ""))
    return int(m.group(1)) if m else None


def _accepted_rows(result: IntakeResult) -> set[tuple[str, str, int]]:
    obs = result.observations
    if obs.empty or "cell" not in obs.columns:
        return set()
    return {(str(f), str(s), r) for f, s, c in zip(obs["file"], obs["sheet"], obs["cell"], strict=True)
            if (r := _row_of(c)) is not None}


def _where(issue: Issue) -> tuple[str, str, int] | None:
    row = issue.row if issue.row is not None else _row_of(issue.cell) if issue.cell else None
    return (issue.file, issue.sheet, int(row)) if row is not None and issue.file else None


def _year_problems(
    year: int,
    result: IntakeResult,
    frameworks: Mapping[int, Framework],
    accepted: Mapping[int, set[tuple[str, str, int]]],
    flagged: Mapping[int, set[tuple[str, str, int]]],
) -> list[Issue]:
    """The issues of ``year``'s reading that are about ``year`` (see the module docstring)."""
    others = [y for y in frameworks if y != year]
    data_rows = set().union(*accepted.values())
    sheets = {y: {w[:2] for w in rows} for y, rows in accepted.items()}
    kept = []
    for issue in result.problems:
        if issue.kind == "wrong_year" and issue.value != str(year):
            continue  # another year's rows: that year's reading checks them (unmapped years: below)
        if issue.kind == "no_data" and issue.value != str(year):
            continue
        where = _where(issue)
        if where is not None and any(where in accepted[y] for y in others):
            continue
        ids = {issue.indicator_id.strip(), issue.value.strip()} - {""}
        if issue.kind == "unknown_indicator" and any(
            ids & {i.id for i in frameworks[y].indicators}
            and (where is None or where in flagged[y] or (where not in data_rows and where[:2] in sheets[y]))
            for y in others
        ):
            continue  # another year's indicator: in that year's rows, or a column of that year's sheet
        kept.append(issue)
    return kept


def _unmapped_years(results: Mapping[int, IntakeResult], frameworks: Mapping[int, Framework]) -> list[Issue]:
    """One error per (file, year) of data whose year has no framework in the mapping."""
    seen: dict[tuple[str, str], Issue] = {}
    mapped = ", ".join(f"{y}" for y in sorted(frameworks))
    for result in results.values():
        for issue in result.problems:
            if issue.kind != "wrong_year" or not issue.value.isdigit() or int(issue.value) in frameworks:
                continue
            seen.setdefault((issue.file, issue.value), Issue(
                "wrong_year", "error",
                f"{issue.value} 年的数据没有指定指标体系（运行文件 framework 只列出 {mapped} 年），这些数据未使用 / "
                f"no framework for {issue.value}",
                file=issue.file, sheet=issue.sheet, value=issue.value, expected=mapped,
            ))
    return list(seen.values())


def _dedupe(issues: Iterable[Issue]) -> list[Issue]:
    seen: set[tuple] = set()
    out = []
    for issue in issues:
        key = astuple(issue)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def read_validated_years(
    paths: Sequence[str | Path],
    frameworks: Mapping[int, Framework],
    registry: pd.DataFrame | None = None,
    *,
    allow: Iterable[str] | None = None,
) -> dict[int, ValidatedObservations]:
    """Evaluators' files through intake and the gate, each year against its own framework
    (``frameworks``: year → Framework). Returns year → validated observations for the years
    with data; raises :class:`~evalkit.intake.gate.GateError` listing every problem of every
    year (a year of the data without a framework is an error naming the year)."""
    from evalkit.intake.read import read_observations

    read = {y: read_observations(list(paths), fw, registry, y) for y, fw in sorted(frameworks.items())}
    accepted = {y: _accepted_rows(r) for y, r in read.items()}
    flagged = {y: {w for p in r.problems if p.kind not in _NOT_THE_ROWS and (w := _where(p)) is not None}
               for y, r in read.items()}
    per_year = {
        y: IntakeResult(
            observations=r.observations,
            normalisations=r.normalisations,
            problems=_year_problems(y, r, frameworks, accepted, flagged),
            unused_rows=r.unused_rows,
            files=r.files,
        )
        for y, r in read.items()
    }
    unmapped = _unmapped_years(read, frameworks)
    every = _dedupe([*unmapped, *(p for r in per_year.values() for p in r.problems)])
    blocking_years: list[Issue] = []
    for y, result in per_year.items():
        try:
            admit(result, frameworks[y], registry, allow, years=[y])
        except GateError as err:
            blocking_years.extend(err.blocking)
    if unmapped or any(p.is_error for p in every) or blocking_years:
        raise GateError(every, _dedupe(blocking_years))
    return {y: admit(r, frameworks[y], registry, allow, years=[y])
            for y, r in per_year.items() if not r.observations.empty}
