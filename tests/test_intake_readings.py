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


# -- a bare rate read against its column (issue 20) ------------------------------------------

# A2 三会一课完成率 is written as percentages (85, 92, 90); the inspector of 004 typed 0.95,
# meaning 95 %. The column's style reads it as 0.95 % (A2 ratio_times_max, 2 points: 0.019
# instead of 1.9), a value far below the column's others (85 %–92 %) while 95 % lies beside them.
RATES = (
    "学校编号,年度,指标编号,子项,来源,值\n"
    "001,2024,A2,,实地核查,85\n"
    "002,2024,A2,,实地核查,92\n"
    "003,2024,A2,,实地核查,90\n"
    "004,2024,A2,,实地核查,0.95\n"
    + "".join(f"00{i},2024,B1,,实地核查,是\n" for i in range(1, 5))
)
REGISTRY4 = "学校编号,学校名称\n001,城关一小\n002,城关二小\n003,城关三小\n004,石门小学\n"


def _rate_files(tmp_path):
    data = tmp_path / "2024_核查.csv"
    data.write_text(RATES, encoding="utf-8")
    reg = tmp_path / "名册.csv"
    reg.write_text(REGISTRY4, encoding="utf-8")
    return data, reg


def test_a_rate_read_far_from_its_column_is_a_warning_naming_its_cell(tmp_path):
    data, reg = _rate_files(tmp_path)
    result = read_observations([data], MINI, load_registry(reg), year=2024)
    warned = [p for p in result.warnings if p.kind == "unlikely_reading"]
    assert len(warned) == 1
    w = warned[0]
    assert (w.file, w.sheet, w.cell, w.school_id, w.indicator_id, w.value) == (str(data), "", "F5", "004", "A2", "0.95")
    assert w.message == (
        "文件 2024_核查.csv 单元格 F5：学校 004 石门小学 指标 A2 三会一课完成率 的值 0.95 按本列其他值"
        "（百分数，如 85、92、90）理解为 0.95%，远低于本列其他值（85%–92%）；若指 95%，请写“95%”；"
        "确为 0.95% 请写“0.95%”。此值会改变评分 / read as its column reads, far from the column's other values"
    )
    # read as the column reads (0.95 % = 0.0095), as before; only now it is said
    value = result.observations.set_index("cell").loc["F5", "value"]
    assert value == pytest.approx(0.0095)


def test_a_rate_inside_its_columns_range_is_not_warned_about(tmp_path):
    # 0.5 among 1.5, 2, 3 (a column of small percentages): 0.5 % lies nearer them than 50 %
    path = tmp_path / "obs.csv"
    path.write_text(
        "学校编号,年度,指标编号,来源,值\n001,2024,A2,实地核查,1.5\n002,2024,A2,实地核查,2\n"
        "003,2024,A2,实地核查,3\n004,2024,A2,实地核查,0.5\n",
        encoding="utf-8",
    )
    result = read_observations([path], MINI, None, year=2024)
    assert not [p for p in result.problems if p.kind == "unlikely_reading"]


def test_score_stops_on_the_reading_and_scores_with_the_flag_allowed(tmp_path, capsys):
    from evalkit.api import score_files
    from evalkit.cli.app import main

    data, reg = _rate_files(tmp_path)
    fw = str(FIXTURES / "mini-framework.yaml")
    assert main(["score", str(data), "-f", fw, "-r", str(reg)]) == 1
    err = capsys.readouterr().err
    assert "会改变评分的警告：比率读法与本列其他值不符（1 个）。核实无误后可用 --allow rate_readings" in err
    assert "单元格 F5：学校 004 石门小学 指标 A2 三会一课完成率 的值 0.95 按本列其他值" in err

    assert main(["score", str(data), "-f", fw, "-r", str(reg), "--allow", "rate_readings"]) == 0
    err = capsys.readouterr().err
    assert "已允许（--allow rate_readings）：文件 2024_核查.csv 单元格 F5" in err

    results = score_files([data], MINI, reg, allow=["rate_readings"])
    flag = results.flags[results.flags["kind"] == "rate_reading"]
    assert flag[["school_id", "year", "indicator_id"]].values.tolist() == [["004", 2024, "A2"]]
    assert flag["message"].iloc[0].endswith("（已允许 rate_readings，按本列读法评分）")
    assert results.meta["allowed"] == {"rate_readings": 1}
    # the county summary's data-quality table lists it (analysis.scoring_notes reads flags)
    from evalkit.analysis import scoring_notes

    notes = scoring_notes(results, 2024)
    mine = notes[(notes["school_id"] == "004") & (notes["indicator_id"] == "A2")]
    assert len(mine) == 1 and "理解为 0.95%" in mine["message"].iloc[0]
    # A2 ratio_times_max with 2 points, one decimal: 0.0095 × 2 = 0.019 → 0.0 (95 % would be 1.9)
    points = results.indicators.set_index(["school_id", "indicator_id"])["points"]
    assert points[("004", "A2")] == 0.0 and points[("002", "A2")] == pytest.approx(1.8)  # 0.92 × 2 = 1.84


def test_validate_prints_the_reading_and_that_it_stops_scoring(tmp_path, capsys):
    from evalkit.cli.app import main

    data, reg = _rate_files(tmp_path)
    assert main(["validate", str(data), "-f", str(FIXTURES / "mini-framework.yaml"), "-r", str(reg)]) == 0
    out = capsys.readouterr().out
    assert ("[警告] F5  学校 004 石门小学 指标 A2 三会一课完成率 的值 0.95 按本列其他值"
            "（百分数，如 85、92、90）理解为 0.95%") in out
    assert ("注意：1 个“比率读法与本列其他值不符”警告会改变评分，evalkit score / run 默认停止；"
            "核实无误后可加 --allow rate_readings（运行文件 allow: [rate_readings]）") in out
