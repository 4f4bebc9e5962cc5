"""Reading CSV and XLSX files into grids of cell values that remember where each cell was.

A :class:`Sheet` holds the raw cell values (as the file has them: text from CSV; text, numbers,
booleans or dates from XLSX), the number formats of numeric XLSX cells, and the merged ranges,
so callers can report every problem by file, sheet and Excel cell (``D12``). CSV files are read
as UTF-8 (with or without BOM); a file that is not UTF-8 is read as GB18030 with a warning. Input
files are opened read-only and never modified.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.issues import Issue

CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}


@dataclass
class Sheet:
    """One sheet (or a whole CSV file): ``rows[i][j]`` is the cell at Excel row ``i + 1``,
    column ``j + 1``; ``None`` for an empty cell."""

    file: str
    name: str
    rows: list[list[Any]]
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, row: int, col: int) -> Any:
        """The value at a 1-based row and column (``None`` outside the data)."""
        if 1 <= row <= len(self.rows):
            cells = self.rows[row - 1]
            if 1 <= col <= len(cells):
                return cells[col - 1]
        return None

    def number_format(self, row: int, col: int) -> str:
        """The number format of a numeric XLSX cell (``"General"`` if none was set)."""
        return self.formats.get((row, col), "General")


class UncomputedFormula(str):
    """A formula cell saved without its computed value (e.g. a file written by a program
    rather than by Excel): the text is the formula, the value is unknown."""


_FORMULA_TAG = re.compile(rb"<f[ >]")


def _formulas(data: bytes) -> dict[tuple[str, int, int], str]:
    """(sheet, row, column) → formula of every formula cell, read only when the workbook has any."""
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(_FORMULA_TAG.search(zf.read(n)) for n in names):
            return {}
    wb = load_workbook(io.BytesIO(data), data_only=False)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    out[(ws.title, cell.row, cell.column)] = cell.value
    return out


def is_blank(value: Any) -> bool:
    """True for ``None`` and for text that is empty or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def nfkc(text: str) -> str:
    """Full-width digits, letters and punctuation to their plain forms (``"８５％"`` → ``"85%"``)."""
    return unicodedata.normalize("NFKC", text)


def cell_text(value: Any) -> str:
    """A cell as plain text for ids and labels: NFKC, no surrounding spaces; whole numbers
    without ``.0`` (``3.0`` → ``"3"``); ``""`` for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return nfkc(str(value)).strip()


_SPACES = re.compile(r"[\s_]+")


def header_key(value: Any) -> str:
    """A header cell for matching aliases: NFKC, lower case, no spaces or underscores
    (``" School_ID "`` → ``"schoolid"``, ``"学校编号 "`` → ``"学校编号"``)."""
    return _SPACES.sub("", cell_text(value)).lower()


def find_header_row(sheet: Sheet, wanted: set[str], max_rows: int = 10) -> int | None:
    """The first row (1-based, among the first ``max_rows``) with a cell whose
    :func:`header_key` is in ``wanted``."""
    for r in range(1, min(sheet.n_rows, max_rows) + 1):
        if any(header_key(v) in wanted for v in sheet.rows[r - 1]):
            return r
    return None


def read_sheets(path: str | Path) -> tuple[list[Sheet], list[Issue]]:
    """All sheets of an XLSX file, or the one table of a CSV file, plus file-level problems
    (file missing, unsupported type, unreadable, not UTF-8)."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        return [], [Issue("unreadable_file", "error", "找不到文件 / file not found", file=file)]
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path)
    return [], [
        Issue(
            "unreadable_file",
            "error",
            f"不支持的文件类型“{path.suffix}”，请使用 .xlsx 或 .csv / unsupported file type",
            file=file,
            expected=".xlsx / .csv",
        )
    ]


def _read_csv(path: Path) -> tuple[list[Sheet], list[Issue]]:
    file = str(path)
    data = path.read_bytes()
    issues: list[Issue] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            return [], [
                Issue(
                    "unreadable_file",
                    "error",
                    "文件不是 UTF-8 编码的文本，无法读取 / not UTF-8 text",
                    file=file,
                )
            ]
        issues.append(
            Issue(
                "encoding",
                "warning",
                "文件不是 UTF-8 编码，已按 GB18030（GBK）读取；请另存为“CSV UTF-8”格式 / read as GB18030",
                file=file,
            )
        )
    rows = [[c if c != "" else None for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    return [Sheet(file=file, name="", rows=rows)], issues


def _read_xlsx(path: Path) -> tuple[list[Sheet], list[Issue]]:
    from openpyxl import load_workbook

    file = str(path)
    try:
        data = path.read_bytes()
        wb = load_workbook(io.BytesIO(data), data_only=True)
        formulas = _formulas(data)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        return [], [
            Issue(
                "unreadable_file",
                "error",
                f"无法作为 Excel 工作簿打开：{err} / not a readable workbook",
                file=file,
            )
        ]
    sheets = []
    for ws in wb.worksheets:
        rows: list[list[Any]] = []
        formats: dict[tuple[int, int], str] = {}
        for r_i, row in enumerate(ws.iter_rows(), start=1):
            values = []
            for c_i, cell in enumerate(row, start=1):
                formula = formulas.get((ws.title, r_i, c_i)) if cell.value is None else None
                values.append(UncomputedFormula(formula) if formula else cell.value)
                if isinstance(cell.value, int | float) and cell.number_format != "General":
                    formats[(r_i, c_i)] = cell.number_format
            rows.append(values)
        merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        sheets.append(Sheet(file=file, name=ws.title, rows=rows, formats=formats, merged=merged))
    return sheets, []
