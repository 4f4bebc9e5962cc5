"""Reading the criteria table of ``evalkit weights entropy|critic|pca|topsis``.

A table (CSV or ``.xlsx``, the first sheet or the one named by ``--sheet``) has a header row and
one row per school (alternative). **The id column is the first column, or the one named by
``--id``, and is always text**: ids ``001``…``005`` stay ``"001"`` and never become a criterion,
whatever they look like. Every other column is a criterion and every cell in it must be a
number (``9.2e-06`` and full-width digits included) or empty (missing); a cell that is not is
reported with its file, sheet, cell and value — every such cell, not only the first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import EvalkitError
from evalkit.io.sheets import Sheet, cell_text, is_blank, nfkc, read_sheets
from evalkit.issues import cell_ref


class CriteriaFileError(EvalkitError):
    """A criteria table ``evalkit weights`` cannot read (empty, unreadable, a bad cell)."""


@dataclass(frozen=True)
class CriteriaTable:
    """``data``: criteria columns (float, NaN = missing) indexed by the id column's text;
    ``id_column``: the id column's header; ``where``: ``file`` or ``file 工作表 name``."""

    data: pd.DataFrame
    id_column: str
    where: str


def _number(value: Any) -> float | None:
    """A cell as a number, ``nan`` when empty, ``None`` when it is not a number."""
    if is_blank(value):
        return math.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = nfkc(str(value)).strip().replace(",", "")
    try:
        out = float(text)
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def _pick_sheet(sheets: list[Sheet], sheet: str | None, path: str) -> Sheet:
    if sheet is None:
        return sheets[0]
    for s in sheets:
        if s.name == sheet:
            return s
    names = "、".join(s.name for s in sheets)
    raise CriteriaFileError(f"{path} 中没有工作表“{sheet}”（有：{names}）")


def read_criteria(path: str | Path, *, id_column: str | None = None, sheet: str | None = None) -> CriteriaTable:
    """The criteria table of ``path`` (see the module docstring)."""
    path = str(path)
    sheets, issues = read_sheets(path)
    errors = [i.message for i in issues if i.is_error]
    if errors or not sheets:
        raise CriteriaFileError("；".join(errors) or f"{path} 中没有数据")
    s = _pick_sheet(sheets, sheet, path)
    where = path if path.lower().endswith((".csv", ".txt", ".tsv")) else f"{path} 工作表“{s.name}”"
    if s.n_rows < 2:
        raise CriteriaFileError(f"{where}：至少应有一行表头和一行数据")
    headers = [cell_text(s.value(1, c)) for c in range(1, s.n_cols + 1)]
    while headers and not headers[-1]:
        headers.pop()
    if id_column is None:
        id_at = 1
    elif id_column in headers:
        id_at = headers.index(id_column) + 1
    else:
        raise CriteriaFileError(f"{where}：表头中没有编号列“{id_column}”（表头：{'、'.join(headers)}）")
    problems: list[str] = []
    criteria = [c for c in range(1, len(headers) + 1) if c != id_at]
    for c in criteria:
        if not headers[c - 1]:
            problems.append(f"单元格 {cell_ref(1, c)}：指标列缺少表头")
    seen = [headers[c - 1] for c in criteria]
    dupes = sorted({h for h in seen if h and seen.count(h) > 1})
    if dupes:
        problems.append(f"表头中指标重复：{'、'.join(dupes)}")
    rows = [r for r in range(2, s.n_rows + 1) if any(not is_blank(s.value(r, c)) for c in range(1, len(headers) + 1))]
    ids, values = [], []
    for r in rows:
        ident = cell_text(s.value(r, id_at))
        if not ident:
            problems.append(f"单元格 {cell_ref(r, id_at)}：编号为空")
        ids.append(ident)
        row = []
        for c in criteria:
            v = _number(s.value(r, c))
            if v is None:
                problems.append(f"单元格 {cell_ref(r, c)}（{headers[c - 1]}）：“{cell_text(s.value(r, c))}”不是数字")
                v = math.nan
            row.append(v)
        values.append(row)
    repeated = sorted({i for i in ids if i and ids.count(i) > 1})
    if repeated:
        problems.append(f"编号重复：{'、'.join(repeated)}")
    if not criteria:
        problems.append("除编号列外没有指标列")
    if not rows:
        problems.append("没有数据行")
    if problems:
        raise CriteriaFileError(f"{where}：" + "；".join(problems))
    data = pd.DataFrame(values, columns=[headers[c - 1] for c in criteria],
                        index=pd.Index(ids, name=headers[id_at - 1] or "id", dtype=object))
    return CriteriaTable(data, headers[id_at - 1], where)
