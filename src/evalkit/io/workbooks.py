"""Reading Excel workbooks (``.xlsx`` with openpyxl, ``.xls`` with xlrd) at a bounded cost.

A workbook is read by its real data range: only the cells the file stores are visited, so one
stray cell at row 1,048,576 costs one cell, not a million rows (openpyxl's ``iter_rows`` would
walk the whole rectangle up to it). Trailing empty rows and columns are dropped.

Before anything is parsed, an ``.xlsx`` must stay within :data:`MAX_UNZIPPED_BYTES` of declared
uncompressed content (Python's ``zipfile`` never inflates a member past its declared size, so a
"zip bomb" is refused from its directory) and :data:`MAX_CELLS` cells (counted by scanning the
sheets' XML in 1 MB chunks); an ``.xls`` must be at most :data:`MAX_XLS_BYTES`. XML is parsed
with ``defusedxml`` underneath openpyxl (entity expansion refused). Every limit gives an
:class:`~evalkit.errors.UnreadableFileError` with a Chinese message naming the file.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from evalkit.errors import UnreadableFileError

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_CELLS = 1_000_000
MAX_XLS_BYTES = 64 * 1024 * 1024
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CHUNK = 1 << 20


class UncomputedFormula(str):
    """A formula cell saved without its computed value (e.g. a file written by a program
    rather than by Excel): the text is the formula, the value is unknown."""


def check_xlsx_limits(file: str, data: bytes) -> bool:
    """Refuse a workbook whose parts would inflate past the limits; returns whether any sheet has
    a formula (so the formulas are read only when there are some)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_UNZIPPED_BYTES:
                raise UnreadableFileError(
                    file,
                    f"工作簿解压后有 {total / 2**20:,.0f} MB，超过上限 {MAX_UNZIPPED_BYTES / 2**20:.0f} MB"
                    "（可能是损坏或恶意构造的文件）；请删除多余的工作表和格式后另存 / workbook too large",
                )
            cells, formulas = 0, False
            for info in infos:
                if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                    continue
                found, has_formula = _scan(zf, info)
                cells += found
                formulas = formulas or has_formula
                if cells > MAX_CELLS:
                    raise UnreadableFileError(
                        file,
                        f"工作簿的单元格超过 {MAX_CELLS:,} 个（可能有大片带格式的空单元格）；"
                        "请删除数据区以外的行和列后另存 / too many cells",
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as err:
        raise UnreadableFileError(file, f"工作簿已损坏，无法解压（{err}）/ damaged workbook") from err
    return formulas


def _scan(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, bool]:
    """(cells, whether a formula appears) of one sheet's XML, read in 1 MB chunks. Each chunk is
    searched with the last 32 bytes of the previous one in front, counting only tags that end in
    the new chunk (a tag cut by the boundary is counted once)."""
    cells, formula, tail = 0, False, b""
    with zf.open(info) as part:
        while chunk := part.read(_CHUNK):
            window = tail + chunk
            cells += sum(1 for m in _CELL_TAG.finditer(window) if m.end() > len(tail))
            formula = formula or bool(_FORMULA_TAG.search(window))
            tail = window[-32:]
    return cells, formula


def read_xlsx(file: str, data: bytes) -> list[tuple[str, list[list[Any]], dict, list]]:
    """Every sheet of an ``.xlsx`` as (name, rows, number formats, merged ranges)."""
    from openpyxl import load_workbook

    has_formulas = check_xlsx_limits(file, data)
    wb = load_workbook(io.BytesIO(data), data_only=True)
    formulas = _formulas(data) if has_formulas else {}
    out = []
    for ws in wb.worksheets:
        cells: dict[tuple[int, int], Any] = {}
        formats: dict[tuple[int, int], str] = {}
        # openpyxl keeps a sheet's stored cells in ``_cells`` ((row, column) → Cell); walking it
        # visits only what the file holds, whatever the sheet's dimension says
        for (r, c), cell in ws._cells.items():
            value = cell.value
            if value is None:
                formula = formulas.get((ws.title, r, c))
                if formula:
                    value = UncomputedFormula(formula)
            if value is None:
                continue
            cells[(r, c)] = value
            if isinstance(value, int | float) and not isinstance(value, bool) and cell.number_format != "General":
                formats[(r, c)] = cell.number_format
        merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        out.append((ws.title, grid(cells), formats, merged))
    return out


def _formulas(data: bytes) -> dict[tuple[str, int, int], str]:
    """(sheet, row, column) → formula of every formula cell."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), data_only=False)
    out = {}
    for ws in wb.worksheets:
        for (r, c), cell in ws._cells.items():
            if isinstance(cell.value, str) and cell.value.startswith("="):
                out[(ws.title, r, c)] = cell.value
    return out


def grid(cells: dict[tuple[int, int], Any]) -> list[list[Any]]:
    """Rows of values from sparse (row, column) → value; each row as long as its last value,
    no trailing empty rows. Every empty row is the same empty tuple, so a gap of a million rows
    costs a million references, not a million lists."""
    if not cells:
        return []
    n_rows = max(r for r, _ in cells)
    widths: dict[int, int] = {}
    for r, c in cells:
        widths[r] = max(widths.get(r, 0), c)
    rows: list[Any] = [()] * n_rows
    for r, width in widths.items():
        rows[r - 1] = [None] * width
    for (r, c), value in cells.items():
        rows[r - 1][c - 1] = value
    return rows


def read_xls(file: str, data: bytes) -> list[tuple[str, list[list[Any]], dict, list]]:
    """Every sheet of an Excel 97-2003 ``.xls`` as (name, rows, number formats, merged ranges),
    with the values an ``.xlsx`` of the same content gives: whole numbers as ``int``, dates as
    ``datetime``, booleans as ``bool``, error cells as their text (``#DIV/0!``)."""
    import xlrd

    if len(data) > MAX_XLS_BYTES:
        raise UnreadableFileError(
            file, f"文件有 {len(data) / 2**20:,.0f} MB，超过 .xls 上限 {MAX_XLS_BYTES / 2**20:.0f} MB / file too large"
        )
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, logfile=io.StringIO())
    except xlrd.XLRDError as err:
        if "encrypted" in str(err).lower():
            from evalkit.io.filekinds import ADVICE

            message = "Excel 97-2003 工作簿设有打开密码（已加密）；" + ADVICE["encrypted"]
            raise UnreadableFileError(file, message) from err
        raise UnreadableFileError(file, f"无法作为 Excel 97-2003 工作簿（.xls）打开：{err} / unreadable .xls") from err
    except (AssertionError, IndexError, ValueError, KeyError, EOFError) as err:  # a damaged file
        raise UnreadableFileError(file, f".xls 文件已损坏，无法读取（{type(err).__name__}）/ damaged .xls") from err
    out = []
    for sh in book.sheets():
        cells: dict[tuple[int, int], Any] = {}
        formats: dict[tuple[int, int], str] = {}
        for r in range(sh.nrows):
            for c, cell in enumerate(sh.row(r)):
                value = _xls_value(book, cell)
                if value is None:
                    continue
                cells[(r + 1, c + 1)] = value
                if cell.ctype == xlrd.XL_CELL_NUMBER:
                    fmt = _xls_format(book, sh.cell_xf_index(r, c))
                    if fmt != "General":
                        formats[(r + 1, c + 1)] = fmt
        merged = [(rlo + 1, clo + 1, rhi, chi) for rlo, rhi, clo, chi in sh.merged_cells]
        out.append((sh.name, grid(cells), formats, merged))
    return out


def _xls_value(book: Any, cell: Any) -> Any:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_TEXT:
        return cell.value if cell.value != "" else None
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        v = float(cell.value)
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, book.datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return float(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#N/A")
    return cell.value


def _xls_format(book: Any, xf_index: int) -> str:
    """The number format of an ``.xls`` cell's style (``"General"`` when unknown)."""
    try:
        fmt = book.format_map[book.xf_list[xf_index].format_key].format_str
    except (IndexError, KeyError, AttributeError):
        return "General"
    return fmt or "General"
