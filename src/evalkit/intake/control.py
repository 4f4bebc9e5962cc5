"""Control characters in evaluators' data files: refused at intake with their cell (the rule
and the visible marks are in :mod:`evalkit.io.controlchars`, shared with the registry)."""

from __future__ import annotations

import numpy as np

from evalkit.intake.columnar import ColumnSheet
from evalkit.intake.records import Collector
from evalkit.io.controlchars import CONTROL, control_character_issue, control_character_issues, shown_safely
from evalkit.io.sheets import Sheet


def refuse_control_characters(col: Collector, sheet: Sheet) -> None:
    """Report every text cell of ``sheet`` holding a control character as an error at its cell
    (the sheet in memory then shows the characters as visible marks)."""
    if not isinstance(sheet, ColumnSheet):
        col.issues.extend(control_character_issues(sheet))
        return
    # a table given as columns: each distinct text is searched once; issues in row, column order
    header = [str(h) for h in sheet.rows[0]]
    found: list[tuple[int, int, str]] = [(1, c, h) for c, h in enumerate(header, start=1) if CONTROL.search(h)]
    for c in range(1, len(sheet.series) + 1):
        codes, uniques = sheet.factors[c - 1]
        bad = [i for i, u in enumerate(uniques) if isinstance(u, str) and CONTROL.search(u)]
        if not bad:
            continue
        for pos in np.flatnonzero(np.isin(codes, bad)).tolist():
            text = sheet.value(pos + 2, c)
            found.append((pos + 2, c, text))
            sheet.overrides[(pos + 2, c)] = shown_safely(text)
        for i in bad:  # the cached factors show the marks too
            uniques[i] = shown_safely(uniques[i])
    for r, c, text in sorted(found, key=lambda x: (x[0], x[1])):
        col.issues.append(control_character_issue(sheet.file, sheet.name, r, c, text))
    for c, h in enumerate(header, start=1):
        if CONTROL.search(h):
            sheet.rows[0][c - 1] = shown_safely(h)
