"""Reading one file: find each sheet's shape (long or wide) and what applies to the workbook.

A workbook's ``说明`` sheet (written by :mod:`evalkit.intake.template`) carries labelled cells in
column A with their values in column B: ``年度``, ``来源`` (自评 / 实地核查 / 测评) and
``指标体系编号``. The ``核查评分`` sheet holds inspectors' marks: its rows are inspection data
whatever the workbook's source. Other sheets are read by their header row (among the first 10
rows): a ``指标编号`` column makes a long sheet, a ``学校编号`` column without it a wide sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evalkit.intake.cells import Context, source_names
from evalkit.intake.columns import LONG_COLUMNS
from evalkit.intake.control import refuse_control_characters
from evalkit.intake.long import read_long
from evalkit.intake.normalise import parse_source, parse_year, shown
from evalkit.intake.records import Collector
from evalkit.intake.specs import ValueSpec
from evalkit.intake.wide import read_wide
from evalkit.io.sheets import Sheet, find_header_row, header_key, is_blank, read_sheets
from evalkit.issues import cell_ref

META_SHEET = "说明"
META_SHEETS = {header_key(n) for n in (META_SHEET, "填表说明", "readme", "instructions")}
INSPECTION_SHEET = "核查评分"
REGISTRY_SHEET = "_名册"
"""A template's hidden copy of the registry it was made from (read by ``evalkit validate``
without ``-r``; never read as data)."""
META_LABELS = {
    "year": {header_key(n) for n in ("年度", "评价年度", "year")},
    "source": {header_key(n) for n in ("来源", "数据来源", "source")},
    "framework": {header_key(n) for n in ("指标体系编号", "framework")},
}
_LONG_KEYS = {k for k, v in LONG_COLUMNS.items() if v == "indicator_id"}
_WIDE_KEYS = {k for k, v in LONG_COLUMNS.items() if v == "school_id"}


@dataclass
class Meta:
    """What a workbook's 说明 sheet says, and the kinds of problems already reported there."""

    year: int | None = None
    source: str | None = None
    reported: set[str] = field(default_factory=set)


def read_file(
    col: Collector,
    path: str | Path,
    specs: dict[str, ValueSpec],
    year: int | None = None,
    source: str | None = None,
) -> list[str]:
    """Read every sheet of one file into ``col``; returns the sheet names in order."""
    records_before, issues_before = col.n_read(), len(col.issues)
    sheets, issues = read_sheets(path)
    col.issues.extend(issues)
    for sheet in sheets:
        refuse_control_characters(col, sheet)
    meta = _meta(col, sheets)
    weights = col.framework.sources.weights
    fallback = source or (next(iter(weights)) if len(weights) == 1 else None)
    names = []
    for sheet in sheets:
        names.append(sheet.name)
        if (header_key(sheet.name) in META_SHEETS or sheet.name == REGISTRY_SHEET
                or all(all(is_blank(v) for v in r) for r in sheet.rows)):
            continue
        sheet_source = meta.source or fallback
        if sheet.name.strip() == INSPECTION_SHEET and "inspection" in weights:
            sheet_source = "inspection"
        ctx = Context(
            file=sheet.file,
            sheet=sheet.name,
            year=meta.year if meta.year is not None else year,
            source=sheet_source,
            reported=frozenset(meta.reported),
        )
        long_row = find_header_row(sheet, _LONG_KEYS)
        wide_row = find_header_row(sheet, _WIDE_KEYS)
        if long_row is not None and (wide_row is None or long_row <= wide_row):
            read_long(col, sheet, long_row, ctx, specs)
        elif wide_row is not None:
            read_wide(col, sheet, wide_row, ctx, specs)
        else:
            col.issue(
                "unrecognised_sheet",
                "warning",
                "前 10 行中没有“学校编号”或“指标编号”表头，整张表未读取 / sheet not recognised",
                file=sheet.file,
                sheet=sheet.name,
                expected="学校编号 / 指标编号 表头",
            )
            col.skip(sheet.file, sheet.name, "", None, "", "", "", "无法识别的工作表，未读取")
    if sheets and col.n_read() == records_before and not any(i.is_error for i in col.issues[issues_before:]):
        col.issue(
            "empty_file",
            "error",
            "文件中没有读到任何评价数据：只有表头没有数据行，或没有“学校编号”“指标编号”表头 / no data in the file",
            file=str(path),
            expected="学校编号 / 指标编号 表头及数据行",
        )
    return names


def _meta(col: Collector, sheets: list[Sheet]) -> Meta:
    meta = Meta()
    sheet = next((s for s in sheets if header_key(s.name) in META_SHEETS), None)
    if sheet is None:
        return meta
    weights = col.framework.sources.weights
    for r in range(1, sheet.n_rows + 1):
        label = header_key(sheet.value(r, 1))
        raw = sheet.value(r, 2)
        where = {"file": sheet.file, "sheet": sheet.name, "cell": cell_ref(r, 2), "row": r}
        if label in META_LABELS["year"] and meta.year is None:
            parsed = parse_year(raw)
            if parsed.problem:
                col.bad_value(parsed.problem, raw, **where)
                meta.reported.add("missing_year")
            elif parsed.value is not None:
                meta.year = parsed.value
        elif label in META_LABELS["source"] and meta.source is None:
            names = "、".join(source_names(col))
            if is_blank(raw):
                col.issue(
                    "missing_source",
                    "error",
                    f"请在“{sheet.name}”表 {cell_ref(r, 2)} 选择本工作簿数据的来源（{names}）"
                    " / choose the source",
                    expected=names,
                    **where,
                )
                meta.reported.add("missing_source")
                continue
            parsed = parse_source(raw, weights)
            if parsed.problem:
                col.bad_value(parsed.problem, raw, **where)
                meta.reported.add("missing_source")
            else:
                meta.source = parsed.value
                col.normalised(
                    sheet.file, sheet.name, cell_ref(r, 2), "", "", shown(raw), parsed.value, parsed.actions
                )
        elif label in META_LABELS["framework"] and not is_blank(raw):
            if str(raw).strip() != col.framework.id:
                col.issue(
                    "framework_mismatch",
                    "warning",
                    f"工作簿按指标体系“{str(raw).strip()}”制作，现按“{col.framework.id}”读取，请确认 / "
                    "made for another framework",
                    value=str(raw).strip(),
                    expected=col.framework.id,
                    **where,
                )
    return meta


def embedded_registry(path: str | Path) -> tuple[pd.DataFrame | None, int | None]:
    """The registry and year a template made by :mod:`evalkit.intake.template` remembers (its hidden
    ``_名册`` sheet and the ``年度`` of its 说明 sheet); ``(None, None)`` for any other file.
    Raises :class:`evalkit.intake.registry.RegistryError` when the embedded registry has errors."""
    from openpyxl import load_workbook

    from evalkit.errors import UnreadableFileError
    from evalkit.intake.registry import RegistryError, read_registry
    from evalkit.io.workbooks import check_xlsx_limits

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return None, None
    try:
        check_xlsx_limits(str(path), path.read_bytes())  # a zip bomb is refused, not opened (intake reports it)
        wb = load_workbook(path, read_only=True, data_only=True)
    except UnreadableFileError:
        return None, None
    except Exception:  # unreadable: intake reports it
        return None, None
    try:
        if REGISTRY_SHEET not in wb.sheetnames:
            return None, None
        year = None
        if META_SHEET in wb.sheetnames:
            for row in wb[META_SHEET].iter_rows(min_row=1, max_row=12, max_col=2, values_only=True):
                if row and header_key(row[0]) in META_LABELS["year"]:
                    parsed = parse_year(row[1])
                    year = parsed.value if not parsed.problem else None
                    break
    finally:
        wb.close()
    frame, issues = read_registry(path, sheet_name=REGISTRY_SHEET)
    if frame is None or any(i.is_error for i in issues):
        raise RegistryError(issues)
    return frame, year
