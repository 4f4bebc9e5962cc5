"""Reading a wide sheet: a row per school, a column per indicator (the template's layout).

Row columns: 学校编号 (required), 学校名称, and optionally 年度, 来源, 评分人 per row. Every
other column is an indicator value column (``A1 理论学习中心组学习（次）``) or its evidence
column (``A1 … 佐证材料``), see :mod:`evalkit.intake.columns`. A column's values belong to the
row's source, unless its header carries a source tag (``【测评】``).

Empty value cells give no observation (the missing-data check reports them); columns that are
not understood are reported once, and their non-empty cells are listed as unused.
"""

from __future__ import annotations

from typing import Any

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
from evalkit.intake.columns import (
    CHINESE_HEADERS,
    WIDE_ROW_COLUMNS,
    IndicatorHeader,
    long_column,
    parse_indicator_header,
)
from evalkit.intake.normalise import parse_item, parse_source, parse_year, shown
from evalkit.intake.records import Collector, Record
from evalkit.intake.specs import ValueSpec
from evalkit.io.sheets import Sheet, cell_text, is_blank
from evalkit.issues import cell_ref

ValueKey = tuple[str, str, str]  # indicator id, item, source tag


def read_wide(
    col: Collector, sheet: Sheet, header_row: int, ctx: Context, specs: dict[str, ValueSpec]
) -> None:
    """Parse a wide sheet into ``col.records`` (reporting problems into ``col``)."""
    col.sheet_seq(ctx.file, ctx.sheet)
    roles, values, evidence, ignored = _columns(col, sheet, header_row, ctx, specs)
    hidden = check_merged(col, sheet, ctx, header_row)
    sources = source_names(col)
    year_missing = "year" not in roles and ctx.year is None and "missing_year" not in ctx.reported
    source_missing = (
        "source" not in roles
        and ctx.source is None
        and "missing_source" not in ctx.reported
        and any(not v[2] for v in values.values())
    )
    if year_missing:
        col.issue(
            "missing_year",
            "error",
            "无法确定年度：工作表没有“年度”列，工作簿也没有“说明”表的年度；请填写年度 / year unknown",
            file=ctx.file,
            sheet=ctx.sheet,
            expected="年度，如 2024",
        )
    if source_missing:
        names = "、".join(sources)
        col.issue(
            "missing_source",
            "error",
            f"无法确定来源：工作表没有“来源”列，“说明”表也没有选择来源；请选择 {names} / source unknown",
            file=ctx.file,
            sheet=ctx.sheet,
            expected=names,
        )
    rows = data_rows(sheet, header_row)
    for r in rows:
        _read_row(col, sheet, r, ctx, specs, roles, values, evidence, ignored, hidden)
    note_blank_rows(col, ctx, header_row, rows)


def _columns(
    col: Collector, sheet: Sheet, header_row: int, ctx: Context, specs: dict[str, ValueSpec]
) -> tuple[dict[str, int], dict[int, tuple[ValueSpec, str, str]], dict[ValueKey, int], dict[int, str]]:
    """Classify the header cells: row columns, value columns, evidence columns, ignored ones."""
    names = {s.name: s.id for s in specs.values()}
    roles: dict[str, int] = {}
    values: dict[int, tuple[ValueSpec, str, str]] = {}
    evidence: dict[ValueKey, int] = {}
    ignored: dict[int, str] = {}
    seen: dict[tuple[ValueKey, bool], int] = {}
    header = sheet.rows[header_row - 1]
    n_cols = max(len(header), sheet.n_cols)
    for c in range(1, n_cols + 1):
        head = sheet.value(header_row, c)
        where = {"file": ctx.file, "sheet": ctx.sheet, "cell": cell_ref(header_row, c), "row": header_row}
        if is_blank(head):
            if column_has_data(sheet, header_row, c):
                ignored[c] = "该列没有表头"
                col.issue(
                    "unknown_column",
                    "warning",
                    f"第 {c} 列没有表头，其中的数据未读取 / column without header",
                    **where,
                )
            continue
        role = long_column(head)
        if role in WIDE_ROW_COLUMNS:
            if role in roles:
                ignored[c] = f"与 {cell_ref(header_row, roles[role])} 重复的“{CHINESE_HEADERS[role]}”列"
                col.issue(
                    "duplicate",
                    "error",
                    f"“{CHINESE_HEADERS[role]}”列重复（另见 {cell_ref(header_row, roles[role])}）",
                    value=shown(head),
                    **where,
                )
            else:
                roles[role] = c
            continue
        parsed = parse_indicator_header(head, names)
        reason = _header_problem(col, parsed, head, specs, where)
        if reason:
            ignored[c] = reason
            continue
        assert parsed is not None
        spec = specs[parsed.indicator_id.upper() if parsed.indicator_id not in specs else parsed.indicator_id]
        item = parse_item(parsed.item or None, spec.items).value if parsed.item or spec.items else ""
        source = parse_source(parsed.source, col.framework.sources.weights).value if parsed.source else ""
        key = (spec.id, item, source)
        if (key, parsed.evidence) in seen:
            other = cell_ref(header_row, seen[(key, parsed.evidence)])
            ignored[c] = f"与 {other} 重复的列"
            col.issue(
                "duplicate",
                "error",
                f"与 {other} 是同一指标的重复列，该列未读取 / duplicate column",
                indicator_id=spec.id,
                value=shown(head),
                **where,
            )
            continue
        seen[(key, parsed.evidence)] = c
        if parsed.evidence:
            evidence[key] = c
        else:
            values[c] = (spec, item, source)
    if "school_id" not in roles:
        col.issue(
            "missing_column",
            "error",
            "缺少“学校编号”列 / missing school id column",
            file=ctx.file,
            sheet=ctx.sheet,
            row=header_row,
            expected="学校编号",
        )
    value_keys = {(s.id, i, src) for s, i, src in values.values()}
    for key, c in evidence.items():
        if key not in value_keys:
            ignored[c] = "佐证材料列没有对应的指标列"
            col.issue(
                "unknown_column",
                "warning",
                "佐证材料列没有对应的指标值列，其中的内容未读取 / evidence without values",
                file=ctx.file,
                sheet=ctx.sheet,
                cell=cell_ref(header_row, c),
                row=header_row,
                indicator_id=key[0],
            )
    return roles, values, {k: c for k, c in evidence.items() if c not in ignored}, ignored


def _header_problem(
    col: Collector,
    parsed: IndicatorHeader | None,
    head: Any,
    specs: dict[str, ValueSpec],
    where: dict[str, Any],
) -> str:
    """Report an indicator header that cannot be used; return the reason ("" if usable)."""
    text = str(head).strip()
    if parsed is None:
        col.issue(
            "unknown_column",
            "warning",
            f"无法识别的列“{text}”，其中的数据未读取 / unrecognised column",
            value=text,
            **where,
        )
        return f"无法识别的列“{text}”"
    ind = parsed.indicator_id if parsed.indicator_id in specs else parsed.indicator_id.upper()
    if ind not in specs:
        col.issue(
            "unknown_indicator",
            "error",
            f"不在指标体系中（列“{text}”），该列未读取 / unknown indicator",
            indicator_id=parsed.indicator_id,
            value=text,
            expected="指标体系中的指标编号",
            **where,
        )
        return f"指标编号 {parsed.indicator_id} 不存在"
    spec = specs[ind]
    if parsed.item or spec.items:
        item = parse_item(parsed.item or None, spec.items)
        if item.problem:
            col.issue(
                item.problem[0],
                "error",
                f"列“{text}”{item.problem[1]}，该列未读取",
                indicator_id=ind,
                value=text,
                expected=item.problem[2],
                **where,
            )
            return f"列“{text}”子项不正确"
    if parsed.source:
        src = parse_source(parsed.source, col.framework.sources.weights)
        if src.problem:
            col.issue(
                src.problem[0],
                "error",
                f"列“{text}”的{src.problem[1]}，该列未读取",
                indicator_id=ind,
                value=text,
                expected=src.problem[2],
                **where,
            )
            return f"列“{text}”来源不正确"
    return ""


def _read_row(
    col: Collector,
    sheet: Sheet,
    r: int,
    ctx: Context,
    specs: dict[str, ValueSpec],
    roles: dict[str, int],
    values: dict[int, tuple[ValueSpec, str, str]],
    evidence: dict[ValueKey, int],
    ignored: dict[int, str],
    hidden: set[tuple[int, int]],
) -> None:
    id_col = roles.get("school_id")
    school_cell = cell_ref(r, id_col) if id_col else ""
    sid = school_id_text(col, sheet, ctx, r, id_col) if id_col else ""
    name = cell_text(sheet.value(r, roles["school_name"])) if "school_name" in roles else ""
    year, source, rater = _row_context(col, sheet, r, ctx, roles, sid)
    has_values = any(not is_blank(sheet.value(r, c)) for c in (*values, *evidence.values()))
    skip_ignored(col, sheet, ctx, r, sid, ignored)
    if not sid:
        if has_values:
            named = f"（学校名称“{name}”）" if name else ""
            col.issue(
                "missing_school_id",
                "error",
                f"这一行填写了数据，但没有学校编号{named} / row without school id",
                file=ctx.file,
                sheet=ctx.sheet,
                cell=school_cell,
                row=r,
            )
            for c in (*values, *evidence.values()):
                raw = sheet.value(r, c)
                if not is_blank(raw):
                    col.skip(ctx.file, ctx.sheet, cell_ref(r, c), r, "", "", shown(raw), "没有学校编号")
        elif name:
            col.skip(
                ctx.file,
                ctx.sheet,
                cell_ref(r, roles["school_name"]),
                r,
                "",
                "",
                name,
                "只有学校名称，没有学校编号和数据",
            )
        return
    for c, (spec, item, tag) in values.items():
        raw = sheet.value(r, c)
        cell = cell_ref(r, c)
        ev_col = evidence.get((spec.id, item, tag))
        ev_raw = sheet.value(r, ev_col) if ev_col else None
        ev = "" if is_blank(ev_raw) else str(ev_raw).strip()
        rec = Record(
            file=ctx.file,
            sheet=ctx.sheet,
            cell=cell,
            row=r,
            shape="wide",
            school_id=sid,
            school_cell=school_cell,
            school_name=name,
            year=year,
            indicator_id=spec.id,
            item=item,
            source=tag or source or "",
            rater=rater,
            value=None,
            evidence=ev,
            raw=raw,
        )
        col.records.append(rec)
        if (r, c) in hidden:
            col.reject(rec, "合并单元格中被遮盖的单元格")
            continue
        if is_blank(raw):
            rec.status = "blank"
            if ev:
                col.issue_at(
                    rec,
                    "missing_value",
                    "warning",
                    "填写了佐证材料但没有填写值，佐证材料未使用 / evidence without value",
                    cell=cell_ref(r, ev_col or c),
                    value=ev,
                )
                col.skip(
                    ctx.file, ctx.sheet, cell_ref(r, ev_col or c), r, sid, spec.id, ev, "有佐证材料但没有值"
                )
            if raw is not None:  # only spaces
                col.normalised(
                    ctx.file, ctx.sheet, cell, sid, spec.id, shown(raw), "", ("只有空格，按未填处理",)
                )
            continue
        parsed = parse_cell(
            col, spec, raw, ctx=ctx, cell=cell, row=r, school_id=sid, number_format=sheet.number_format(r, c)
        )
        if parsed.problem:
            col.reject(rec, parsed.problem[1].lstrip("的"))
        elif parsed.value is None:
            rec.status = "blank"
        else:
            rec.value, rec.reading = parsed.value, parsed.reading
        if rec.status != "invalid" and (year is None or not rec.source):
            col.reject(rec, "年度或来源无法确定")


def _row_context(
    col: Collector, sheet: Sheet, r: int, ctx: Context, roles: dict[str, int], sid: str
) -> tuple[int | None, str | None, str]:
    """Year, source and rater of a row: its own columns, else the sheet context."""
    year = ctx.year
    if "year" in roles:
        raw = sheet.value(r, roles["year"])
        parsed = parse_year(raw)
        report_parsed(col, parsed, raw, ctx=ctx, cell=cell_ref(r, roles["year"]), row=r, school_id=sid)
        if parsed.problem:
            year = None
        elif parsed.value is not None:
            year = parsed.value
    source = ctx.source
    if "source" in roles and not is_blank(sheet.value(r, roles["source"])):
        raw = sheet.value(r, roles["source"])
        parsed = parse_source(raw, col.framework.sources.weights)
        report_parsed(col, parsed, raw, ctx=ctx, cell=cell_ref(r, roles["source"]), row=r, school_id=sid)
        source = None if parsed.problem else parsed.value
    rater = cell_text(sheet.value(r, roles["rater"])) if "rater" in roles else ""
    return year, source, rater
