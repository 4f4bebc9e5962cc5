"""Helpers shared by the long and wide readers: the sheet context, parsing one value cell,
school ids, merged cells and empty rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evalkit.intake.normalise import Parsed, canonical_text, parse_value, shown
from evalkit.intake.records import Collector
from evalkit.intake.specs import ValueSpec
from evalkit.io.sheets import Sheet, cell_text, is_blank
from evalkit.issues import cell_ref
from evalkit.textfmt import SOURCE_NAMES


@dataclass
class Context:
    """Where a sheet is and what applies to all of it: the year and source given by the
    workbook's 说明 sheet or by the caller (``None`` if unknown). ``reported``: kinds of
    problems already reported for the whole workbook (not to repeat per sheet)."""

    file: str
    sheet: str
    year: int | None
    source: str | None
    reported: frozenset[str] = frozenset()


def parse_cell(
    col: Collector,
    spec: ValueSpec,
    raw: Any,
    *,
    ctx: Context,
    cell: str,
    row: int,
    school_id: str,
    number_format: str = "General",
) -> Parsed:
    """Parse one value; report its problem or record its normalisation."""
    parsed = parse_value(
        raw,
        spec.data_type,
        unit=spec.unit,
        number_format=number_format,
        levels=spec.levels,
        upper=spec.upper,
    )
    return report_parsed(col, parsed, raw, ctx=ctx, cell=cell, row=row, school_id=school_id, indicator_id=spec.id)


def report_parsed(
    col: Collector,
    parsed: Parsed,
    raw: Any,
    *,
    ctx: Context,
    cell: str,
    row: int,
    school_id: str,
    indicator_id: str = "",
) -> Parsed:
    """Report the problem of a parsed cell (a value, year, source or sub-item) as an error at
    ``cell``, or record its normalisation; returns ``parsed``."""
    if parsed.problem is not None:
        col.bad_value(
            parsed.problem,
            raw,
            file=ctx.file,
            sheet=ctx.sheet,
            cell=cell,
            row=row,
            school_id=school_id,
            indicator_id=indicator_id,
        )
    else:
        col.normalised(
            ctx.file,
            ctx.sheet,
            cell,
            school_id,
            indicator_id,
            shown(raw),
            canonical_text(parsed.value),
            parsed.actions,
        )
    return parsed


def school_id_text(col: Collector, sheet: Sheet, ctx: Context, row: int, column: int) -> str:
    """The school id in a cell as text, recording a normalisation when it was changed
    (spaces, full-width digits, a number shown with leading zeros)."""
    raw = sheet.value(row, column)
    text, actions = school_id_reading(raw, sheet.number_format(row, column))
    col.normalised(ctx.file, ctx.sheet, cell_ref(row, column), text, "", shown(raw), text, actions)
    return text


def school_id_reading(raw: Any, fmt: str) -> tuple[str, list[str]]:
    """A school id cell (``raw`` with number format ``fmt``) as text, and the actions taken."""
    text = cell_text(raw)
    actions = []
    if isinstance(raw, int | float) and fmt.strip("0") == "" and len(fmt) > len(text):
        text = text.zfill(len(fmt))
        actions.append("按单元格格式补齐前导零")
    elif isinstance(raw, str) and text != raw:
        if raw.strip() != raw:
            actions.append("去掉首尾空格")
        if text != raw.strip():
            actions.append("全角转半角")
    return text, actions


def check_merged(col: Collector, sheet: Sheet, ctx: Context, header_row: int) -> set[tuple[int, int]]:
    """Report merged ranges in the data area that would hide values: a merged range's value
    belongs to its top-left cell only. Returns the hidden cells (row, column)."""
    hidden: set[tuple[int, int]] = set()
    for min_row, min_col, max_row, max_col in sheet.merged:
        if max_row <= header_row or is_blank(sheet.value(min_row, min_col)):
            continue
        covered = [
            (r, c)
            for r in range(max(min_row, header_row + 1), max_row + 1)
            for c in range(min_col, max_col + 1)
            if (r, c) != (min_row, min_col)
        ]
        if not covered:
            continue
        hidden.update(covered)
        first = cell_ref(min_row, min_col)
        span = f"{first}:{cell_ref(max_row, max_col)}"
        others = "、".join(cell_ref(r, c) for r, c in covered[:6]) + ("等" if len(covered) > 6 else "")
        col.issue(
            "merged_cells",
            "error",
            f"单元格 {span} 是合并单元格：值“{shown(sheet.value(min_row, min_col))}”只计入 {first}，"
            f"{others} 将按未填处理；请取消合并，在每个单元格分别填写 / merged cells hide values",
            file=ctx.file,
            sheet=ctx.sheet,
            cell=first,
            row=min_row,
            value=shown(sheet.value(min_row, min_col)),
            expected="不合并单元格",
        )
    return hidden


def data_rows(sheet: Sheet, header_row: int) -> list[int]:
    """The 1-based rows below the header row that are not entirely empty."""
    rows = sheet.rows
    return [r for r in range(header_row + 1, sheet.n_rows + 1) if rows[r - 1] and not row_is_blank(rows[r - 1])]


BLANK_RUN = 10


def note_blank_rows(col: Collector, ctx: Context, header_row: int, rows: Any) -> None:
    """Empty rows between the header and the last of the data ``rows`` are skipped and listed
    as unused (trailing ones are not): each on its own, except a run of more than
    :data:`BLANK_RUN` (a stray cell far below the data), listed once as ``A440:A1048575``."""
    bounds = np.concatenate([[header_row], np.asarray(rows, dtype=np.int64)])
    gaps = np.flatnonzero(np.diff(bounds) > 1)  # only where rows are skipped (millions of rows)
    for before, after in zip(bounds[gaps].tolist(), bounds[gaps + 1].tolist(), strict=True):
        first, last = before + 1, after - 1
        if last - first + 1 > BLANK_RUN:
            n = last - first + 1
            col.skip(ctx.file, ctx.sheet, f"A{first}:A{last}", first, "", "", "", f"连续 {n} 行空行，已跳过")
            continue
        for r in range(first, last + 1):
            col.skip(ctx.file, ctx.sheet, f"A{r}", r, "", "", "", "空行，已跳过")


def skip_ignored(
    col: Collector, sheet: Sheet, ctx: Context, row: int, school_id: str, ignored: dict[int, str]
) -> None:
    """List a row's filled cells in ignored columns (column → reason) as unused."""
    for c, reason in ignored.items():
        raw = sheet.value(row, c)
        if not is_blank(raw):
            col.skip(ctx.file, ctx.sheet, cell_ref(row, c), row, school_id, "", shown(raw), reason)


def row_is_blank(values: list[Any]) -> bool:
    """Whether every cell of a row is empty."""
    return all(is_blank(v) for v in values)


def column_has_data(sheet: Sheet, header_row: int, column: int) -> bool:
    """Whether any cell below the header row in ``column`` is filled."""
    return column in sheet.filled_columns(header_row)


def source_names(col: Collector) -> list[str]:
    """The framework's sources in Chinese (自评、实地核查、测评)."""
    return [SOURCE_NAMES.get(s, s) for s in col.framework.sources.weights]
