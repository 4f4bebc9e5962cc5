"""Writing XLSX workbooks: one writer for every workbook evalkit produces, with no formula from data.

Every workbook — the scoreboard, ``evalkit score -o x.xlsx``, ``evalkit validate -o x.xlsx``, the
fill-in template, the demo's messy copy — is saved by :func:`save_workbook`, which

* **stores data as text or numbers, never as a formula.** openpyxl turns any string that starts
  with ``=`` into a formula cell; school names, ids, evidence notes and raw values come from
  evaluators' files, so ``=HYPERLINK(…)`` or a DDE payload (``=cmd|' /C calc'!A0``) would
  become live. :func:`neutralise_formulas` makes every such cell a text cell, and marks every
  text cell starting with ``=``, ``+``, ``-`` or ``@`` with Excel's *quote prefix* (the hidden
  ``'`` a user types to keep text as text), so it stays text even when edited. Numbers stay
  numbers. evalkit never writes a formula of its own;
* is **reproducible**: fixed timestamps (document properties and zip entries), so the same
  content gives the same bytes;
* is **atomic** (:func:`evalkit.io.atomic.atomic_write_bytes`): a reader never sees half a file.

Tables are written by :func:`write_table_sheet` — one look for all of them: white bold header
on dark blue, frozen header row (and id/name columns), autofilter, column widths from
:func:`display_width` (CJK characters count two, the longest line of a cell counts, capped at
:data:`MAX_WIDTH`) — and :func:`write_workbook` puts several tables into one workbook.
CSV is written by :mod:`evalkit.io.csv_writer`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from evalkit.io.atomic import atomic_write_bytes
from evalkit.io.csv_writer import write_csv  # noqa: F401  (kept importable from here)

FIXED_TIME = dt.datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")

FORMULA_STARTS = ("=", "+", "-", "@")
"""First characters of a text cell that Excel would read as a formula if the cell were edited."""

HEADER_FILL = "1F4E78"
MAX_WIDTH = 60
"""Widest column (in Excel's character units)."""


# --------------------------------------------------------------------------- saving


def neutralise_formulas(wb: Workbook) -> int:
    """Make every formula cell of ``wb`` a text cell and give every text cell starting with
    ``=``, ``+``, ``-`` or ``@`` the quote prefix; return how many formula cells were turned
    into text."""
    turned = 0
    for ws in wb.worksheets:
        # the cells that exist (``iter_rows`` would create empty ones and change the file)
        for cell in list(ws._cells.values()):
            kind = cell.data_type
            if kind == "f":
                cell.data_type = "s"
                turned += 1
                kind = "s"
            if kind == "s" and isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True
    return turned


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook as XLSX bytes with no formula (:func:`neutralise_formulas`) and fixed
    timestamps (reproducible)."""
    neutralise_formulas(wb)
    wb.properties.created = FIXED_TIME
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                data = _MODIFIED.sub(rb"<dcterms:modified\1>" + stamp + rb"</dcterms:modified>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def save_workbook(wb: Workbook, path: str | Path) -> Path:
    """Save ``wb`` to ``path`` atomically and reproducibly, with no formula from data."""
    return atomic_write_bytes(path, workbook_bytes(wb))


# --------------------------------------------------------------------------- tables


def display_width(value: Any) -> int:
    """Width of a cell's longest line: East Asian wide and full-width characters count 2."""
    if value is None or (isinstance(value, float) and value != value):
        return 0
    text = str(value)
    line = max(text.split("\n"), key=len) if text else ""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def sheet_title(name: str, used: set[str], fallback: str = "Sheet") -> str:
    """A valid, unique worksheet title (≤ 31 characters, none of ``[]:*?/\\``, no control
    characters, not starting or ending with ``'``); adds it to ``used``."""
    base = _SHEET_BAD.sub("_", ILLEGAL_CHARACTERS_RE.sub("_", str(name))).strip("'") or fallback
    title, n = base[:31], 2
    while title in used:
        suffix = f"_{n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def cell_value(value: Any) -> Any:
    """A DataFrame value as openpyxl takes it: ``None`` for missing, Python scalars for numpy
    ones, control characters openpyxl refuses replaced by U+FFFD."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


@dataclass(frozen=True)
class Sheet:
    """A table and how to show it: frozen cell, percentage and wrapped columns, and colours
    (column → cell text → RGB fill)."""

    frame: pd.DataFrame
    freeze: str = "A2"
    percent: frozenset[str] = frozenset()
    wrap: frozenset[str] = frozenset()
    fills: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def write_table_sheet(ws: Any, sheet: Sheet) -> None:
    """Write ``sheet``'s table into the worksheet ``ws`` (header in row 1)."""
    frame = sheet.frame
    columns = list(frame.columns)
    ws.append([cell_value(str(c)) for c in columns])
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    for cell in ws[1]:
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in frame.itertuples(index=False):
        ws.append([cell_value(v) for v in row])
    n = len(frame)
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        widths = [display_width(col)] + [display_width(v) for v in frame.iloc[:500, j - 1]]
        ws.column_dimensions[letter].width = min(max(widths) + 2, MAX_WIDTH)
        if n and (col in sheet.percent or col in sheet.wrap or col in sheet.fills):
            colours = sheet.fills.get(col, {})
            for (cell,) in ws.iter_rows(min_row=2, max_row=n + 1, min_col=j, max_col=j):
                if col in sheet.percent:
                    cell.number_format = "0.0%"
                if col in sheet.wrap:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                colour = colours.get(str(cell.value))
                if colour:
                    cell.fill = PatternFill("solid", fgColor=colour)
    ws.freeze_panes = sheet.freeze
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(n + 1, 2)}"


def build_workbook(sheets: Mapping[str, Sheet | pd.DataFrame]) -> Workbook:
    """A workbook with one worksheet per table, in order (titles made valid and unique)."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, sheet in sheets.items():
        ws = wb.create_sheet(sheet_title(name, used))
        write_table_sheet(ws, sheet if isinstance(sheet, Sheet) else Sheet(sheet))
    return wb


def write_workbook(sheets: Mapping[str, Sheet | pd.DataFrame], path: str | Path) -> Path:
    """Several tables as the sheets of one workbook, saved by :func:`save_workbook`."""
    return save_workbook(build_workbook(sheets), path)


def write_tables_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Several DataFrames as sheets of one workbook (header row frozen); see :func:`write_workbook`."""
    return write_workbook(dict(tables), path)
