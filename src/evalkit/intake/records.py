"""What intake collects while reading: parsed records, problems, normalisations, unused data.

A :class:`Record` is one value cell (wide) or one row (long) with its provenance. Its
``status`` is ``ok`` (becomes an observation), ``blank`` (an empty wide cell: no observation,
but it tells the missing-data check where the value should have been) or ``invalid`` (kept out
of the observations; the reason is in :attr:`Collector.unused`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from evalkit.framework import Framework
from evalkit.intake.normalise import shown
from evalkit.issues import Issue, Severity

Status = Literal["ok", "blank", "invalid"]

NORMALISATION_COLUMNS = [
    "file",
    "sheet",
    "cell",
    "school_id",
    "indicator_id",
    "original",
    "normalised",
    "action",
]
UNUSED_COLUMNS = ["file", "sheet", "cell", "row", "school_id", "indicator_id", "value", "reason"]


@dataclass
class Record:
    """One value with where it came from (before the registry and cross-row checks)."""

    file: str
    sheet: str
    cell: str
    row: int
    shape: Literal["long", "wide"]
    school_id: str
    school_cell: str
    school_name: str
    year: int | None
    indicator_id: str
    item: str
    source: str
    rater: str
    value: Any
    evidence: str
    raw: Any
    status: Status = "ok"
    reading: str = ""  # ratios: how the number was written (see evalkit.intake.normalise.RATIO_READINGS)

    @property
    def key(self) -> tuple[str, int | None, str, str, str, str]:
        return (self.school_id, self.year, self.indicator_id, self.item, self.source, self.rater)


def indicator_names(fw: Framework) -> dict[str, str]:
    """Id → Chinese name for indicators, bonus items and vetoes."""
    names = {i.id: i.name for i in fw.indicators}
    names.update({b.id: b.name for b in fw.bonus.items})
    names.update({v.id: v.name for v in fw.vetoes})
    return names


@dataclass
class Collector:
    """Accumulates records, issues, normalisations and unused data for one intake run."""

    framework: Framework
    records: list[Record] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    normalisations: list[dict[str, Any]] = field(default_factory=list)
    unused: list[dict[str, Any]] = field(default_factory=list)
    bulk: list[Any] = field(default_factory=list)
    """Clean rows of long sheets kept as columns (:class:`evalkit.intake.columnar.Bulk`)."""
    sheets: dict[tuple[str, str], int] = field(default_factory=dict)
    """(file, sheet) → its place in reading order (see :meth:`sheet_seq`)."""

    def __post_init__(self) -> None:
        self.names = indicator_names(self.framework)

    def sheet_seq(self, file: str, sheet: str) -> int:
        """The place of a sheet in reading order (given when a reader starts on it)."""
        return self.sheets.setdefault((file, sheet), len(self.sheets))

    def n_read(self) -> int:
        """Records and clean bulk rows read so far."""
        return len(self.records) + sum(len(b) for b in self.bulk)

    def restore_order(self) -> None:
        """Records in reading order (sheet, then row; a row's records as they were read),
        after rows were read one by one out of order (:meth:`evalkit.intake.columnar.Bulk.escalate`)."""
        seq = self.sheets
        self.records.sort(key=lambda r: (seq.get((r.file, r.sheet), -1), r.row))

    def issue(
        self,
        kind: str,
        severity: Severity,
        detail: str,
        *,
        file: str = "",
        sheet: str = "",
        cell: str = "",
        row: int | None = None,
        school_id: str = "",
        indicator_id: str = "",
        value: str = "",
        expected: str = "",
    ) -> Issue:
        issue = Issue(
            kind=kind,
            severity=severity,
            detail=detail,
            file=file,
            sheet=sheet,
            cell=cell,
            row=row,
            school_id=school_id,
            indicator_id=indicator_id,
            indicator_name=self.names.get(indicator_id, ""),
            value=value,
            expected=expected,
        )
        self.issues.append(issue)
        return issue

    def issue_at(
        self,
        rec: Record,
        kind: str,
        severity: Severity,
        detail: str,
        *,
        whole_row: bool = False,
        **extra: Any,
    ) -> Issue:
        """An issue where ``rec`` is (file, sheet, value cell, row) and about its school and
        indicator. ``whole_row``: about the row's school as a whole (at the school id cell, no
        indicator). ``extra``: further :meth:`issue` keywords (``value``, ``expected``), or
        another location to use instead (``cell=...``)."""
        where: dict[str, Any] = {
            "file": rec.file,
            "sheet": rec.sheet,
            "cell": rec.school_cell if whole_row else rec.cell,
            "row": rec.row,
            "school_id": rec.school_id,
            "indicator_id": "" if whole_row else rec.indicator_id,
        }
        return self.issue(kind, severity, detail, **{**where, **extra})

    def bad_value(self, problem: tuple[str, str, str], raw: Any, **where: Any) -> Issue:
        """An error for a cell that did not parse: ``problem`` is a :class:`~evalkit.intake.normalise.Parsed`
        problem (kind, Chinese detail, expected), ``raw`` the value as written, ``where`` the
        location keywords of :meth:`issue`."""
        kind, detail, expected = problem
        return self.issue(kind, "error", detail, value=shown(raw), expected=expected, **where)

    def normalised(
        self,
        file: str,
        sheet: str,
        cell: str,
        school_id: str,
        indicator_id: str,
        original: str,
        normalised: str,
        actions: tuple[str, ...] | list[str],
    ) -> None:
        if actions:
            self.normalisations.append(
                {
                    "file": file,
                    "sheet": sheet,
                    "cell": cell,
                    "school_id": school_id,
                    "indicator_id": indicator_id,
                    "original": original,
                    "normalised": normalised,
                    "action": "；".join(actions),
                }
            )

    def skip(
        self,
        file: str,
        sheet: str,
        cell: str,
        row: int | None,
        school_id: str,
        indicator_id: str,
        value: str,
        reason: str,
    ) -> None:
        self.unused.append(
            {
                "file": file,
                "sheet": sheet,
                "cell": cell,
                "row": row,
                "school_id": school_id,
                "indicator_id": indicator_id,
                "value": value,
                "reason": reason,
            }
        )

    def reject(self, rec: Record, reason: str) -> None:
        """Mark a record invalid and list it as unused with ``reason``."""
        if rec.status == "invalid":
            return
        rec.status = "invalid"
        self.skip(
            rec.file, rec.sheet, rec.cell, rec.row, rec.school_id, rec.indicator_id, shown(rec.raw), reason
        )
