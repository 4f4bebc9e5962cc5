"""Writing XLSX workbooks byte for byte reproducibly, and tables as CSV/XLSX, atomically.

Every output is written with :func:`evalkit.atomic.atomic_write_bytes` (a temporary file in the
target's folder, then ``os.replace``), so a reader never sees half a file. Workbooks are saved
with fixed timestamps (document properties and zip entries), so the same content gives the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from evalkit.atomic import atomic_write_bytes

FIXED_TIME = dt.datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook as XLSX bytes with fixed timestamps (reproducible)."""
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
    """Save ``wb`` to ``path`` atomically and reproducibly."""
    return atomic_write_bytes(path, workbook_bytes(wb))


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """A DataFrame as UTF-8 CSV with a BOM (so Excel shows Chinese correctly), atomically."""
    text = frame.to_csv(index=False, lineterminator="\n")
    return atomic_write_bytes(path, text.encode("utf-8-sig"))


def write_tables_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Several DataFrames as sheets of one workbook: bold frozen header, autofilter (so the
    reader can sort and filter), column widths fitted to the content."""
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in tables.items():
        ws = wb.create_sheet(name[:31])
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([_cell_value(v) for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        if len(frame.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 2)}"
        for i, col in enumerate(frame.columns, start=1):
            texts = [str(col), *(str(v) for v in frame.iloc[:200, i - 1])]
            width = max(_display_width(t) for t in texts)
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 80)
    return save_workbook(wb, path)


def _cell_value(v: object) -> object:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):  # numpy scalar
        return v.item()  # type: ignore[no-any-return]
    return v


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
