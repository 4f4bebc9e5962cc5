"""Problems found in evaluators' files (data, registry): one :class:`Issue` per problem.

Shared by :mod:`evalkit.intake.registry` and :mod:`evalkit.intake`, so a registry and the data files
are reported in the same table. Each issue knows where it is (file, sheet, cell, row), what it
is about (school, indicator), the value found and the value expected, and says it in Chinese::

    文件 2024.xlsx 工作表 思想强基 单元格 D12：学校 003 城关三小 指标 A1 理论学习中心组学习
    的值“十七”不是数字，应填写次数（如 17）

(one line in practice). Kinds (``Issue.kind``) are stable English identifiers, listed in
:data:`KINDS` with a Chinese label.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal

import pandas as pd

from evalkit.errors import EXIT_DATA, EvalkitError

Severity = Literal["error", "warning"]

SEVERITY_NAMES = {"error": "错误", "warning": "警告"}

KINDS: dict[str, str] = {
    "unreadable_file": "文件无法读取",
    "encoding": "文件编码",
    "file_type": "文件类型与扩展名不符",
    "empty_file": "文件没有数据",
    "unrecognised_sheet": "无法识别的工作表",
    "missing_column": "缺少列",
    "unknown_column": "无法识别的列",
    "merged_cells": "合并单元格",
    "missing_school_id": "缺少学校编号",
    "unknown_school": "学校编号不在名册中",
    "inactive_school": "学校当年不参评",
    "school_name_mismatch": "学校名称与名册不符",
    "unknown_indicator": "指标编号不存在",
    "invalid_item": "子项不正确",
    "unknown_source": "来源不正确",
    "missing_source": "缺少来源",
    "missing_year": "缺少年度",
    "wrong_year": "年度不符",
    "duplicate": "重复",
    "wrong_type": "类型错误",
    "out_of_range": "超出范围",
    "implausible": "数值异常偏大",
    "missing_value": "指标缺数",
    "no_data": "学校没有数据",
    "conflict": "数据冲突",
    "not_needed": "无需填写",
    "framework_mismatch": "指标体系不符",
    "ambiguous_value": "数值含义不明确",
    "control_character": "控制字符",
    "id_form": "编号形式与其他编号不同",
    "unlikely_reading": "比率读法与本列其他值不符",
}

_CELL = re.compile(r"^([A-Z]+)(\d+)$")


@functools.lru_cache(maxsize=1024)
def column_letter(col: int) -> str:
    """1 → ``A``, 27 → ``AA`` (Excel column letters)."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_ref(row: int, col: int) -> str:
    """Excel A1 notation for a 1-based row and column: ``cell_ref(12, 4) == "D12"``."""
    return f"{column_letter(col)}{row}"


def column_number(cell: str) -> int | None:
    """The 1-based column of an A1 reference (``"D12"`` → 4); ``None`` if not a reference."""
    m = _CELL.match(cell or "")
    if not m:
        return None
    n = 0
    for ch in m.group(1):
        n = n * 26 + ord(ch) - 64
    return n


@dataclass(frozen=True)
class Issue:
    """One problem. ``detail`` is the Chinese description of what is wrong; :attr:`message`
    prefixes it with where it is and what it is about."""

    kind: str
    severity: Severity
    detail: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    row: int | None = None
    school_id: str = ""
    school_name: str = ""
    indicator_id: str = ""
    indicator_name: str = ""
    value: str = ""
    expected: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        """``文件 2024.xlsx 工作表 思想强基 单元格 D12`` (only the parts that are known)."""
        parts = []
        if self.file:
            parts.append(f"文件 {Path(self.file).name}")
        if self.sheet:
            parts.append(f"工作表 {self.sheet}")
        if self.cell:
            parts.append(f"单元格 {self.cell}")
        elif self.row is not None:
            parts.append(f"第 {self.row} 行")
        return " ".join(parts)

    @property
    def subject(self) -> str:
        """``学校 003 城关三小 指标 A1 理论学习中心组学习`` (only the parts that are known)."""
        parts = []
        if self.school_id:
            parts.append(" ".join(p for p in ("学校", self.school_id, self.school_name) if p))
        if self.indicator_id:
            parts.append(" ".join(p for p in ("指标", self.indicator_id, self.indicator_name) if p))
        return " ".join(parts)

    @property
    def statement(self) -> str:
        """Subject and detail, without the location (a value of over 200 characters without a
        space is shortened: see :func:`elide`)."""
        subject = elide(self.subject)
        return f"{subject} {elide(self.detail)}" if subject else elide(self.detail)

    @property
    def message(self) -> str:
        """The complete Chinese sentence: location, subject and detail."""
        where = self.location
        return f"{where}：{self.statement}" if where else self.statement

    def __str__(self) -> str:
        return f"[{SEVERITY_NAMES[self.severity]}] {self.message}"


_LONG_RUN = re.compile(r"\S{201,}")


def elide(text: str) -> str:
    """Runs of over 200 characters without a space (a 1 MB cell pasted by mistake) shortened to
    their first 40 characters and their length, so a message stays readable.

    >>> elide("值 " + "9" * 1000 + " 不是数字")
    '值 9999999999999999999999999999999999999999…（共 1000 字） 不是数字'
    """
    return _LONG_RUN.sub(lambda m: f"{m.group()[:40]}…（共 {len(m.group())} 字）", text)


ISSUE_COLUMNS = [f.name for f in fields(Issue)] + ["message"]

REPORT_HEADERS = {
    "severity": "严重程度",
    "kind": "类别",
    "file": "文件",
    "sheet": "工作表",
    "cell": "单元格",
    "row": "行",
    "column": "列",
    "school_id": "学校编号",
    "school_name": "学校名称",
    "indicator_id": "指标编号",
    "indicator_name": "指标名称",
    "value": "填写值",
    "expected": "应为",
    "message": "说明",
}


def issues_frame(issues: Iterable[Issue]) -> pd.DataFrame:
    """Issues as a DataFrame (one row each, the fields plus ``message``)."""
    rows = [{**asdict(i), "message": i.message} for i in issues]
    frame = pd.DataFrame(rows, columns=ISSUE_COLUMNS)
    frame["row"] = frame["row"].astype("Int64")
    return frame


def report_frame(issues: Iterable[Issue]) -> pd.DataFrame:
    """Issues with Chinese headers for a sortable report: severity and kind in Chinese, a
    numeric column next to the cell so rows sort in sheet order."""
    frame = issues_frame(issues)
    out = pd.DataFrame(
        {
            "severity": frame["severity"].map(SEVERITY_NAMES),
            "kind": frame["kind"].map(lambda k: KINDS.get(k, k)),
            "file": frame["file"].map(lambda f: Path(f).name if f else ""),
            "sheet": frame["sheet"],
            "cell": frame["cell"],
            "row": frame["row"],
            "column": frame["cell"].map(column_number).astype("Int64"),
            "school_id": frame["school_id"],
            "school_name": frame["school_name"],
            "indicator_id": frame["indicator_id"],
            "indicator_name": frame["indicator_name"],
            "value": frame["value"],
            "expected": frame["expected"],
            "message": frame["message"],
        }
    )
    return out.rename(columns=REPORT_HEADERS)


class DataError(EvalkitError):
    """Input with errors; ``problems`` lists every issue found (errors and warnings)."""

    what = "数据"
    exit_code = EXIT_DATA

    def __init__(self, problems: list[Issue]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.is_error]
        body = "\n".join(f"  - {p.message}" for p in errors)
        super().__init__(f"{self.what}有 {len(errors)} 个错误 / errors:\n{body}")

    @property
    def errors(self) -> list[Issue]:
        return [p for p in self.problems if p.is_error]
