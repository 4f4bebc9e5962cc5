"""``evalkit registry check FILE…``: every problem of a school registry, with its row.

Prints one line per problem (``[错误] 第 5 行 单元格 A5：学校 7 青竹坪小学 学校编号“7”可能丢失了前导零…``)
and a summary per file; exit status 1 when any file has an error (see
:func:`evalkit.intake.registry.check_registry`), 0 otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evalkit.intake.registry import check_registry, read_registry
from evalkit.issues import SEVERITY_NAMES


def format_check(path: str | Path) -> tuple[str, bool]:
    """The check of one registry file as text, and whether it has errors."""
    problems = check_registry(path)
    frame, _ = read_registry(path) if not any(p.kind == "unreadable_file" for p in problems) else (None, [])
    lines = [f"== 学校名册 {path} =="]
    for p in problems:
        where = " ".join(x for x in (f"第 {p.row} 行" if p.row is not None else "",
                                      f"单元格 {p.cell}" if p.cell else "") if x)
        lines.append(f"  [{SEVERITY_NAMES[p.severity]}] {where}：{p.statement}" if where
                     else f"  [{SEVERITY_NAMES[p.severity]}] {p.statement}")
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    n = len(frame) if frame is not None else 0
    if not problems:
        lines.append(f"  没有发现问题：{n} 所学校 / no problems found")
    else:
        lines.append(f"  合计：{n} 所学校，错误 {errors} 个，警告 {warnings} 个")
    return "\n".join(lines), errors > 0


def cli_registry_check(args: argparse.Namespace) -> int:
    """``evalkit registry check FILE…``: exit 1 when any file has an error."""
    failed = False
    for path in args.files:
        text, has_errors = format_check(path)
        print(text)
        failed |= has_errors
    return 1 if failed else 0
