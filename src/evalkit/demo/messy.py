"""The messy copy of the demo county: a filled inspection workbook with deliberate mistakes.

:func:`make_messy_copy` reads the clean demo files (``registry.csv``, ``observations_<year>.csv``),
fills the template of the latest year with its inspection data (:func:`evalkit.intake.template.write_template`)
and then spoils a handful of cells the way evaluators do: ``17次``, full-width digits, ``85%``,
trailing spaces, a typo'd school id, a duplicated school row, a negative count, a rating ``E``,
a column for an indicator that does not exist, an empty row. It returns the list of what it did
(:class:`Mess`), which the intake tests check against the problems and normalisations reported.

The output (``messy/评价数据_<year>_实地核查.xlsx`` and ``messy/README.md``) is reproducible byte
for byte from the clean files.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from evalkit.framework import Framework, load_framework
from evalkit.intake.read import read_observations
from evalkit.intake.registry import load_registry
from evalkit.intake.template import build_template
from evalkit.io.atomic import atomic_write_bytes
from evalkit.io.xlsx_writer import save_workbook, workbook_bytes
from evalkit.issues import cell_ref

_OBS = re.compile(r"^observations_(\d{4})\.csv$")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class Mess:
    """One deliberate mistake: where, what the cell held, what it holds now, and what intake
    should say (``kind`` of the problem, or ``normalised`` when it should just be cleaned)."""

    sheet: str
    cell: str
    school_id: str
    indicator_id: str
    clean: str
    messy: str
    expect: str
    note: str


def messy_file_name(year: int) -> str:
    return f"评价数据_{year}_实地核查.xlsx"


def make_messy_copy(
    clean_dir: str | Path, out_dir: str | Path, framework: Framework | str | None = None
) -> list[Mess]:
    """Build the messy copy of the demo county in ``out_dir`` from the files in ``clean_dir``."""
    clean_dir, out_dir = Path(clean_dir), Path(out_dir)
    fw = (
        framework
        if isinstance(framework, Framework)
        else load_framework(framework or "shiquan-party-building")
    )
    years = sorted(int(m.group(1)) for p in clean_dir.iterdir() if (m := _OBS.match(p.name)))
    if not years:
        raise FileNotFoundError(f"no observations_<year>.csv in {clean_dir}")
    year = years[-1]
    registry = load_registry(clean_dir / "registry.csv")
    clean = read_observations(clean_dir / f"observations_{year}.csv", fw, registry, year=year)
    clean.raise_if_errors()
    wb = build_template(fw, registry, year, source="inspection", observations=clean.observations)
    # round-trip through bytes so the sheets behave as a workbook read from disk
    wb = load_workbook(io.BytesIO(workbook_bytes(wb)))
    area = {a.id: a.name for a in fw.areas}
    messes = _spoil(wb[area["A"]], wb["核查评分"])
    save_workbook(wb, out_dir / messy_file_name(year))
    atomic_write_bytes(out_dir / "README.md", _readme(year, messes).encode("utf-8"))
    return messes


def _column(ws: Worksheet, indicator_id: str) -> int:
    for c in range(1, ws.max_column + 1):
        head = str(ws.cell(1, c).value or "")
        if head.startswith(f"{indicator_id} ") and "佐证材料" not in head:
            return c
    raise KeyError(indicator_id)


def _spoil(ws: Worksheet, marks: Worksheet) -> list[Mess]:
    out: list[Mess] = []
    sheet = ws.title

    def put(row: int, ind: str, messy: object, expect: str, note: str) -> None:
        c = _column(ws, ind)
        clean = ws.cell(row, c).value
        ws.cell(row, c).value = messy
        out.append(
            Mess(
                sheet,
                cell_ref(row, c),
                str(ws.cell(row, 1).value),
                ind,
                _text(clean),
                _text(messy),
                expect,
                note,
            )
        )

    def num(row: int, ind: str) -> float:
        return float(ws.cell(row, _column(ws, ind)).value)

    put(2, "A1", f"{num(2, 'A1'):g}次", "normalised", "number with its unit")
    put(3, "A3", f"{num(3, 'A3'):g}".translate(FULL_WIDTH), "normalised", "full-width digits")
    put(4, "A2", f"{num(4, 'A2'):g}%", "normalised", "percentage with a % sign")
    put(5, "A1", f"{num(5, 'A1'):g}  ", "normalised", "trailing spaces")
    put(6, "A8", -1, "out_of_range", "negative count")

    # a typo'd school id
    sid = str(ws.cell(7, 1).value)
    ws.cell(7, 1).value = f"{sid}1"
    out.append(Mess(sheet, "A7", f"{sid}1", "", sid, f"{sid}1", "unknown_school", "typo'd school id"))

    # a school row entered twice (appended below the last school), after an empty row
    last = max(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value not in (None, ""))
    dup = last + 2
    for c in range(1, ws.max_column + 1):
        ws.cell(dup, c).value = ws.cell(8, c).value
    out.append(Mess(sheet, f"A{last + 1}", "", "", "", "", "empty_row", "empty row between data rows"))
    out.append(
        Mess(
            sheet,
            f"A{dup}",
            str(ws.cell(8, 1).value),
            "",
            "",
            str(ws.cell(8, 1).value),
            "duplicate",
            "school row entered twice",
        )
    )

    # a column for an indicator the framework does not have
    col = ws.max_column + 1
    ws.cell(1, col).value = "A9 党员发展质量（人）"
    for r in (2, 3, 4):
        ws.cell(r, col).value = r - 1
    out.append(
        Mess(
            sheet,
            cell_ref(1, col),
            "",
            "A9",
            "",
            "A9 党员发展质量（人）",
            "unknown_indicator",
            "column of an unknown indicator",
        )
    )

    # an inspector's rating outside A–D
    for r in range(2, marks.max_row + 1):
        if marks.cell(r, 6).value in ("好", "较好", "一般", "差"):
            out.append(
                Mess(
                    marks.title,
                    f"F{r}",
                    str(marks.cell(r, 1).value),
                    str(marks.cell(r, 3).value),
                    str(marks.cell(r, 6).value),
                    "E",
                    "out_of_range",
                    "rating E",
                )
            )
            marks.cell(r, 6).value = "E"
            break
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _readme(year: int, messes: list[Mess]) -> str:
    lines = [
        "# 演示数据的“脏”副本 / messy copy of the demo county",
        "",
        f"`{messy_file_name(year)}`: the {year} inspection workbook filled from",
        f"`../observations_{year}.csv`, with deliberate mistakes (written by",
        "`evalkit.demo.messy.make_messy_copy`; do not edit by hand).",
        "`evalkit validate` should report or normalise each of them:",
        "",
        "| sheet | cell | school | indicator | clean | messy | expected | what |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in messes:
        lines.append(
            f"| {m.sheet} | {m.cell} | {m.school_id} | {m.indicator_id} | {m.clean}"
            f" | {m.messy.strip() or '(空)'} | {m.expect} | {m.note} |"
        )
    return "\n".join(lines) + "\n"
