"""Intake readings added after the first release: numbers in e-notation (issue 21) and bare
rates whose column reading puts them far from the rest of their column (issue 20)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalkit.framework import load_framework
from evalkit.intake import read_observations
from evalkit.intake.registry import load_registry

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
MINI = load_framework(FIXTURES / "mini-framework.yaml")
REGISTRY_CSV = "学校编号,学校名称\n001,城关一小\n002,城关二小\n003,城关三小\n004,石门小学\n005,白鹤小学\n"


@pytest.fixture
def registry(tmp_path) -> pd.DataFrame:
    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY_CSV, encoding="utf-8")
    return load_registry(path)


def test_numbers_in_e_notation_are_read_and_the_reading_is_logged(tmp_path, registry):
    # pandas writes 9.2e-06 for 0.0000092 and Python 1e+03 for 1000.0; both are numbers
    path = tmp_path / "obs.csv"
    path.write_text(
        "学校编号,年度,指标编号,子项,来源,值\n"
        "001,2024,A1,,实地核查,1E1\n"      # 10 times
        "001,2024,A2,,实地核查,9.2e-01\n"  # a fraction: 92 %
        "001,2024,C9,,测评,8.55e+01\n"     # 85.5 points
        "002,2024,A1,,实地核查,1e400\n",   # beyond a float: refused with its cell
        encoding="utf-8",
    )
    result = read_observations([path], MINI, registry, year=2024)
    values = result.observations.set_index("cell")["value"].to_dict()
    assert values == {"F2": 10.0, "F3": 0.92, "F4": 85.5}
    actions = result.normalisations.set_index("cell")["action"].to_dict()
    assert actions["F2"] == "科学计数法换算（1E1 → 10）"
    assert actions["F4"] == "科学计数法换算（8.55e+01 → 85.5）"
    bad = [p for p in result.errors if p.cell == "F5"]
    assert [(p.kind, p.school_id, p.indicator_id, p.value) for p in bad] == [("out_of_range", "002", "A1", "1e400")]
    assert "超出可表示的数值范围" in bad[0].message
