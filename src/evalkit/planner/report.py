"""What a run did, report by report, and the summary printed at its end."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

import pandas as pd

from evalkit.errors import EXIT_DATA, EXIT_INTERRUPTED, EXIT_OK, EvalkitError
from evalkit.planner.names import display
from evalkit.runtime.job import Job

STATUS_ZH = {"done": "完成", "skipped": "跳过", "failed": "失败"}


class RunError(EvalkitError):
    """A problem that stops the run before any report (unknown school or year, locked folder,
    unsafe output folder); ``exit_code`` may be that of the input error it names (a county's
    data error in a region run keeps the data's code)."""

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


@dataclass
class Outcome:
    """One report's line in the summary."""

    year: int
    job: Job
    status: str  # done | skipped | failed
    reason: str = ""
    seconds: float | None = None


@dataclass
class RunReport:
    """What a run did: one :class:`Outcome` per planned report."""

    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_DATA if self.count("failed") else EXIT_OK  # a failed report: 1


def summary_table(report: RunReport) -> pd.DataFrame:
    """The closing summary: 年度, 状态, 报告, 用时（秒）, 说明."""
    rows = [
        {
            "年度": o.year,
            "状态": STATUS_ZH[o.status],
            "报告": o.job.label,
            "用时（秒）": f"{o.seconds:.1f}" if o.seconds is not None and o.status != "skipped" else "",
            "说明": display(o.reason),
        }
        for o in sorted(
            report.outcomes, key=lambda o: (o.year, o.status != "failed", o.job.kind, o.job.school_id)
        )
    ]
    return pd.DataFrame(rows, columns=["年度", "状态", "报告", "用时（秒）", "说明"])


def print_summary(report: RunReport, out: TextIO | None = None) -> None:
    """Print the summary table and the counts."""
    out = out or sys.stdout
    table = summary_table(report)
    if len(table):
        with pd.option_context(
            "display.max_rows",
            None,
            "display.width",
            200,
            "display.max_colwidth",
            120,
            "display.unicode.east_asian_width",
            True,
        ):
            print(table.to_string(index=False), file=out)
    print(
        f"\n完成 {report.count('done')} 份，跳过 {report.count('skipped')} 份，"
        f"失败 {report.count('failed')} 份（共用时 {report.seconds:.1f} 秒）",
        file=out,
    )
    if report.interrupted:
        print(
            "运行已中断：已完成的报告均已保存，重新运行同一命令即可继续",
            file=out,
        )
    elif report.count("failed"):
        print("有报告失败：修正后可用 --only-failed 只重跑失败的报告", file=out)
