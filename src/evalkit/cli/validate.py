"""``evalkit validate``: check evaluators' files and list every problem, grouped by file and sheet.

Prints the problems in Chinese; with ``-o report.xlsx`` writes a sortable workbook (问题,
规范化记录, 未使用数据 sheets, with filters), with ``-o report.csv`` the problem table only (UTF-8
with BOM for Excel). Exit status 1 when there is any error, 0 otherwise (warnings allowed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from evalkit.framework import Framework, FrameworkError, load_framework
from evalkit.intake.read import read_observations
from evalkit.intake.result import IntakeResult
from evalkit.io.csv_writer import write_csv
from evalkit.io.xlsx_writer import write_tables_xlsx
from evalkit.issues import SEVERITY_NAMES, Issue, report_frame

NORMALISATION_HEADERS = {
    "file": "文件",
    "sheet": "工作表",
    "cell": "单元格",
    "school_id": "学校编号",
    "indicator_id": "指标编号",
    "original": "原值",
    "normalised": "规范值",
    "action": "处理",
}
UNUSED_HEADERS = {
    "file": "文件",
    "sheet": "工作表",
    "cell": "单元格",
    "row": "行",
    "school_id": "学校编号",
    "indicator_id": "指标编号",
    "value": "值",
    "reason": "原因",
}


def cli_validate(args: argparse.Namespace) -> int:
    """``evalkit validate FILE… [--framework F] [--registry R] [--year Y] [-o report.xlsx|csv]``."""
    try:
        fw = load_framework(getattr(args, "framework", None) or "shiquan-party-building")
    except FrameworkError as err:
        print(err, file=sys.stderr)
        return 1
    output = getattr(args, "output", None)
    if output and Path(output).suffix.lower() not in (".xlsx", ".csv"):
        print(f"报告文件应为 .xlsx 或 .csv：{output} / report must be .xlsx or .csv", file=sys.stderr)
        return 2
    registry = getattr(args, "registry", None)
    year = getattr(args, "year", None)
    shown = registry
    if not registry:  # a template remembers its registry and year (a registry given here wins)
        ok, found = remembered_registry(args.files)
        if not ok:
            return 1
        if found is not None:
            name, frame, template_year = found
            registry, year = frame, year if year is not None else template_year
            shown = f"{name} 中保存的名册"
            print(f"使用模板 {name} 中保存的学校名册（{len(frame)} 所学校）"
                  + (f"和评价年度 {year}" if year is not None else "") + "；用 -r 可另行指定名册。")
    result = read_observations(list(args.files), fw, registry, year)
    print(format_report(result, fw, registry=shown, year=year))
    if output:
        path = write_report(result, output)
        print(f"问题清单已写入 {path} / report written")
    return 1 if result.errors else 0


def template_registry(files: list[str]) -> tuple[str, pd.DataFrame, int | None] | None:
    """(file name, registry, year) from the first file that is an evalkit template."""
    from evalkit.intake.workbook import embedded_registry

    for path in files:
        frame, year = embedded_registry(path)
        if frame is not None:
            return Path(path).name, frame, year
    return None


def remembered_registry(files: list[str]) -> tuple[bool, tuple[str, pd.DataFrame, int | None] | None]:
    """(ok, what :func:`template_registry` found) for ``validate`` and ``score`` run without ``-r``;
    a template whose stored registry has errors prints them and gives ``ok`` False (exit 1)."""
    from evalkit.intake.registry import RegistryError

    try:
        return True, template_registry(files)
    except RegistryError as err:
        print(f"模板中保存的学校名册有错误，请用 -r 指定名册 / the template's registry has errors\n{err}",
              file=sys.stderr)
        return False, None


def format_report(
    result: IntakeResult, framework: Framework, registry: str | None = None, year: int | None = None
) -> str:
    """The problem list as text, grouped by file and sheet, with a summary line."""
    lines = [
        f"校验 {len(result.files)} 个文件：指标体系 {framework.id}（{framework.version}）"
        + (f"，评价年度 {year}" if year else "")
        + (f"，学校名册 {Path(registry).name}" if registry else "")
    ]
    if not registry:
        lines.append("注意：未指定学校名册（--registry），未核对学校编号、名称和缺报学校 / no registry given")
    current: tuple[str, str] | None = None
    for issue in result.problems:
        group = (issue.file, issue.sheet)
        if group != current:
            if issue.file and group[0] != (current or ("", ""))[0]:
                lines.append(f"\n== 文件 {issue.file} ==")
            elif not issue.file and (current is None or current[0]):
                lines.append("\n== 汇总检查 ==")
            if issue.sheet:
                lines.append(f"  -- 工作表 {issue.sheet} --")
            current = group
        lines.append(f"    {_line(issue)}")
    if not result.problems:
        lines.append("没有发现问题 / no problems found")
    lines.append("")
    lines.append(
        f"合计：错误 {len(result.errors)} 个，警告 {len(result.warnings)} 个；"
        f"读入观测 {len(result.observations)} 条，规范化 {len(result.normalisations)} 处，"
        f"未使用 {len(result.unused_rows)} 处"
    )
    lines.extend(gate_notes(result))
    return "\n".join(lines)


def gate_notes(result: IntakeResult) -> list[str]:
    """What ``evalkit score`` / ``run`` will do with these problems: errors stop them, and so
    do the warnings that change a score unless allowed (:mod:`evalkit.intake.gate`)."""
    from evalkit.intake.gate import ALLOW_FLAGS, ALLOW_NAMES, ALLOWABLE

    out = []
    if result.errors:
        out.append("有错误：evalkit score / run 会停止并列出同样的错误，请修正后再评分 / errors stop scoring")
    for allow, kinds in ALLOWABLE.items():
        n = sum(p.kind in kinds for p in result.warnings)
        if n:
            out.append(
                f"注意：{n} 个“{ALLOW_NAMES[allow]}”警告会改变评分，evalkit score / run 默认停止；"
                f"核实无误后可加 {ALLOW_FLAGS[allow]}（运行文件 allow: [{allow}]）/ stops scoring unless allowed"
            )
    return out


def _line(issue: Issue) -> str:
    where = issue.cell or (f"第 {issue.row} 行" if issue.row is not None else "")
    head = f"[{SEVERITY_NAMES[issue.severity]}]"
    return f"{head} {where}  {issue.statement}" if where else f"{head} {issue.statement}"


def write_report(result: IntakeResult, path: str | Path) -> Path:
    """The problem list (and, for .xlsx, the normalisations and unused data) written atomically."""
    path = Path(path)
    problems = report_frame(result.problems)
    if path.suffix.lower() == ".csv":
        return write_csv(problems, path)
    norm = _named(result.normalisations, NORMALISATION_HEADERS)
    unused = _named(result.unused_rows, UNUSED_HEADERS)
    return write_tables_xlsx({"问题": problems, "规范化记录": norm, "未使用数据": unused}, path)


def _named(frame: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    out = frame.copy()
    if "file" in out.columns:
        out["file"] = out["file"].map(lambda f: Path(f).name if f else "")
    return out.rename(columns=headers)
