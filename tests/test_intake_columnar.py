"""The gate read column by column (issue 22) says exactly what the row-by-row reader says.

Every input here goes through intake twice: as shipped (clean rows kept as columns,
:mod:`evalkit.intake.columnar`) and with ``columnar.ROW_BY_ROW`` set (every row read one by one,
the reader as it was before). Problems (every message, with its cell, in order),
normalisations, unused cells and the Observations table must be identical. The inputs carry
problems of every check across rows: duplicates, conflicts, unknown and inactive schools, a
year not assessed, implausible values, automatic vetoes, names that differ, e-notation, bools,
control characters, blank rows, the messy copy of the demo county."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalkit.demo import DEMO_DATA_DIR, demo_observation_paths, demo_registry_path
from evalkit.demo.messy import make_messy_copy
from evalkit.framework import load_framework
from evalkit.intake import columnar, read_observations
from evalkit.intake.read import read_frame
from evalkit.intake.registry import load_registry
from evalkit.observations import COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
MINI = load_framework(FIXTURES / "mini-framework.yaml")
REGISTRY_CSV = (
    "学校编号,学校名称,起始年度,终止年度\n001,城关一小,2022,\n002,城关二小,2022,\n003,城关三小,2022,\n"
    "004,石门小学,2022,2023\n005,白鹤小学,2022,\n"
)


def _both(read):  # type: ignore[no-untyped-def]
    columnar.ROW_BY_ROW = True
    try:
        reference = read()
    finally:
        columnar.ROW_BY_ROW = False
    return read(), reference


def _same(got, reference) -> None:  # type: ignore[no-untyped-def]
    assert [p.message for p in got.problems] == [p.message for p in reference.problems]
    assert [(p.kind, p.severity, p.cell, p.school_id, p.school_name, p.value, p.expected) for p in got.problems] == [
        (p.kind, p.severity, p.cell, p.school_id, p.school_name, p.value, p.expected) for p in reference.problems
    ]
    pd.testing.assert_frame_equal(got.normalisations, reference.normalisations)
    pd.testing.assert_frame_equal(got.unused_rows, reference.unused_rows)
    pd.testing.assert_frame_equal(got.observations, reference.observations)


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY_CSV, encoding="utf-8")
    return load_registry(path)


def _planted() -> pd.DataFrame:
    rows = []
    for sid in ("001", "002", "003", "005"):
        rows += [
            (sid, 2024, "A1", "", "inspection", "", 12.0, ""),
            (sid, 2024, "A2", "", "inspection", "", 0.85, ""),
            (sid, 2024, "A6", "", "inspection", "R1", "A"),
            (sid, 2024, "A6", "", "inspection", "R2", "B"),
            (sid, 2024, "A7", "", "inspection", "", "province", ""),
            (sid, 2024, "B1", "", "inspection", "", 1.0, ""),
            (sid, 2024, "C5", "warning", "inspection", "", 0.0, ""),
            (sid, 2024, "C9", "", "survey", "", 88.5, ""),
        ]
    rows = [r if len(r) == 8 else (*r, "") for r in rows]
    rows += [
        ("001", 2024, "A1", "", "inspection", "", 12.0, ""),      # a duplicate of row 2
        ("002", 2024, "A6", "", "inspection", "", "C", ""),       # a single value beside raters' marks
        ("009", 2024, "A1", "", "inspection", "", 3.0, ""),       # not in the registry
        ("004", 2024, "A1", "", "inspection", "", 3.0, ""),       # not assessed in 2024
        ("003", 2023, "A1", "", "inspection", "", 3.0, ""),       # another year
        ("003", 2024, "A1", "", "self", "", 75.0, ""),            # implausible (> 60)
        ("005", 2024, "V5", "", "inspection", "", 1.0, ""),       # determined automatically
        ("005", 2024, "C5", "violation", "inspection", "", True, ""),  # a logical value for a count
        ("005", 2024, "A2", "", "self", "", 85.0, ""),            # a percentage in the contract
        ("1", 2024, "X1", "", "inspection", "", "city", ""),      # leading zeros dropped
        ("002", 2024, "A1", "", "self", "", "9.5e0", ""),         # e-notation (not a whole count)
        ("003", 2024, "A1", "", "self", "", "1E1", ""),           # e-notation
        ("003", 2024, "A7", "", "self", "", "省\x07级", ""),       # a control character
        (None, None, None, None, None, None, None, None),         # an empty row
        ("005", 2024, "A1", "", "self", "", 61.0, "记录"),          # implausible, with evidence
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_a_table_with_every_kind_of_problem_reads_the_same_both_ways(registry):
    frame = _planted()
    got, reference = _both(lambda: read_frame(frame, MINI, registry, None))
    _same(got, reference)
    kinds = {p.kind for p in got.problems}
    assert {"duplicate", "conflict", "unknown_school", "inactive_school", "implausible", "not_needed",
            "out_of_range", "control_character", "wrong_type"} <= kinds
    assert len(got.observations) > 20  # most rows clean, kept in bulk


def test_a_table_without_registry_and_a_year_reads_the_same_both_ways():
    frame = _planted()
    got, reference = _both(lambda: read_frame(frame, MINI, None, 2024))
    _same(got, reference)
    assert any(p.kind == "wrong_year" for p in got.problems)


def test_the_demo_county_and_its_messy_copy_read_the_same_both_ways(tmp_path):
    fw = load_framework()
    registry = load_registry(demo_registry_path())
    got, reference = _both(lambda: read_observations(demo_observation_paths(), fw, registry))
    _same(got, reference)
    assert not got.errors
    make_messy_copy(DEMO_DATA_DIR, tmp_path, fw)
    messy = sorted(str(p) for p in tmp_path.iterdir() if p.suffix in (".csv", ".xlsx"))
    got, reference = _both(lambda: read_observations(messy, fw, registry))
    _same(got, reference)
    assert got.problems and len(got.normalisations)


def test_a_long_csv_with_problems_reads_the_same_both_ways(tmp_path, registry):
    path = tmp_path / "obs.csv"
    path.write_text(
        "学校编号,学校名称,年度,指标编号,子项,来源,评分人,值,佐证材料\n"
        "001,城关一小,2024,A1,,实地核查,,12,学习记录\n"
        "002,城关第二小学,2024,A1,,实地核查,,13,\n"      # a name that differs from the registry
        " 003,城关三小,2024,a1,,inspection,,14,\n"      # spaces and lower case: normalised
        "005,白鹤小学,2024,A2,,实地核查,,85,\n"
        "005,白鹤小学,2024,A2,,自评,,90,\n"
        "\n"
        "001,城关一小,2024,A6,,实地核查,R1,好,\n"
        "001,城关一小,2024,A6,,实地核查,R2,B,\n"
        "001,城关一小,2024,A1,,实地核查,,12,\n",       # a duplicate
        encoding="utf-8",
    )
    got, reference = _both(lambda: read_observations([path], MINI, registry, year=2024))
    _same(got, reference)
