"""Writing tables as CSV for Excel, atomically, with no formula from data.

Spreadsheet programs evaluate a CSV field that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK(…)`` sends the reader to a site, ``=cmd|' /C calc'!A0`` asks to start a
program through DDE). evalkit's CSVs carry evaluators' text — school names, ids, evidence notes,
raw values — so, as the OWASP "CSV Injection" page recommends, every text field that starts with
one of ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote
(``'=HYPERLINK(…)``), which Excel and WPS show as text. Numbers are left as they are: numeric
columns are written as numbers (``-1.5``), and a text field that *is* a plain number
(``-1.5``, ``+3``, ``-12%``) cannot be a formula and stays unquoted.

Files are UTF-8 with a BOM (so Excel shows Chinese correctly), ``\\n`` line ends.

>>> csv_safe_text("=HYPERLINK(\\"http://x\\")"), csv_safe_text("-1.5"), csv_safe_text("@SUM(A1)")
('\\'=HYPERLINK("http://x")', '-1.5', "'@SUM(A1)")
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.io.atomic import atomic_write_bytes

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a field as a formula (OWASP)."""

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def csv_safe_text(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _safe(value: Any) -> Any:
    return csv_safe_text(value) if isinstance(value, str) else value


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers are neutralised (:func:`csv_safe_text`);
    numeric columns are untouched."""
    out = frame.copy()
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])):
            out[col] = out[col].map(_safe)
    out.columns = [csv_safe_text(str(c)) for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of ``frame`` (no index, ``\\n`` line ends), neutralised."""
    return csv_safe_frame(frame).to_csv(index=False, lineterminator="\n")


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """``frame`` as UTF-8 CSV with a BOM, neutralised (:func:`csv_safe_frame`), atomically."""
    return atomic_write_bytes(path, csv_text(frame).encode("utf-8-sig"))
