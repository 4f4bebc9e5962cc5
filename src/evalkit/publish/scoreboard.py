"""``outputs/<year>/scoreboard.xlsx``: the year's scores as a workbook for the bureau.

Sheets: **总表** (排名, 学校编号, 学校名称, 学校类型, points per area, 基础分, 加分, 总分, 等次, 否决项),
one sheet **per area** (points per indicator, headed ``A1 理论学习中心组学习（4分）``, and the area's
points), and **指标明细** (every indicator of every school with its value, points, maximum,
share, missing flag and explanation). Chinese headers, frozen header row and id/name columns,
grade colours, column widths fitted to the text. Written by :mod:`evalkit.io.xlsx_writer` (atomically,
reproducibly, data as text or numbers, never as a formula).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from evalkit.io.xlsx_writer import Sheet, sheet_title, write_workbook
from evalkit.results import Results

# good → bad; grades are coloured by their position in the framework's grade order
GRADE_FILLS = ["C6EFCE", "DDEBF7", "FFEB9C", "FFC7CE", "F4B084"]


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


def scoreboard_sheets(
    results: Results, year: int, grade_order: list[str] | None = None
) -> dict[str, Sheet]:
    """The scoreboard's sheets for ``year``, in order: 总表, one per area, 指标明细."""
    grades = grade_order or list(dict.fromkeys(results.schools["grade"]))
    fills = {g: GRADE_FILLS[min(i, len(GRADE_FILLS) - 1)] for i, g in enumerate(grades)}
    sheets = {"总表": Sheet(total_table(results, year), freeze="D2", fills={"等次": fills})}
    used = {"总表", "指标明细"}
    for area_name, frame in area_tables(results, year):
        sheets[sheet_title(area_name, used, "领域")] = Sheet(frame, freeze="D2")
    sheets["指标明细"] = Sheet(
        detail_table(results, year), freeze="C2", percent=frozenset({"得分率"}), wrap=frozenset({"评分说明"})
    )
    return sheets


def results_sheets(
    results: Results, years: list[int] | None = None, grade_order: list[str] | None = None
) -> dict[str, Sheet]:
    """The scoreboard's sheets with the rows of every year in ``years`` (default: all), each
    table headed by a 年度 column (``evalkit score -o 结果.xlsx``)."""
    years = list(years or results.years)
    per_year = [scoreboard_sheets(results, y, grade_order) for y in years]
    out: dict[str, Sheet] = {}
    for name in dict.fromkeys(n for sheets in per_year for n in sheets):
        parts = [
            sheets[name].frame.assign(年度=int(y))
            for y, sheets in zip(years, per_year, strict=True)
            if name in sheets
        ]
        frame = pd.concat(parts, ignore_index=True)
        frame = frame[["年度", *[c for c in frame.columns if c != "年度"]]]
        first = next(sheets[name] for sheets in per_year if name in sheets)
        out[name] = replace(first, frame=frame, freeze=_shift(first.freeze))
    return out


def _shift(cell: str) -> str:
    """The frozen cell one column to the right (for the added 年度 column)."""
    from openpyxl.utils import column_index_from_string, get_column_letter

    letters = "".join(ch for ch in cell if ch.isalpha())
    return get_column_letter(column_index_from_string(letters) + 1) + cell[len(letters):]


def write_scoreboard(
    results: Results, year: int, path: str | Path, grade_order: list[str] | None = None
) -> Path:
    """Write the year's scoreboard workbook to ``path`` (atomically, reproducibly, no formula
    from data: :func:`evalkit.io.xlsx_writer.write_workbook`); return the path."""
    return write_workbook(scoreboard_sheets(results, year, grade_order), path)
