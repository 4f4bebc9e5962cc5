"""Checks across records, after every file has been read: years, schools against the
registry, duplicates, conflicting inspector marks, implausible values, missing indicators
under the framework's missing-data policy, and registry schools with no data at all.

Each check reports every case it finds (nothing is dropped silently): a record that cannot be
used is rejected with its reason, and appears in ``IntakeResult.unused_rows``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pandas as pd

from evalkit.intake.bulkcheck import bulk_school_years, coverage, implausible_rows, settle_bulk
from evalkit.intake.normalise import shown
from evalkit.intake.ratios import decide_ratio_columns
from evalkit.intake.records import Collector, Record
from evalkit.intake.registry import active_schools
from evalkit.intake.specs import ValueSpec
from evalkit.io.sheets import nfkc
from evalkit.issues import Issue
from evalkit.textfmt import num

MISSING_DETAILS = {
    "error": ("error", "未填写；按指标体系规定该指标缺数时无法评分，必须补齐 / required value missing"),
    "zero_flag": ("warning", "未填写；评分时该指标按 0 分计并标注 / missing: will score 0"),
    "reweight": (
        "warning",
        "未填写；评分时该指标不计入，所在领域按其余指标重新折算权重 / missing: the area will be re-weighted",
    ),
}


class SchoolMatcher:
    """Match school ids as written to registry ids: exactly, or by number when the registry
    keeps leading zeros (``3`` → ``003``) and exactly one registry id matches."""

    def __init__(self, registry: pd.DataFrame | None):
        self.registry = registry
        self.ids: set[str] = set(registry["school_id"].astype(str)) if registry is not None else set()
        self.names: dict[str, str] = (
            dict(zip(registry["school_id"].astype(str), registry["school_name"].astype(str), strict=True))
            if registry is not None
            else {}
        )
        by_number: dict[int, list[str]] = defaultdict(list)
        for sid in self.ids:
            if _numeric_id(sid):
                by_number[int(sid)].append(sid)
        self.by_number = {n: ids[0] for n, ids in by_number.items() if len(ids) == 1}

    def match(self, sid: str) -> str | None:
        if self.registry is None or sid in self.ids:
            return sid
        if _numeric_id(sid):
            return self.by_number.get(int(sid))
        return None


def _numeric_id(sid: str) -> bool:
    """An id ``int()`` can read as a number: decimal digits only ("²" is a digit but not decimal),
    and short (a 1 MB run of digits is no school id and would exceed Python's int parsing limit)."""
    return sid.isdecimal() and len(sid) <= 30


def validate(
    col: Collector,
    specs: dict[str, ValueSpec],
    registry: pd.DataFrame | None,
    year: int | None,
    *,
    ratio_style: str | None = None,
) -> None:
    """Run every cross-record check, rejecting records that cannot be used. ``ratio_style``:
    the style every rate column is read in (``fraction`` for tables in the contract), instead
    of each column's own (:mod:`evalkit.intake.ratios`)."""
    matcher = SchoolMatcher(registry)
    settle_bulk(col, specs, registry, year, ratio_style, matcher.match)  # clean rows kept as columns
    _check_years(col, year)
    _check_schools(col, registry, matcher)
    decide_ratio_columns(col, ratio_style)
    _check_duplicates(col)
    _check_conflicts(col)
    _check_values(col, specs)
    _check_missing(col, specs, registry, year)
    _fill_names(col, matcher)


def _live(col: Collector) -> list[Record]:
    return [r for r in col.records if r.status != "invalid"]


def _check_years(col: Collector, year: int | None) -> None:
    fw_years = set(col.framework.years)
    reported: set[tuple[str, int]] = set()
    for rec in _live(col):
        if rec.year is None:
            continue
        if year is not None and rec.year != year:
            detail = (
                f"年度为 {rec.year}，与本次评价年度 {year} 不符，这些数据未使用 / not the year being assessed"
            )
            reason = f"年度 {rec.year} 不是评价年度 {year}"
        elif rec.year not in fw_years:
            years = "、".join(str(y) for y in sorted(fw_years))
            detail = f"年度 {rec.year} 不在指标体系适用的年度（{years}）内，这些数据未使用 / year not covered"
            reason = f"年度 {rec.year} 不在指标体系适用年度内"
        else:
            continue
        if (rec.file, rec.year) not in reported:
            reported.add((rec.file, rec.year))
            col.issue(
                "wrong_year",
                "error",
                detail,
                file=rec.file,
                sheet=rec.sheet,
                value=str(rec.year),
                expected=str(year) if year is not None else "、".join(map(str, sorted(fw_years))),
            )
        col.reject(rec, reason)


def _check_schools(col: Collector, registry: pd.DataFrame | None, matcher: SchoolMatcher) -> None:
    if registry is None:
        return
    # one dict per school id (the first row when an id repeats): no pandas lookup per record
    reg: dict[str, dict] = {}
    for row in registry.assign(school_id=registry["school_id"].astype(str)).to_dict("records"):
        reg.setdefault(row["school_id"], row)
    seen: set[tuple[str, str, str, str]] = set()
    names = {_same_name(str(r["school_name"])): sid for sid, r in reg.items()}
    swapped: dict[tuple[str, str], set[int]] = defaultdict(set)
    for rec in [r for r in col.records if r.status != "invalid" or r.school_id]:
        if not rec.school_id:
            continue
        where = (rec.file, rec.sheet, rec.school_cell)
        matched = matcher.match(rec.school_id)
        if matched is None:
            if (*where, "unknown") not in seen:
                seen.add((*where, "unknown"))
                named = f"（表中学校名称“{rec.school_name}”）" if rec.school_name else ""
                col.issue_at(
                    rec,
                    "unknown_school",
                    "error",
                    f"不在学校名册中{named}，这一行的数据未使用 / unknown school",
                    whole_row=True,
                    value=rec.school_id,
                    expected="学校名册中的学校编号",
                )
            col.reject(rec, f"学校编号 {rec.school_id} 不在名册中")
            continue
        if matched != rec.school_id:
            if (*where, "matched") not in seen:
                seen.add((*where, "matched"))
                col.normalised(
                    rec.file,
                    rec.sheet,
                    rec.school_cell,
                    matched,
                    "",
                    rec.school_id,
                    matched,
                    (f"按学校名册补齐前导零（{rec.school_id} → {matched}）",),
                )
            rec.school_id = matched
        row = reg[matched]
        if rec.year is not None and rec.status != "invalid":
            start, end = row.get("active_from"), row.get("active_to")
            before = start is not None and not pd.isna(start) and rec.year < start
            after = end is not None and not pd.isna(end) and rec.year > end
            if before or after:
                if (*where, "inactive") not in seen:
                    seen.add((*where, "inactive"))
                    span = _span(start, end)
                    col.issue_at(
                        rec,
                        "inactive_school",
                        "error",
                        f"按学校名册 {rec.year} 年不参评（参评年度 {span}），这一行的数据未使用"
                        " / not assessed that year",
                        whole_row=True,
                        value=str(rec.year),
                        expected=span,
                    )
                col.reject(rec, f"学校 {matched} {rec.year} 年不参评")
        if rec.school_name and _same_name(rec.school_name) != _same_name(str(row["school_name"])):
            other = names.get(_same_name(rec.school_name))
            if other is not None:  # the name of another registry school: the row is misplaced
                _misplaced(col, rec, matched, row, other, reg[other], swapped)
                continue
            if (*where, "name") not in seen:
                seen.add((*where, "name"))
                col.issue_at(
                    rec,
                    "school_name_mismatch",
                    "warning",
                    f"表中学校名称“{rec.school_name}”与名册“{row['school_name']}”不一致，请核对学校编号 / "
                    "name differs from the registry",
                    whole_row=True,
                    value=rec.school_name,
                    expected=str(row["school_name"]),
                )


SHUFFLED_ROWS = 3
"""Rows of one sheet naming another registry school before the sheet is called shuffled."""


def _misplaced(
    col: Collector,
    rec: Record,
    sid: str,
    row: dict,
    other: str,
    other_row: dict,
    swapped: dict[tuple[str, str], set[int]],
) -> None:
    """A row whose 学校名称 is another registry school's name: its data would be scored for the
    wrong school (e.g. only the 学校编号 column was sorted). An error once per row; and once
    per sheet when :data:`SHUFFLED_ROWS` or more rows are so."""
    rows = swapped[(rec.file, rec.sheet)]
    if rec.row not in rows:
        rows.add(rec.row)
        col.issue_at(
            rec,
            "school_name_mismatch",
            "error",
            f"学校编号 {sid} 在名册中是“{row['school_name']}”，但这一行的学校名称“{rec.school_name}”"
            f"是名册中学校 {other}（{other_row['school_name']}）的名称：这一行的数据会记到别的学校名下，"
            "未使用；请核对学校编号 / id and name of different schools",
            whole_row=True,
            value=f"{rec.school_id} {rec.school_name}",
            expected=f"{other} {other_row['school_name']}",
        )
        if len(rows) == SHUFFLED_ROWS:
            col.issue(
                "school_name_mismatch",
                "error",
                f"至少 {SHUFFLED_ROWS} 行的学校编号与学校名称分属名册中不同的学校：学校编号列可能被单独排序或移动过"
                "（Excel 排序时选了“以当前选定区域排序”）。请恢复原表或按名册重新填写学校编号 / "
                "the id column was sorted apart from the rows",
                file=rec.file,
                sheet=rec.sheet,
                expected="每行的学校编号与学校名称属于同一所学校",
            )
    col.reject(rec, f"学校名称“{rec.school_name}”属于名册中的学校 {other}，与学校编号 {sid} 不符")


def _span(start: object, end: object) -> str:
    """Registry years as words: ``2020–2023 年``, ``2020 年起``, ``至 2023 年``."""
    a = None if start is None or pd.isna(start) else int(start)  # type: ignore[call-overload]
    b = None if end is None or pd.isna(end) else int(end)  # type: ignore[call-overload]
    if a is not None and b is not None:
        return f"{a}–{b} 年"
    return f"{a} 年起" if a is not None else f"至 {b} 年"


def _same_name(name: str) -> str:
    return "".join(nfkc(name).split())


def _where(rec: Record, other: Record, cell: bool = True) -> str:
    """Where ``other`` is, as seen from ``rec``: only what differs (file, sheet), then the cell."""
    parts = []
    if rec.file != other.file:
        parts.append(f"文件 {Path(other.file).name}")
    if (rec.file != other.file or rec.sheet != other.sheet) and other.sheet:
        parts.append(f"工作表 {other.sheet}")
    if cell:
        parts.append(f"单元格 {other.cell}")
    return " ".join(parts)


def _check_duplicates(col: Collector) -> None:
    first: dict[tuple, Record] = {}
    pairs: list[tuple[Record, Record]] = []
    for rec in col.records:
        if rec.status != "ok":
            continue
        if rec.key in first:
            pairs.append((rec, first[rec.key]))
        else:
            first[rec.key] = rec
    groups: dict[tuple, list[tuple[Record, Record]]] = defaultdict(list)
    for rec, other in pairs:
        if rec.shape == "wide" and other.shape == "wide":
            groups[(rec.file, rec.sheet, rec.row, other.file, other.sheet, other.row)].append((rec, other))
        else:
            groups[(id(rec),)].append((rec, other))
    for group in groups.values():
        rec, other = group[0]
        if len(group) > 1:
            ids = "、".join(r.indicator_id for r, _ in group)
            where = _where(rec, other, cell=False)
            col.issue_at(
                rec,
                "duplicate",
                "error",
                f"在{where + ' ' if where else ''}第 {other.row} 行已出现，"
                f"第 {rec.row} 行重复（{ids} 共 {len(group)} 项），重复行的值未使用 / duplicate row",
                whole_row=True,
                value=rec.school_id,
                expected="每所学校一行",
            )
        else:
            col.issue_at(
                rec,
                "duplicate",
                "error",
                f"与 {_where(rec, other)} 重复（同一学校、年度、指标、子项、来源、评分人），"
                "此值未使用 / duplicate",
                value=shown(rec.raw),
                expected="每项只填一次",
            )
        for r, o in group:
            col.reject(r, f"与 {_where(r, o)} 重复")


def _check_conflicts(col: Collector) -> None:
    groups: dict[tuple, list[Record]] = defaultdict(list)
    for rec in col.records:
        if rec.status == "ok" and rec.value is not None:
            groups[(rec.school_id, rec.year, rec.indicator_id, rec.item, rec.source)].append(rec)
    for recs in groups.values():
        single = [r for r in recs if not r.rater]
        marks = [r for r in recs if r.rater]
        if single and marks:
            rec = single[0]
            raters = "、".join(r.rater for r in marks)
            col.issue_at(
                rec,
                "conflict",
                "warning",
                f"既填写了单一的值，又有评分人（{raters}）的分别评分；评分时将一并计入，请确认是否重复 / "
                "both a single value and inspectors' marks",
                value=shown(rec.raw),
            )


def _check_values(col: Collector, specs: dict[str, ValueSpec]) -> None:
    shown_numbers: dict[float, str] = {}
    limits: dict[str, str] = {}
    for b, row, cell, sid, value, raw, spec in implausible_rows(col, specs):  # clean rows kept as columns
        if value not in shown_numbers:
            shown_numbers[value] = num(value)
        if spec.id not in limits:
            limits[spec.id] = num(spec.plausible_max)
        limit = limits[spec.id]
        col.issue(
            "implausible",
            "warning",
            f"的值 {shown_numbers[value]} 异常偏大（一般不超过 {limit}{spec.unit}），请核实 / implausibly large",
            file=b.file,
            sheet=b.sheet,
            cell=cell,
            row=row,
            school_id=sid,
            indicator_id=spec.id,
            value=shown(raw),
            expected=f"≤ {limit}",
        )
    for rec in col.records:
        if rec.status != "ok" or rec.value is None:
            continue
        spec = specs[rec.indicator_id]
        if spec.auto:
            col.issue_at(
                rec,
                "not_needed",
                "warning",
                "由相关指标自动判定，无需填写；填写的值不参与判定 / determined automatically",
                value=shown(rec.raw),
            )
        limit = spec.plausible_max
        if limit is not None and isinstance(rec.value, float) and rec.value > limit:
            col.issue_at(
                rec,
                "implausible",
                "warning",
                f"的值 {num(rec.value)} 异常偏大（一般不超过 {num(limit)}{spec.unit}），请核实"
                " / implausibly large",
                value=shown(rec.raw),
                expected=f"≤ {num(limit)}",
            )


def _check_missing(
    col: Collector, specs: dict[str, ValueSpec], registry: pd.DataFrame | None, year: int | None
) -> None:
    """Required indicators without a value (per the missing-data policy) and schools with no
    data at all (registry schools active that year, and rows left entirely empty)."""
    fw = col.framework
    by_school: dict[tuple[str, int], list[Record]] = defaultdict(list)
    for rec in col.records:
        if rec.school_id and rec.year is not None:
            by_school[(rec.school_id, rec.year)].append(rec)
    in_bulk = bulk_school_years(col)
    years = {year} if year is not None else {r.year for r in col.records if r.status == "ok" and r.year}
    if year is None:
        years |= {y for _, y in in_bulk}
    if registry is None:
        schools = {k for k in by_school if k[1] in years} | {k for k in in_bulk if k[1] in years}
    else:  # only schools assessed that year: unknown and inactive ones are reported already
        schools = {(sid, y) for y in years for sid in active_schools(registry, y)["school_id"].astype(str)}
    order = sorted(schools)
    indicators = [ind.id for ind in fw.indicators]
    bulk_has, bulk_covered = coverage(col, order, indicators)
    for k, (sid, y) in enumerate(order):
        recs = by_school.get((sid, y), [])
        if bulk_has[k] and not recs and bulk_covered[k].all():
            continue  # every indicator has a value among the clean rows: nothing to say
        has_data = bool(bulk_has[k]) or any(
            (r.status == "ok" and r.value is not None) or r.status == "invalid" for r in recs
        )
        if not has_data:
            first = recs[0] if recs else None
            where = (
                {"file": first.file, "sheet": first.sheet, "cell": first.school_cell, "row": first.row}
                if first
                else {}
            )
            col.issue(
                "no_data",
                "warning",
                f"{y} 年没有任何数据（{'名册中该年参评' if registry is not None else '这一行没有填写数据'}）"
                " / school has no data",
                school_id=sid,
                value=str(y),
                **where,
            )
            continue
        by_indicator: dict[str, list] = {}
        for r in recs:
            by_indicator.setdefault(r.indicator_id, []).append(r)
        for j, ind in enumerate(fw.indicators):
            mine = by_indicator.get(ind.id, [])
            if bulk_covered[k, j] or any(r.status == "ok" and r.value is not None for r in mine) or any(
                r.status == "invalid" for r in mine
            ):
                continue
            severity, detail = MISSING_DETAILS[fw.missing_policy(ind)]
            spot = mine[0] if mine else None
            where = (
                {"file": spot.file, "sheet": spot.sheet, "cell": spot.cell, "row": spot.row} if spot else {}
            )
            col.issue("missing_value", severity, detail, school_id=sid, indicator_id=ind.id, **where)


def _fill_names(col: Collector, matcher: SchoolMatcher) -> None:
    """Registry ids and names on every issue and table entry recorded before ids were matched."""

    def fix(sid: str) -> str:
        matched = matcher.match(sid) if sid else None
        return matched or sid

    out: list[Issue] = []
    for issue in col.issues:
        sid = fix(issue.school_id)
        name = issue.school_name or matcher.names.get(sid, "")
        same = sid == issue.school_id and name == issue.school_name
        out.append(issue if same else replace(issue, school_id=sid, school_name=name))
    col.issues[:] = out
    for table in (col.normalisations, col.unused):
        for entry in table:
            entry["school_id"] = fix(entry["school_id"])
