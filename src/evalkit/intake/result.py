"""The outcome of reading evaluators' files: observations plus everything said about them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evalkit.issues import DataError, Issue, issues_frame


class IntakeError(DataError):
    """Evaluators' files with errors; ``problems`` lists every issue (errors and warnings)."""

    what = "评价数据"


@dataclass
class IntakeResult:
    """``observations``: the Observations table (contract columns plus ``file``, ``sheet``,
    ``cell``); ``normalisations``: one row per cell whose writing was normalised (file, sheet,
    cell, school_id, indicator_id, original, normalised, action); ``problems``: every
    :class:`~evalkit.issues.Issue`, in file / sheet / cell order; ``unused_rows``: every cell or
    row that was read but not used, with the reason."""

    observations: pd.DataFrame
    normalisations: pd.DataFrame
    problems: list[Issue]
    unused_rows: pd.DataFrame
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def raise_if_errors(self) -> None:
        """Raise :class:`IntakeError` listing every error, if there is any."""
        if self.errors:
            raise IntakeError(self.problems)

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a DataFrame (one row per issue, with its full Chinese message)."""
        return issues_frame(self.problems)

    def summary(self) -> str:
        """One Chinese line: how many observations, errors, warnings, normalisations, unused."""
        return (
            f"读入观测 {len(self.observations)} 条；"
            f"错误 {len(self.errors)} 个，警告 {len(self.warnings)} 个；"
            f"规范化 {len(self.normalisations)} 处；未使用 {len(self.unused_rows)} 处"
        )
