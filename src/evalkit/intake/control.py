"""Control characters in evaluators' data files: refused at intake with their cell (the rule
and the visible marks are in :mod:`evalkit.io.controlchars`, shared with the registry)."""

from __future__ import annotations

from evalkit.intake.records import Collector
from evalkit.io.controlchars import control_character_issues
from evalkit.io.sheets import Sheet


def refuse_control_characters(col: Collector, sheet: Sheet) -> None:
    """Report every text cell of ``sheet`` holding a control character as an error at its cell
    (the sheet in memory then shows the characters as visible marks)."""
    col.issues.extend(control_character_issues(sheet))
