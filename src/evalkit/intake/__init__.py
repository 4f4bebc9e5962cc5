"""Reading evaluators' files (CSV/XLSX, long or wide) into Observations.

Every normalisation of what evaluators wrote is recorded, and every problem is reported with
its file, sheet and cell, all in one pass::

    from evalkit.intake import read_observations
    result = read_observations(["2024_实地核查.xlsx"], fw, registry, year=2024)
    result.problems        # list of Issue, each with a Chinese message
    result.normalisations  # what was normalised, cell by cell
    result.raise_if_errors()
    obs = result.observations

Modules: :mod:`~evalkit.intake.normalise` (values), :mod:`~evalkit.intake.columns` (headers),
:mod:`~evalkit.intake.long` and :mod:`~evalkit.intake.wide` (the two shapes),
:mod:`~evalkit.intake.columnar` (a long table read column by column, its clean rows kept as
columns) and :mod:`~evalkit.intake.bulkcheck` (the checks across rows over those columns),
:mod:`~evalkit.intake.workbook` (a file's sheets), :mod:`~evalkit.intake.validate` (checks
across rows), :mod:`~evalkit.intake.gate` (the one gate to scoring:
:class:`ValidatedObservations`), :mod:`~evalkit.intake.ratios` (bare numbers in rate columns),
:mod:`~evalkit.intake.control` (control characters), :mod:`~evalkit.intake.registry` (the school
registry, 学校名册), :mod:`~evalkit.intake.template` (the fill-in workbook of a year).

Scoring takes only what passed the gate::

    validated = read_validated(["2024_实地核查.xlsx"], fw, registry, year=2024)  # GateError if refused
    results = evalkit.scoring.score(validated, fw, registry)
"""

from __future__ import annotations

from evalkit.intake.gate import (
    ALLOWABLE,
    GateError,
    ValidatedObservations,
    admit,
    read_validated,
    validate_observations,
)
from evalkit.intake.read import read_observations
from evalkit.intake.result import IntakeError, IntakeResult
from evalkit.issues import Issue

__all__ = [
    "ALLOWABLE",
    "GateError",
    "IntakeError",
    "IntakeResult",
    "Issue",
    "ValidatedObservations",
    "admit",
    "read_observations",
    "read_validated",
    "validate_observations",
]
