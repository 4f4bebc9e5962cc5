"""``outputs/<year>/scoreboard.xlsx``: the year's scores as a workbook for the bureau.

Sheets: **总表** (排名, 学校编号, 学校名称, 学校类型, points per area, 基础分, 加分, 总分, 等次, 否决项),
one sheet **per area** (points per indicator, headed ``A1 理论学习中心组学习（4分）``, and the area's
points), and **指标明细** (every indicator of every school with its value, points, maximum,
share, missing flag and explanation). Chinese headers, frozen header row and id/name columns,
grade colours, column widths fitted to the text. Written atomically.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.atomic import atomic_path
from evalkit.results import Results

# good → bad; grades are coloured by their position in the framework's grade order
GRADE_FILLS = ["C6EFCE", "DDEBF7", "FFEB9C", "FFC7CE", "F4B084"]
HEADER_FILL = "1F4E78"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _illegal_free(value: Any) -> Any:
    """Strings without the control characters openpyxl refuses (replaced by U+FFFD)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def _width(value: Any) -> int:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    line = max(text.split("\n"), key=len) if text else ""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique worksheet title (≤ 31 characters, none of ``[]:*?/\\``)."""
    base = _SHEET_BAD.sub("_", _illegal_free(name)).strip("'") or "领域"
    title, n = base[:31], 2
    while title in used:
        suffix = f"_{n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def total_table(results: Results, year: int) -> pd.DataFrame:
    """The 总表 rows of ``year``, ranked."""
    table = results.county_table(year)
    return table.rename(columns={"学校": "学校名称", "类型": "学校类型", "否决": "否决项"})


def area_tables(results: Results, year: int) -> list[tuple[str, pd.DataFrame]]:
    """(area name, table) per area: schools × indicator points and the area's points."""
    ind = results.indicators[results.indicators["year"] == year]
    schools = results.schools[results.schools["year"] == year].sort_values(["rank", "school_id"])
    areas = results.areas[results.areas["year"] == year]
    out = []
    for area_id, rows in ind.groupby("area_id", sort=False):
        order = list(dict.fromkeys(rows["indicator_id"]))
        maxima = rows.groupby("indicator_id")["max_points"].max()
        names = rows.drop_duplicates("indicator_id").set_index("indicator_id")["indicator_name"]
        wide = rows.pivot(index="school_id", columns="indicator_id", values="points")[order]
        wide.columns = [f"{i} {names[i]}（{maxima[i]:g}分）" for i in order]
        area_points = areas[areas["area_id"] == area_id].set_index("school_id")
        area_name = str(rows["area_name"].iloc[0])
        max_area = area_points["max_points"].max() if len(area_points) else float("nan")
        frame = pd.DataFrame(
            {
                "排名": schools["rank"].to_numpy(),
                "学校编号": schools["school_id"].to_numpy(),
                "学校名称": schools["school_name"].to_numpy(),
            }
        )
        frame = frame.join(wide, on="学校编号")
        frame[f"{area_name}得分（{max_area:g}分）"] = frame["学校编号"].map(area_points["points"])
        out.append((area_name, frame))
    return out


def detail_table(results: Results, year: int) -> pd.DataFrame:
    """指标明细: one row per school × indicator."""
    ind = results.indicators[results.indicators["year"] == year]
    names = results.schools[results.schools["year"] == year].set_index("school_id")["school_name"]
    ind = ind.sort_values(["school_id", "area_id", "indicator_id"], key=lambda s: s.astype(str))
    return pd.DataFrame(
        {
            "学校编号": ind["school_id"],
            "学校名称": ind["school_id"].map(names),
            "领域": ind["area_name"],
            "指标编号": ind["indicator_id"],
            "指标名称": ind["indicator_name"],
            "原始值": ind["value_text"] if "value_text" in ind.columns else ind["value"],
            "得分": ind["points"],
            "满分": ind["max_points"],
            "得分率": ind["share"],
            "缺数": ind["missing"].map({True: "是", False: ""}),
            "评分说明": ind["explanation"],
        }
    ).reset_index(drop=True)


def _write_sheet(
    ws: Any,
    frame: pd.DataFrame,
    *,
    freeze: str,
    percent: set[str] = frozenset(),
    grade_col: str | None = None,
    grade_fill: dict[str, str] | None = None,
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    ws.append([_illegal_free(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in frame.itertuples(index=False):
        ws.append(
            [
                _illegal_free(
                    None if (isinstance(v, float) and pd.isna(v)) else v.item() if hasattr(v, "item") else v
                )
                for v in row
            ]
        )
    columns = list(frame.columns)
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        widths = [_width(col)] + [_width(v) for v in frame[col].head(500)]
        ws.column_dimensions[letter].width = min(max(widths) + 2, 60)
        if col in percent:
            for cell in ws[letter][1:]:
                cell.number_format = "0.0%"
        if col == "评分说明":
            for cell in ws[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    if grade_col and grade_fill and grade_col in columns:
        letter = get_column_letter(columns.index(grade_col) + 1)
        for cell in ws[letter][1:]:
            colour = grade_fill.get(str(cell.value))
            if colour:
                cell.fill = PatternFill("solid", fgColor=colour)
    ws.freeze_panes = freeze
    if len(frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"


def write_scoreboard(
    results: Results, year: int, path: str | Path, grade_order: list[str] | None = None
) -> Path:
    """Write the year's scoreboard workbook to ``path`` (atomically); return the path."""
    from openpyxl import Workbook

    grades = grade_order or list(dict.fromkeys(results.schools["grade"]))
    fills = {g: GRADE_FILLS[min(i, len(GRADE_FILLS) - 1)] for i, g in enumerate(grades)}
    wb = Workbook()
    ws = wb.active
    ws.title = "总表"
    _write_sheet(ws, total_table(results, year), freeze="D2", grade_col="等次", grade_fill=fills)
    used = {"总表", "指标明细"}
    for area_name, frame in area_tables(results, year):
        _write_sheet(wb.create_sheet(sheet_title(area_name, used)), frame, freeze="D2")
    _write_sheet(wb.create_sheet("指标明细"), detail_table(results, year), freeze="C2", percent={"得分率"})
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
