"""Reading a long sheet or CSV: one row per school × year × indicator × item × source × rater.

Required columns: 学校编号 (school_id), 指标编号 (indicator_id), 值 (value, also 评分). Year and
source come from their columns when present, else from the sheet context (the workbook's 说明
sheet, the caller's ``year``, the 核查评分 sheet meaning inspection). A row with an empty value
is kept as an observation with a missing value (the missing-data check reports it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.intake.cells import (
    Context,
    check_merged,
    column_has_data,
    data_rows,
    note_blank_rows,
    parse_cell,
    report_parsed,
    school_id_text,
    skip_ignored,
    source_names,
)
from evalkit.intake.columnar import ColumnSheet, blank_mask, known_factors, read_long_columns, sheet_columns
from evalkit.intake.columns import CHINESE_HEADERS, long_column
from evalkit.intake.normalise import Parsed, parse_item, parse_source, parse_year, shown
from evalkit.intake.records import Collector, Record
from evalkit.intake.specs import ValueSpec
from evalkit.io.sheets import Sheet, cell_text, is_blank
from evalkit.issues import cell_ref

REQUIRED = ("school_id", "indicator_id", "value")


def read_long(
    col: Collector, sheet: Sheet, header_row: int, ctx: Context, specs: dict[str, ValueSpec]
) -> None:
    """Parse a long sheet into ``col.records`` (reporting problems into ``col``)."""
    columns: dict[str, int] = {}
    ignored: dict[int, str] = {}
    for c, head in enumerate(sheet.rows[header_row - 1], start=1):
        where = {"file": ctx.file, "sheet": ctx.sheet, "cell": cell_ref(header_row, c), "row": header_row}
        role = long_column(head)
        if role is None:
            if column_has_data(sheet, header_row, c):
                text = cell_text(head)
                ignored[c] = f"无法识别的列“{text}”" if text else "该列没有表头"
                col.issue(
                    "unknown_column",
                    "warning",
                    f"{ignored[c]}，其中的数据未读取 / column ignored",
                    value=text,
                    **where,
                )
        elif role in columns:
            ignored[c] = f"重复的“{CHINESE_HEADERS[role]}”列"
            col.issue(
                "duplicate",
                "error",
                f"“{CHINESE_HEADERS[role]}”列重复（另见 {cell_ref(header_row, columns[role])}），该列未读取",
                value=cell_text(head),
                **where,
            )
        else:
            columns[role] = c
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        names = "、".join(f"{CHINESE_HEADERS[c]}（{c}）" for c in missing)
        col.issue(
            "missing_column",
            "error",
            f"缺少必需的列：{names}，整张表未读取 / missing columns",
            file=ctx.file,
            sheet=ctx.sheet,
            row=header_row,
            expected=names,
        )
        for r in _data_rows(sheet, header_row).tolist():
            col.skip(ctx.file, ctx.sheet, f"A{r}", r, "", "", "", f"工作表缺少必需的列：{names}")
        return
    if "year" not in columns and ctx.year is None and "missing_year" not in ctx.reported:
        col.issue(
            "missing_year",
            "error",
            "无法确定年度：没有“年度”列，也没有指定评价年度 / year unknown",
            file=ctx.file,
            sheet=ctx.sheet,
            row=header_row,
            expected="年度，如 2024",
        )
    if "source" not in columns and ctx.source is None and "missing_source" not in ctx.reported:
        names = "、".join(source_names(col))
        col.issue(
            "missing_source",
            "error",
            f"无法确定来源：没有“来源”列；请增加来源列（{names}） / source unknown",
            file=ctx.file,
            sheet=ctx.sheet,
            row=header_row,
            expected=names,
        )
    col.sheet_seq(ctx.file, ctx.sheet)
    hidden = check_merged(col, sheet, ctx, header_row)
    rows = _data_rows(sheet, header_row)
    wanted = sorted({*columns.values(), *ignored})
    values = sheet_columns(sheet, rows, wanted)
    read_long_columns(
        col, ctx, specs, columns, rows, values, _dirty(sheet, rows, columns, ignored, hidden, values),
        lambda r: _read_row(col, sheet, r, ctx, specs, columns, ignored, hidden),
        known_factors(sheet, rows, wanted),
    )
    note_blank_rows(col, ctx, header_row, rows)


def _data_rows(sheet: Sheet, header_row: int) -> np.ndarray:
    if isinstance(sheet, ColumnSheet):
        return sheet.data_rows()
    return np.asarray(data_rows(sheet, header_row), dtype=np.int64)


def _dirty(
    sheet: Sheet,
    rows: np.ndarray,
    columns: dict[str, int],
    ignored: dict[int, str],
    hidden: set[tuple[int, int]],
    values: dict[int, np.ndarray],
) -> np.ndarray:
    """Rows to read one by one whatever their values: a number format on the school id or the
    value (leading zeros, a percent format), a cell hidden by a merge, a filled ignored cell."""
    watched = {columns["school_id"], columns["value"]}
    special = {r for (r, c) in sheet.formats if c in watched}
    special |= {r for (r, c) in hidden if c in columns.values()}
    dirty = np.isin(rows, np.fromiter(special, dtype=np.int64, count=len(special))) if special else (
        np.zeros(len(rows), dtype=bool))
    for c in ignored:
        dirty |= ~blank_mask(values[c])
    return dirty


def _read_row(
    col: Collector,
    sheet: Sheet,
    r: int,
    ctx: Context,
    specs: dict[str, ValueSpec],
    columns: dict[str, int],
    ignored: dict[int, str],
    hidden: set[tuple[int, int]],
) -> None:
    file, name = ctx.file, ctx.sheet
    sid = school_id_text(col, sheet, ctx, r, columns["school_id"])
    school_cell = cell_ref(r, columns["school_id"])
    value_cell = cell_ref(r, columns["value"])
    raw = sheet.value(r, columns["value"])
    skip_ignored(col, sheet, ctx, r, sid, ignored)
    rec = Record(
        file=file,
        sheet=name,
        cell=value_cell,
        row=r,
        shape="long",
        school_id=sid,
        school_cell=school_cell,
        school_name=cell_text(sheet.value(r, columns["school_name"])) if "school_name" in columns else "",
        year=ctx.year,
        indicator_id="",
        item="",
        source=ctx.source or "",
        rater="",
        value=None,
        evidence="",
        raw=raw,
    )
    col.records.append(rec)
    problems: list[str] = []
    if hidden and any((r, c) in hidden for c in columns.values()):
        problems.append("合并单元格中被遮盖的单元格")
    if not sid:
        col.issue_at(rec, "missing_school_id", "error", "缺少学校编号 / empty school id", whole_row=True)
        problems.append("没有学校编号")

    # indicator
    ind_cell = cell_ref(r, columns["indicator_id"])
    ind_raw = sheet.value(r, columns["indicator_id"])
    ind_text = cell_text(ind_raw)
    spec = specs.get(ind_text) or specs.get(ind_text.upper())
    if spec is None:
        rec.indicator_id = ind_text
        col.issue_at(
            rec,
            "unknown_indicator",
            "error",
            "不在指标体系中，这一行未使用 / unknown indicator" if ind_text else "缺少指标编号 / empty indicator id",
            cell=ind_cell,
            value=shown(ind_raw) if ind_text else "",
            expected="指标体系中的指标编号",
        )
        col.reject(rec, f"指标编号“{ind_text}”不存在" if ind_text else "缺少指标编号")
        return
    rec.indicator_id = spec.id
    actions = []
    if shown(ind_raw) != ind_text:
        actions.append("去掉空格或全角字符")
    if ind_text != spec.id:
        actions.append("改为大写")
    col.normalised(file, name, ind_cell, sid, spec.id, shown(ind_raw), spec.id, actions)

    # item, year, source, rater
    indicator_id = spec.id

    def report(parsed: Parsed, raw: Any, cell: str) -> Parsed:
        """Report a field's problem, or record its normalisation, at ``cell`` of this row."""
        return report_parsed(col, parsed, raw, ctx=ctx, cell=cell, row=r, school_id=sid, indicator_id=indicator_id)

    item_raw = sheet.value(r, columns["item"]) if "item" in columns else None
    item_cell = cell_ref(r, columns["item"]) if "item" in columns else ind_cell
    item = report(parse_item(item_raw, spec.items), item_raw, item_cell)
    if item.problem:
        problems.append("子项不正确")
    else:
        rec.item = item.value
    if "year" in columns:
        y_raw = sheet.value(r, columns["year"])
        year = report(parse_year(y_raw), y_raw, cell_ref(r, columns["year"]))
        if year.problem:
            problems.append("年度不正确")
        elif year.value is not None:
            rec.year = year.value
    if rec.year is None and "年度不正确" not in problems:
        if "year" in columns:
            col.issue_at(
                rec,
                "missing_year",
                "error",
                "缺少年度 / empty year",
                cell=cell_ref(r, columns["year"]),
                expected="年度，如 2024",
            )
        problems.append("年度无法确定")
    s_raw = sheet.value(r, columns["source"]) if "source" in columns else None
    if "source" in columns and not (is_blank(s_raw) and ctx.source):
        source = report(parse_source(s_raw, col.framework.sources.weights), s_raw, cell_ref(r, columns["source"]))
        if source.problem:
            problems.append("来源不正确")
        else:
            rec.source = source.value
    if spec.source and rec.source and rec.source != spec.source and "source" not in columns:
        rec.source = spec.source  # a survey indicator in a sheet without a source column
    if not rec.source and "来源不正确" not in problems:
        problems.append("来源无法确定")
    if "rater" in columns:
        rec.rater = cell_text(sheet.value(r, columns["rater"]))
    if "evidence" in columns:
        ev = sheet.value(r, columns["evidence"])
        rec.evidence = "" if is_blank(ev) else str(ev).strip()

    # value
    parsed = parse_cell(
        col,
        spec,
        raw,
        ctx=ctx,
        cell=value_cell,
        row=r,
        school_id=sid,
        number_format=sheet.number_format(r, columns["value"]),
    )
    if parsed.problem:
        problems.append(parsed.problem[1].lstrip("的"))
    else:
        rec.value, rec.reading = parsed.value, parsed.reading
    if problems:
        col.reject(rec, "；".join(problems))
