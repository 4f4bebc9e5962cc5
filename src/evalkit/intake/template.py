"""The fill-in workbook (填报模板) for one year: what evaluators fill in and intake reads back.

Layout (every sheet has its header in row 1, frozen, with the school columns):

``说明``
    Column A labels, column B values: 指标体系, 指标体系编号, 版本, 年度 and **来源** — the
    source of this workbook's data, chosen from a dropdown (自评 / 实地核查). Then the filling
    rules and a table of all indicators with their scoring rules.
one sheet per area (sheet name = the area's Chinese name, e.g. ``思想强基``)
    A row per school of the registry active that year: ``学校编号``, ``学校名称``, then one value
    column per indicator — one per sub-item for rules that weight kinds (``C5 …：警示（次）``,
    ``C5 …：违规（次）``; ``C7 …：省级``/``市级``) — headed ``<id> <name>（<unit>）`` with the
    scoring rule and definition in the header's comment; then an evidence block, one
    ``<id> <name> 佐证材料`` column per value column. Dropdowns for yes/no (是/否), ratings
    (好/较好/一般/差) and levels (国家级/省级/市级/县级/无, as the rule scores them); whole
    numbers ≥ 0 for counts; 0–100 for rates, entered as percentages (85 = 85%).
``加分与否决``
    The same shape for bonus items (level or count) and the veto items set by hand (是 = the
    veto applies); vetoes triggered by an indicator threshold are not listed (they are
    computed).
``_名册`` (hidden)
    The registry the template was made from, so ``evalkit validate 填报表.xlsx`` needs no ``-r``
    (see :func:`evalkit.intake.workbook.embedded_registry`); intake never reads it as data.
``核查评分`` (inspection workbooks only)
    Inspectors' separate marks, long: 学校编号, 学校名称, 指标编号, 子项, 评分人, 评分, 佐证材料 —
    one row per inspector per item. Rows here are inspection data; the school's cell in the
    area sheet stays empty for an item marked this way.

Self-assessment vs inspection: **one workbook per source**. The 说明 sheet's 来源 says whose
data the workbook holds; :func:`write_template` can preset it (``source=``), otherwise the
evaluator must choose it (intake reports an unchosen source as an error). Survey indicators
(evidence 测评, e.g. 教职工民主测评) are survey data whoever enters them: their columns carry
the tag ``【测评】`` and are left out of self-assessment workbooks.

A filled workbook reads back through :func:`evalkit.intake.read_observations` without loss:
:func:`write_template` with ``observations=`` fills it from an Observations table, and reading it
back gives the same observations (values canonical, evidence kept).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from evalkit.framework import Framework, RuleSpec, load_framework
from evalkit.intake.columns import format_evidence_header, format_value_header
from evalkit.intake.normalise import RATIO_DIGITS
from evalkit.intake.registry import CHINESE_HEADERS, COLUMNS, active_schools, load_registry
from evalkit.intake.specs import ValueSpec, value_specs
from evalkit.intake.workbook import INSPECTION_SHEET, META_SHEET, REGISTRY_SHEET
from evalkit.io.xlsx_writer import save_workbook, sheet_title
from evalkit.textfmt import ITEM_NAMES, LEVEL_NAMES, RATING_NAMES, SOURCE_NAMES, num

BONUS_SHEET = "加分与否决"
PERCENT_FORMAT = "0.########%"
WORKBOOK_SOURCES = ("self", "inspection")
EXTRA_ROWS = 30  # rows below the schools that keep the validations (for schools added by hand)
MARK_COLUMNS = ["学校编号", "学校名称", "指标编号", "子项", "评分人", "评分", "佐证材料"]
MARK_ROWS = 500
TYPE_NAMES = {
    "count": "次数",
    "number": "数值",
    "score": "分数",
    "ratio": "比率（填百分数）",
    "yesno": "是/否",
    "rating": "等级",
    "level": "级别",
}
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_EVIDENCE_FILL = PatternFill("solid", fgColor="F2F2F2")
_ID_FILL = PatternFill("solid", fgColor="FFF2CC")


@dataclass(frozen=True)
class Column:
    """One value column of a wide sheet (with its evidence column)."""

    spec: ValueSpec
    item: str = ""
    source: str = ""

    @property
    def header(self) -> str:
        unit = "%" if self.spec.data_type == "ratio" else self.spec.unit
        return format_value_header(
            self.spec.id, self.spec.name, item=self.item, unit=unit, source=self.source
        )

    @property
    def evidence_header(self) -> str:
        return format_evidence_header(self.spec.id, self.spec.name, item=self.item, source=self.source)


def sheet_columns(specs: list[ValueSpec], source: str | None) -> list[Column]:
    """The value columns for these ids: one per sub-item when the rule weights kinds; survey
    columns are tagged, and left out of a self-assessment workbook."""
    out = []
    for spec in specs:
        if spec.auto:
            continue
        if spec.source and source == "self":
            continue
        for item in spec.items or ("",):
            out.append(Column(spec, item, spec.source))
    return out


def rule_text(rule: RuleSpec | None, max_points: float | None = None, unit: str = "") -> str:
    """A scoring rule in plain Chinese (:func:`evalkit.framework.ruletext.describe_rule`):
    ``达到 90% 及以上得满分 2 分；低于 90% 时每低 1 个百分点扣 0.2 分，扣完为止``."""
    from evalkit.framework.ruletext import describe_rule

    return describe_rule(rule, max_points, unit)


def _unit(spec: ValueSpec) -> str:
    return "%" if spec.data_type == "ratio" else spec.unit or ""


def _comment(spec: ValueSpec, column: Column) -> str:
    lines = [f"{spec.id} {spec.name}"]
    if column.item:
        lines[0] += f"（{ITEM_NAMES.get(column.item, column.item)}）"
    if spec.kind == "veto":
        lines.append("一票否决：发生的填“是”，并在佐证材料中写明依据。")
    else:
        kind = "加分项，" if spec.kind == "bonus" else ""
        maxp = (
            f"满分 {num(spec.max_points)} 分"
            if spec.kind == "indicator"
            else f"最多加 {num(spec.max_points)} 分"
        )
        lines.append(
            f"{kind}{maxp}；填写：{TYPE_NAMES.get(spec.data_type, spec.data_type)}"
            + (f"；查证方式：{spec.evidence}" if spec.evidence else "")
        )
        lines.append(f"评分标准：{rule_text(spec.rule, spec.max_points, _unit(spec))}")
    if spec.definition:
        lines.append(f"说明：{spec.definition}")
    if column.source:
        lines.append(f"本列为{SOURCE_NAMES.get(column.source, column.source)}数据。")
    return "\n".join(lines)


def _validation(spec: ValueSpec) -> DataValidation | None:
    common = {"allow_blank": True, "showErrorMessage": True, "errorStyle": "warning"}
    dt = spec.data_type
    if dt == "yesno":
        return DataValidation(type="list", formula1='"是,否"', error="请选择 是 或 否", **common)
    if dt == "rating":
        labels = ",".join(RATING_NAMES.values())
        return DataValidation(type="list", formula1=f'"{labels}"', error=f"请选择 {labels}", **common)
    if dt == "level":
        levels = spec.levels or tuple(LEVEL_NAMES)
        labels = ",".join(LEVEL_NAMES[k] for k in levels)
        return DataValidation(type="list", formula1=f'"{labels}"', error=f"请选择 {labels}", **common)
    if dt == "count":
        return DataValidation(
            type="whole", operator="greaterThanOrEqual", formula1="0", error="请填写不小于 0 的整数", **common
        )
    if dt == "ratio":
        return DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2="100",
            error="请填写 0–100 之间的百分数（85 表示 85%）",
            **common,
        )
    if dt == "score":
        upper = num(spec.upper) if spec.upper is not None else "100"
        return DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2=upper,
            error=f"请填写 0–{upper} 之间的分数",
            **common,
        )
    return None


def cell_value(value: Any, data_type: str) -> Any:
    """A canonical value as an evaluator writes it in the template (``0.85`` → ``85``,
    ``1.0`` → ``是``, ``"B"`` → ``较好``, ``"city"`` → ``市级``)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if data_type == "yesno":
        return "是" if float(value) >= 0.5 else "否"
    if data_type == "rating":
        return RATING_NAMES.get(str(value), str(value))
    if data_type == "level":
        return LEVEL_NAMES.get(str(value), str(value))
    number = float(value)
    if data_type == "ratio" and not small_ratio(number):
        number = round(number * 100, RATIO_DIGITS - 2)
    return int(number) if number.is_integer() else number


def small_ratio(value: float) -> bool:
    """A ratio of at most 1% (but above 0): written as a fraction with a percent format, since
    a bare number ≤ 1 reads as a fraction (``0.5`` = 50%) and ``1`` as 100%."""
    return 0 < value <= 0.01


def _put(ws: Worksheet, row: int, col: int, value: Any, spec: ValueSpec, canonical: Any) -> None:
    cell = ws.cell(row, col, value)
    if spec.data_type == "ratio" and canonical is not None and small_ratio(float(canonical)):
        cell.number_format = PERCENT_FORMAT


def build_template(
    framework: Framework,
    registry: pd.DataFrame,
    year: int,
    *,
    source: str | None = None,
    observations: pd.DataFrame | None = None,
) -> Workbook:
    """The template workbook (see the module docstring), optionally filled from ``observations``
    (the rows of ``year`` that belong to this workbook's ``source``)."""
    if source is not None and source not in WORKBOOK_SOURCES:
        raise ValueError(f"source must be one of {', '.join(WORKBOOK_SOURCES)}, not {source!r}")
    if observations is not None and source is None:
        raise ValueError("filling a template from observations needs its source (self or inspection)")
    specs = value_specs(framework)
    schools = active_schools(registry, year)[["school_id", "school_name"]].astype(str)
    wb = Workbook()
    wb.remove(wb.active)
    used = {META_SHEET, BONUS_SHEET, INSPECTION_SHEET}
    _meta_sheet(wb.create_sheet(META_SHEET), framework, specs, year, source)
    sheets: list[tuple[Worksheet, list[Column]]] = []
    for area in framework.areas:
        ws = wb.create_sheet(sheet_title(area.name, used))
        cols = sheet_columns([specs[i.id] for i in area.leaves], source)
        _wide_sheet(ws, cols, schools)
        sheets.append((ws, cols))
    extras = [s for s in specs.values() if s.kind in ("bonus", "veto")]
    bonus_cols = sheet_columns(extras, source)
    if bonus_cols:
        ws = wb.create_sheet(BONUS_SHEET)
        _wide_sheet(ws, bonus_cols, schools)
        sheets.append((ws, bonus_cols))
    marks = None
    if source != "self":
        marks = wb.create_sheet(INSPECTION_SHEET)
        _marks_sheet(marks, framework, specs)
    if observations is not None:
        assert source is not None
        _fill(observations, year, source, specs, schools, sheets, marks)
    _registry_sheet(wb.create_sheet(REGISTRY_SHEET), registry)
    return wb


def _registry_sheet(ws: Worksheet, registry: pd.DataFrame) -> None:
    """The registry the template was made from, hidden: ``evalkit validate`` reads it when no
    registry is given (ids as text, Chinese headers, every school — also those not assessed)."""
    cols = [c for c in COLUMNS if c in registry.columns]
    ws.append([CHINESE_HEADERS[c] for c in cols])
    for rec in registry[cols].itertuples(index=False):
        ws.append([None if (v is None or v is pd.NA or (isinstance(v, float) and v != v)) else
                   (int(v) if c in ("pupils", "staff", "party_members", "active_from", "active_to") else str(v))
                   for c, v in zip(cols, rec, strict=True)])
    for cell in ws["A"]:
        cell.number_format = "@"
    ws.sheet_state = "hidden"


def write_template(
    framework: Framework,
    registry: pd.DataFrame,
    year: int,
    path: str | Path,
    *,
    source: str | None = None,
    observations: pd.DataFrame | None = None,
) -> Path:
    """Write the fill-in workbook for ``year`` to ``path`` (atomically; the same inputs give
    the same bytes). ``source``: preset the workbook's source (``self`` / ``inspection``);
    ``observations``: fill it in (needs ``source``). Returns the path."""
    wb = build_template(framework, registry, year, source=source, observations=observations)
    return save_workbook(wb, path)


# -- sheets ---------------------------------------------------------------------------------


def _meta_sheet(
    ws: Worksheet, fw: Framework, specs: dict[str, ValueSpec], year: int, source: str | None
) -> None:
    ws["A1"] = f"{fw.name} {year} 年度评价数据填报表"
    ws["A1"].font = Font(bold=True, size=14)
    rows = [
        ("指标体系", fw.name),
        ("指标体系编号", fw.id),
        ("版本", fw.version),
        ("年度", year),
        ("来源", SOURCE_NAMES[source] if source else None),
    ]
    for r, (label, value) in enumerate(rows, start=3):
        ws.cell(r, 1, label).font = Font(bold=True)
        ws.cell(r, 2, value)
    source_row = 3 + len(rows) - 1
    choices = ",".join(SOURCE_NAMES[s] for s in WORKBOOK_SOURCES if s in fw.sources.weights)
    dv = DataValidation(
        type="list",
        formula1=f'"{choices}"',
        allow_blank=False,
        showErrorMessage=True,
        error=f"请选择 {choices}",
    )
    ws.add_data_validation(dv)
    dv.add(f"B{source_row}")
    ws.cell(source_row, 2).fill = _ID_FILL
    ws.cell(source_row, 3, "← 请选择本工作簿数据的来源：自评、实地核查各用一个工作簿")
    notes = [
        "填写说明",
        "1. 每个领域一张表，每所学校一行，每项指标一列；把鼠标移到表头上可看到评分标准和指标说明。",
        "2. 次数填整数；比率填百分数（85 表示 85%，也可写“85%”；不足 1% 的请带 % 号，如“0.5%”）；"
        "是/否、等级（好/较好/一般/差）、级别（国家级/省级/市级/县级/无）从下拉列表中选择。",
        "3. 不要修改表头和学校编号，不要合并单元格；没有数据的单元格留空，不要用 0 代替不知道的数。",
        "4. 本工作簿只填一种来源的数据（见上方“来源”）。标有【测评】的列是测评得分，按测评数据计。",
        f"5. “{BONUS_SHEET}”表：加分项填级别或数量；一票否决项发生的填“是”，并在佐证材料列写明依据。",
        f"6. “{INSPECTION_SHEET}”表（实地核查）：多名核查人员分别评分的，每人每项一行（学校编号、指标编号、"
        "评分人、评分），该校该项在领域表中留空。",
        "7. 佐证材料列写明查阅的记录、文件等；填好后可用“evalkit validate 文件名”检查，所有问题一次列出。",
    ]
    start = source_row + 2
    for i, text in enumerate(notes):
        ws.cell(start + i, 1, text).font = Font(bold=(i == 0))
    table = start + len(notes) + 1
    heads = ["编号", "名称", "类别", "填写", "单位", "分值", "查证方式", "评分标准", "说明"]
    for c, head in enumerate(heads, start=1):
        cell = ws.cell(table, c, head)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    kinds = {"indicator": "指标", "bonus": "加分项", "veto": "一票否决"}
    for r, spec in enumerate(specs.values(), start=table + 1):
        area = fw.area_of(spec.id).name if spec.kind == "indicator" else kinds[spec.kind]
        values = [
            spec.id,
            spec.name,
            area,
            TYPE_NAMES.get(spec.data_type, spec.data_type),
            spec.unit,
            num(spec.max_points) if spec.max_points is not None else "",
            spec.evidence,
            rule_text(spec.rule, spec.max_points, _unit(spec)) if not spec.auto else "由相关指标自动判定",
            spec.definition,
        ]
        for c, value in enumerate(values, start=1):
            ws.cell(r, c, value)
    for letter, width in zip("ABCDEFGHI", (14, 34, 12, 16, 6, 6, 10, 40, 60), strict=True):
        ws.column_dimensions[letter].width = width


def _wide_sheet(ws: Worksheet, cols: list[Column], schools: pd.DataFrame) -> None:
    ws.cell(1, 1, "学校编号")
    ws.cell(1, 2, "学校名称")
    n_value = len(cols)
    for i, column in enumerate(cols):
        head = ws.cell(1, 3 + i, column.header)
        head.comment = Comment(_comment(column.spec, column), "evalkit", width=360, height=220)
        ws.cell(1, 3 + n_value + i, column.evidence_header).fill = _EVIDENCE_FILL
    for c in range(1, 3 + 2 * n_value):
        cell = ws.cell(1, c)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        if c < 3 + n_value:
            cell.fill = _HEADER_FILL
    for r, (sid, name) in enumerate(zip(schools["school_id"], schools["school_name"], strict=True), start=2):
        ws.cell(r, 1, sid).number_format = "@"
        ws.cell(r, 2, name)
    last = len(schools) + 1 + EXTRA_ROWS
    for r in range(len(schools) + 2, last + 1):
        ws.cell(r, 1).number_format = "@"
    for i, column in enumerate(cols):
        dv = _validation(column.spec)
        if dv is not None:
            ws.add_data_validation(dv)
            letter = get_column_letter(3 + i)
            dv.add(f"{letter}2:{letter}{last}")
    ws.freeze_panes = "C2"
    ws.row_dimensions[1].height = 60
    ws.column_dimensions["A"].width = 10
    ws.column_dimensions["B"].width = 22
    for i in range(n_value):
        ws.column_dimensions[get_column_letter(3 + i)].width = 14
        ws.column_dimensions[get_column_letter(3 + n_value + i)].width = 24


def _marks_sheet(ws: Worksheet, fw: Framework, specs: dict[str, ValueSpec]) -> None:
    for c, head in enumerate(MARK_COLUMNS, start=1):
        cell = ws.cell(1, c, head)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    ws.cell(1, 6).comment = Comment(
        "评分按该指标的填写方式：等级填 好/较好/一般/差，是否填 是/否，次数填整数，比率填百分数。", "evalkit"
    )
    ids = ",".join(s.id for s in specs.values() if s.kind == "indicator")
    common = {"allow_blank": True, "showErrorMessage": True, "errorStyle": "warning"}
    if len(ids) < 250:
        dv = DataValidation(type="list", formula1=f'"{ids}"', error="请选择指标编号", **common)
        ws.add_data_validation(dv)
        dv.add(f"C2:C{MARK_ROWS}")
    items = sorted({i for s in specs.values() for i in s.items}, key=list(ITEM_NAMES).index)
    if items:
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(ITEM_NAMES[i] for i in items) + '"',
            error="子项只在分子项的指标中填写",
            **common,
        )
        ws.add_data_validation(dv)
        dv.add(f"D2:D{MARK_ROWS}")
    for r in range(2, MARK_ROWS + 1):
        ws.cell(r, 1).number_format = "@"
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (10, 22, 10, 8, 12, 10, 40), strict=True):
        ws.column_dimensions[letter].width = width


# -- filling from observations ---------------------------------------------------------------


def _fill(
    obs: pd.DataFrame,
    year: int,
    source: str,
    specs: dict[str, ValueSpec],
    schools: pd.DataFrame,
    sheets: list[tuple[Worksheet, list[Column]]],
    marks: Worksheet | None,
) -> None:
    """Write the observations of ``year`` that belong to this workbook into its cells; raise
    ``ValueError`` listing every one that has no place (nothing is left out silently)."""
    rows = {sid: r for r, sid in enumerate(schools["school_id"], start=2)}
    names = dict(zip(schools["school_id"], schools["school_name"], strict=True))
    places: dict[tuple[str, str, str], tuple[Worksheet, int, int]] = {}
    for ws, cols in sheets:
        for i, column in enumerate(cols):
            key = (column.spec.id, column.item, column.source or source)
            places[key] = (ws, 3 + i, 3 + len(cols) + i)
    problems: list[str] = []
    mark_row = 2
    for rec in obs[obs["year"].astype(int) == int(year)].to_dict("records"):
        ind, item, src, rater = (
            str(rec["indicator_id"]),
            str(rec["item"] or ""),
            str(rec["source"]),
            str(rec["rater"] or ""),
        )
        spec = specs.get(ind)
        mine = src == source or (spec is not None and spec.source == src and source != "self")
        if not mine:
            continue  # another workbook's data
        sid = str(rec["school_id"])
        where = f"{sid}/{ind}/{item or '-'}/{src}/{rater or '-'}"
        if spec is None:
            problems.append(f"{where}: unknown indicator")
            continue
        value = cell_value(rec["value"], spec.data_type)
        evidence = rec.get("evidence") or ""
        if rater:
            if marks is None or src != "inspection":
                problems.append(
                    f"{where}: marks of several raters go to the {INSPECTION_SHEET} sheet (inspection)"
                )
                continue
            row = [
                sid,
                names.get(sid, ""),
                ind,
                ITEM_NAMES.get(item, item) if item else None,
                rater,
                value,
                evidence or None,
            ]
            for c, v in enumerate(row, start=1):
                marks.cell(mark_row, c, v)
            _put(marks, mark_row, 6, value, spec, rec["value"])
            mark_row += 1
            continue
        if sid not in rows:
            problems.append(f"{where}: school not in the registry for {year}")
            continue
        place = places.get((ind, item, src))
        if place is None:
            problems.append(f"{where}: no column for this indicator / item / source")
            continue
        ws, value_col, evidence_col = place
        if value is None:
            continue
        _put(ws, rows[sid], value_col, value, spec, rec["value"])
        if evidence:
            ws.cell(rows[sid], evidence_col, evidence)
    if problems:
        raise ValueError(
            f"{len(problems)} observations have no place in the template:\n  " + "\n  ".join(problems)
        )


# -- command line -------------------------------------------------------------------------------


def cli_template(args: argparse.Namespace) -> int:
    """``evalkit template --framework F --registry R --year Y -o 模板.xlsx [--source self|inspection]``."""
    from evalkit.framework import FrameworkError
    from evalkit.intake.registry import RegistryError

    if not getattr(args, "registry", None):
        print("请用 --registry 指定学校名册（CSV 或 XLSX） / a registry is required", file=sys.stderr)
        return 2
    if getattr(args, "year", None) is None:
        print("请用 --year 指定评价年度 / a year is required", file=sys.stderr)
        return 2
    try:
        fw = load_framework(args.framework)
        registry = load_registry(args.registry)
    except (FrameworkError, RegistryError) as err:
        print(err, file=sys.stderr)
        return 1
    year = int(args.year)
    output = args.output or f"评价数据填报表_{year}.xlsx"
    source = getattr(args, "source", None)
    path = write_template(fw, registry, year, output, source=source)
    n = len(active_schools(registry, year))
    print(f"已生成填报模板 {path}：{year} 年，{n} 所学校，{len(fw.areas)} 个领域表 / template written")
    if n == 0:
        print(f"注意：名册中没有 {year} 年参评的学校 / no school is assessed that year", file=sys.stderr)
    return 0
