"""``read_observations``: evaluators' CSV/XLSX files → Observations, problems, normalisations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.framework import Framework, load_framework
from evalkit.intake.bulkcheck import coded
from evalkit.intake.cells import Context
from evalkit.intake.columnar import ColumnSheet
from evalkit.intake.control import refuse_control_characters
from evalkit.intake.long import read_long
from evalkit.intake.records import NORMALISATION_COLUMNS, UNUSED_COLUMNS, Collector, Record
from evalkit.intake.registry import read_registry
from evalkit.intake.result import IntakeResult
from evalkit.intake.specs import value_specs
from evalkit.intake.validate import validate
from evalkit.intake.workbook import read_file
from evalkit.issues import Issue, column_number
from evalkit.observations import COLUMNS, PROVENANCE


def read_observations(
    paths: str | Path | Iterable[str | Path],
    framework: Framework | str | Path,
    registry: pd.DataFrame | str | Path | None = None,
    year: int | None = None,
    *,
    source: str | None = None,
) -> IntakeResult:
    """Read evaluators' files (CSV or XLSX, long or wide) into Observations.

    ``framework``: a :class:`~evalkit.framework.Framework` or a framework file / shipped name.
    ``registry``: a registry DataFrame (see :func:`evalkit.intake.registry.load_registry`) or a
    registry file, whose problems are then reported too; without one, school ids are not checked.
    ``year``: the assessment year — data of other years is reported and not used; it is also the
    year of sheets that say none. ``source``: the source of sheets that say none (the template's
    说明 sheet names one).

    Never raises for bad input: every problem is in ``result.problems``; call
    ``result.raise_if_errors()`` to stop on errors. Input files are never modified.
    """
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    files = [str(paths)] if isinstance(paths, str | Path) else [str(p) for p in paths]
    col = Collector(fw)
    reg = registry
    if isinstance(registry, str | Path):
        reg, reg_issues = read_registry(registry)
        col.issues.extend(reg_issues)
    specs = value_specs(fw)
    order: dict[tuple[str, str], int] = {}
    for f_i, path in enumerate(files):
        for s_i, name in enumerate(read_file(col, path, specs, year=year, source=source)):
            order[(path, name)] = f_i * 1000 + s_i
    validate(col, specs, reg, year)
    registry_file = str(registry) if isinstance(registry, str | Path) else None
    return IntakeResult(
        observations=observations_frame(col.records, col.bulk, col.sheets),
        normalisations=_in_order(col.normalisations, NORMALISATION_COLUMNS, order),
        problems=_sorted(col.issues, files, order, registry_file),
        unused_rows=_in_order(col.unused, UNUSED_COLUMNS, order),
        files=files,
    )


FRAME_LABEL = "观测数据表"
"""The file name issues give for a table validated in Python (:func:`read_frame`)."""


def read_frame(
    frame: pd.DataFrame,
    framework: Framework,
    registry: pd.DataFrame | None = None,
    year: int | None = None,
) -> IntakeResult:
    """A table in the Observations contract read like a long CSV (header row 1 = its columns,
    without provenance columns; row ``i + 2`` = its ``i``-th row), through the same checks as
    files: every problem is reported with its cell. Ratios are fractions (the contract's
    style); an empty or absent source is ``inspection``. The table is not modified."""
    col = Collector(framework)
    specs = value_specs(framework)
    table = frame.drop(columns=[c for c in PROVENANCE if c in frame.columns])
    header = [str(c) for c in table.columns]
    sheet = ColumnSheet(FRAME_LABEL, header, [table.iloc[:, j] for j in range(table.shape[1])])
    refuse_control_characters(col, sheet)
    ctx = Context(file=FRAME_LABEL, sheet="", year=year, source="inspection")
    if "school_id" not in table.columns or "indicator_id" not in table.columns or "value" not in table.columns:
        missing = [c for c in ("school_id", "indicator_id", "value") if c not in table.columns]
        col.issue(
            "missing_column",
            "error",
            f"缺少必需的列：{'、'.join(missing)} / missing columns",
            file=FRAME_LABEL,
            row=1,
            expected="、".join(missing),
        )
    else:
        read_long(col, sheet, 1, ctx, specs)
    validate(col, specs, registry, year, ratio_style="fraction")
    order = {(FRAME_LABEL, ""): 0}
    return IntakeResult(
        observations=observations_frame(col.records, col.bulk, col.sheets),
        normalisations=_in_order(col.normalisations, NORMALISATION_COLUMNS, order),
        problems=_sorted(col.issues, [FRAME_LABEL], order, None),
        unused_rows=_in_order(col.unused, UNUSED_COLUMNS, order),
        files=[FRAME_LABEL],
    )


def observations_frame(
    records: list[Record], bulk: list | None = None, sheets: dict[tuple[str, str], int] | None = None
) -> pd.DataFrame:
    """The usable records, and the clean rows kept in bulk (:mod:`evalkit.intake.columnar`),
    as an Observations table with provenance columns, in reading order (``sheets``: (file,
    sheet) → its place in it, :attr:`evalkit.intake.records.Collector.sheets`)."""
    frame = _records_frame(records)
    if not bulk:
        return frame
    sheets = {**(sheets or {}), **{(b.file, b.sheet): b.seq for b in bulk}}
    ok = [r for r in records if r.status == "ok"]
    seqs = [np.array([sheets.get((r.file, r.sheet), -1) for r in ok], dtype=np.int64)]
    rows = [np.array([r.row for r in ok], dtype=np.int64)]
    for b in bulk:
        seqs.append(np.full(len(b), b.seq, dtype=np.int64))
        rows.append(b.frame["row"].to_numpy(dtype=np.int64))
    order = np.lexsort((np.concatenate(rows), np.concatenate(seqs)))  # stable: records keep their order

    def column(name: str) -> pd.Series:
        if name == "year":
            years = np.concatenate([frame["year"].to_numpy(dtype=np.int64),
                                    *(b.frame["year"].to_numpy(dtype=np.int64) for b in bulk)])
            return pd.Series(years[order], dtype="int64")
        if name == "value":
            values = np.concatenate([frame["value"].to_numpy(dtype=object),
                                     *(b.frame["value"].to_numpy(dtype=object) for b in bulk)])
            return pd.Series(values[order], dtype=object)
        if name == "cell":  # nearly all distinct: built as text columns, not one string at a time
            cells = pd.concat([frame["cell"].astype("str"), *(b.cells() for b in bulk)], ignore_index=True)
            return cells.take(order).reset_index(drop=True)
        parts = [frame[name], *((getattr(b, name), len(b)) if name in ("file", "sheet") else b.frame[name]
                                for b in bulk)]
        codes, keys = coded(parts)  # each distinct text converted once
        text = pd.array(np.array(keys, dtype=object), dtype="str") if keys else pd.array([], dtype="str")
        return pd.Series(text.take(codes[order], allow_fill=True), dtype="str")

    return pd.DataFrame({c: column(c) for c in [*COLUMNS, *PROVENANCE]})


def _records_frame(records: list[Record]) -> pd.DataFrame:
    """The usable records as an Observations table with provenance columns."""
    ok = [r for r in records if r.status == "ok"]
    data = {
        "school_id": [r.school_id for r in ok],
        "year": [r.year for r in ok],
        "indicator_id": [r.indicator_id for r in ok],
        "item": [r.item for r in ok],
        "source": [r.source for r in ok],
        "rater": [r.rater for r in ok],
        "value": [r.value for r in ok],
        "evidence": [r.evidence for r in ok],
        "file": [r.file for r in ok],
        "sheet": [r.sheet for r in ok],
        "cell": [r.cell for r in ok],
    }
    text = {k: pd.Series(v, dtype="str") for k, v in data.items() if k not in ("year", "value")}
    frame = pd.DataFrame(
        {
            **text,
            "year": pd.Series(data["year"], dtype="int64"),
            "value": pd.Series(data["value"], dtype=object),
        },
        columns=[*COLUMNS, *PROVENANCE],
    )
    return frame


def _in_order(entries: list[dict], columns: list[str], order: dict[tuple[str, str], int]) -> pd.DataFrame:
    """Table entries in reading order (file, sheet, row, column)."""

    def key(pair: tuple[int, dict]) -> tuple:
        seq, entry = pair
        group = order.get((entry["file"], entry["sheet"]), 10**9)
        return (group, _row_of(entry["cell"]) or entry.get("row") or 0, column_number(entry["cell"]) or 0, seq)

    frame = pd.DataFrame([e for _, e in sorted(enumerate(entries), key=key)], columns=columns)
    if "row" in frame.columns:
        frame["row"] = frame["row"].astype("Int64")
    return frame


def _row_of(cell: str) -> int | None:
    """The row of ``D12`` (12), or of the first cell of a range ``A440:A1048575`` (440)."""
    match = re.search(r"\d+", cell or "")
    return int(match.group()) if match else None


def _sorted(
    issues: list[Issue], files: list[str], order: dict[tuple[str, str], int], registry_file: str | None
) -> list[Issue]:
    """Registry problems first, then by file and sheet as read, row and column; issues about
    no particular file (schools with no data) last."""
    file_rank = {f: i for i, f in enumerate(files)}

    def key(pair: tuple[int, Issue]) -> tuple:
        seq, issue = pair
        if registry_file is not None and issue.file == registry_file:
            group = -1
        elif issue.file:
            group = order.get((issue.file, issue.sheet), file_rank.get(issue.file, len(files)) * 1000)
        else:
            group = 10**9
        return (group, issue.row or 0, column_number(issue.cell) or 0, seq)

    return [i for _, i in sorted(enumerate(issues), key=key)]
