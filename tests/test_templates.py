"""The fill-in workbook: its layout, and a filled workbook reading back through intake without loss."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from evalkit.demo import demo_observation_paths, demo_registry_path
from evalkit.framework import load_framework
from evalkit.intake import read_observations
from evalkit.intake.registry import load_registry
from evalkit.intake.template import build_template, cli_template, write_template
from evalkit.observations import COLUMNS, fingerprint

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
MINI = load_framework(FIXTURES / "mini-framework.yaml")
REGISTRY_CSV = "\n".join(
    [
        "学校编号,学校名称,学校类型,乡镇,起始年度,终止年度",
        "001,城关一小,小学,城关镇,2022,",
        "002,城关二小,小学,城关镇,2022,",
        "003,石门小学,小学,石门镇,2022,2023",
    ]
)


@pytest.fixture
def registry_path(tmp_path) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY_CSV + "\n", encoding="utf-8")
    return path


@pytest.fixture
def registry(registry_path) -> pd.DataFrame:
    return load_registry(registry_path)


def _header(ws) -> list:
    return [c.value for c in ws[1]]


def test_layout_of_an_inspection_workbook(tmp_path, registry):
    path = write_template(MINI, registry, 2024, tmp_path / "模板.xlsx", source="inspection")
    wb = load_workbook(path)
    assert wb.sheetnames == ["说明", "思想强基", "提质强能", "加分与否决", "核查评分", "_名册"]
    assert wb["_名册"].sheet_state == "hidden"  # the registry it was made from, for validate without -r
    meta = wb["说明"]
    assert [(meta.cell(r, 1).value, meta.cell(r, 2).value) for r in range(3, 8)] == [
        ("指标体系", "测试指标体系"),
        ("指标体系编号", "mini"),
        ("版本", "1"),
        ("年度", 2024),
        ("来源", "实地核查"),
    ]
    assert [dv.formula1 for dv in meta.data_validations.dataValidation] == ['"自评,实地核查"']

    a = wb["思想强基"]
    assert _header(a) == [
        "学校编号",
        "学校名称",
        "A1 理论学习中心组学习（次）",
        "A2 三会一课完成率（%）",
        "A6 德育机制落实",
        "A7 立德树人示范校",
        "B1 组织设置与按期换届",
        "A1 理论学习中心组学习 佐证材料",
        "A2 三会一课完成率 佐证材料",
        "A6 德育机制落实 佐证材料",
        "A7 立德树人示范校 佐证材料",
        "B1 组织设置与按期换届 佐证材料",
    ]
    # the registry's schools assessed that year (003 left in 2023), ids as text
    assert [[a.cell(r, 1).value, a.cell(r, 2).value] for r in (2, 3)] == [["001", "城关一小"], ["002", "城关二小"]]
    assert a.cell(4, 1).value is None and a["A2"].number_format == "@"
    assert a.freeze_panes == "C2"
    comment = a["C1"].comment.text
    assert comment.splitlines() == [
        "A1 理论学习中心组学习",
        "满分 4 分；填写：次数",
        "评分标准：应达到 12 次，每少 1 次扣 0.5 分，扣完为止（满分 4 分）",
        "说明：每年集中学习不少于 12 次。",
    ]
    rules = {str(dv.sqref): dv for dv in a.data_validations.dataValidation}
    assert {k: (v.type, v.operator, v.formula1, v.formula2) for k, v in rules.items()} == {
        "C2:C33": ("whole", "greaterThanOrEqual", "0", None),
        "D2:D33": ("decimal", "between", "0", "100"),
        "E2:E33": ("list", None, '"好,较好,一般,差"', None),
        "F2:F33": ("list", None, '"省级,市级,县级,无"', None),
        "G2:G33": ("list", None, '"是,否"', None),
    }

    c = wb["提质强能"]
    assert _header(c)[2:5] == [
        "C5 师德警示与违规：警示（次）",
        "C5 师德警示与违规：违规（次）",
        "C9 教职工民主测评（分）【测评】",
    ]
    assert "本列为测评数据。" in c["E1"].comment.text
    bonus = wb["加分与否决"]
    assert _header(bonus) == [
        "学校编号",
        "学校名称",
        "X1 党建工作荣誉",
        "V1 严重师德失范",
        "X1 党建工作荣誉 佐证材料",
        "V1 严重师德失范 佐证材料",
    ]
    assert {dv.formula1 for dv in bonus.data_validations.dataValidation} == {'"国家级,省级,市级,无"', '"是,否"'}
    assert _header(wb["核查评分"]) == ["学校编号", "学校名称", "指标编号", "子项", "评分人", "评分", "佐证材料"]


def test_a_self_assessment_workbook_has_no_survey_columns_and_no_inspectors_sheet(tmp_path, registry):
    wb = build_template(MINI, registry, 2024, source="self")
    assert wb.sheetnames == ["说明", "思想强基", "提质强能", "加分与否决", "_名册"]
    assert wb["说明"]["B7"].value == "自评"
    assert [h for h in _header(wb["提质强能"]) if h and h.startswith("C9")] == []


def test_the_same_inputs_give_the_same_bytes(tmp_path, registry):
    first = write_template(MINI, registry, 2024, tmp_path / "a.xlsx")
    second = write_template(MINI, registry, 2024, tmp_path / "b.xlsx")
    assert first.read_bytes() == second.read_bytes()
    assert not list(tmp_path.glob(".*"))


def _known_observations() -> pd.DataFrame:
    rows = [
        # school, indicator, item, source, rater, value, evidence
        ("001", "A1", "", "self", "", 13.0, "学习记录 13 次"),
        ("001", "A2", "", "self", "", 0.875, ""),
        ("001", "A6", "", "self", "", "A", ""),
        ("001", "A7", "", "self", "", "province", "省教育厅命名文件"),
        ("001", "B1", "", "self", "", 1.0, ""),
        ("001", "C5", "warning", "self", "", 0.0, ""),
        ("001", "C5", "violation", "self", "", 0.0, ""),
        ("001", "X1", "", "self", "", "city", "市委表彰"),
        ("002", "A1", "", "self", "", 9.0, ""),
        ("002", "A2", "", "self", "", 0.005, ""),  # half a percent
        ("002", "B1", "", "self", "", 0.0, ""),
        ("001", "A1", "", "inspection", "", 12.0, "核查记录"),
        ("001", "A2", "", "inspection", "", 1.0, ""),
        ("001", "A7", "", "inspection", "", "county", ""),
        ("001", "B1", "", "inspection", "", 1.0, ""),
        ("001", "C5", "warning", "inspection", "", 1.0, "家长投诉 1 次"),
        ("001", "C5", "violation", "inspection", "", 0.0, ""),
        ("001", "C9", "", "survey", "", 91.5, ""),
        ("001", "V1", "", "inspection", "", 0.0, ""),
        ("002", "A1", "", "inspection", "", 8.0, ""),
        ("002", "A2", "", "inspection", "", 0.01, ""),
        ("002", "C9", "", "survey", "", 77.25, ""),
        ("002", "X1", "", "inspection", "", "none", ""),
        ("002", "V1", "", "inspection", "", 1.0, "教师体罚学生，已查实"),
        ("001", "A6", "", "inspection", "R1", "A", "三个课堂联动"),
        ("001", "A6", "", "inspection", "R2", "B", ""),
        ("001", "A6", "", "inspection", "R3", "D", ""),
        ("002", "A6", "", "inspection", "R1", "C", ""),
        ("002", "C5", "warning", "inspection", "R1", 2.0, ""),
    ]
    frame = pd.DataFrame(rows, columns=["school_id", "indicator_id", "item", "source", "rater", "value", "evidence"])
    frame.insert(1, "year", 2024)
    return frame[COLUMNS]


def _canonical(obs: pd.DataFrame) -> pd.DataFrame:
    out = obs[COLUMNS].astype({c: str for c in COLUMNS if c not in ("year", "value")})
    out["value"] = out["value"].map(repr)
    return out.sort_values(COLUMNS).reset_index(drop=True)


def test_a_filled_template_reads_back_to_identical_observations(tmp_path, registry):
    known = _known_observations()
    self_path = write_template(MINI, registry, 2024, tmp_path / "自评.xlsx", source="self", observations=known)
    insp_path = write_template(MINI, registry, 2024, tmp_path / "核查.xlsx", source="inspection", observations=known)
    result = read_observations([self_path, insp_path], MINI, registry, year=2024)
    assert not result.errors, result.errors
    assert not result.unused_rows.size
    back = result.observations
    pd.testing.assert_frame_equal(_canonical(back), _canonical(known))
    assert fingerprint(back) == fingerprint(known)
    # the evaluator's view: percentages, Chinese labels, ½ % written unambiguously
    wb = load_workbook(self_path)
    a = wb["思想强基"]
    assert [a.cell(2, c).value for c in range(3, 8)] == [13, 87.5, "好", "省级", "是"]
    assert (a["D3"].value, a["D3"].number_format) == (0.005, "0.########%")
    assert a["H2"].value == "学习记录 13 次"
    marks = load_workbook(insp_path)["核查评分"]
    assert [c.value for c in marks[2]] == ["001", "城关一小", "A6", None, "R1", "好", "三个课堂联动"]
    assert [c.value for c in marks[6]] == ["002", "城关二小", "C5", "警示", "R1", 2, None]
    assert back.loc[back["sheet"] == "核查评分", "cell"].tolist() == ["F2", "F3", "F4", "F5", "F6"]


def test_the_demo_county_round_trips_through_its_templates(tmp_path):
    fw = load_framework()
    registry = load_registry(demo_registry_path())
    clean = read_observations(demo_observation_paths(2024), fw, registry, year=2024)
    obs = clean.observations
    paths = [
        write_template(fw, registry, 2024, tmp_path / f"{s}.xlsx", source=s, observations=obs)
        for s in ("self", "inspection")
    ]
    back = read_observations(paths, fw, registry, year=2024)
    assert back.problems == []
    pd.testing.assert_frame_equal(_canonical(back.observations), _canonical(obs))


def test_an_unfilled_template_reads_back_with_only_no_data_warnings(tmp_path, registry):
    fw = load_framework()
    path = write_template(fw, registry, 2024, tmp_path / "t.xlsx", source="inspection")
    result = read_observations(path, fw, registry, year=2024)
    assert [(p.kind, p.severity, p.sheet, p.cell, p.school_id) for p in result.problems] == [
        ("no_data", "warning", "思想强基", "A2", "001"),
        ("no_data", "warning", "思想强基", "A3", "002"),
    ]
    assert result.observations.empty
    unchosen = write_template(fw, registry, 2024, tmp_path / "u.xlsx")
    problems = read_observations(unchosen, fw, registry, year=2024).problems
    assert [(p.kind, p.sheet, p.cell) for p in problems if p.is_error] == [("missing_source", "说明", "B7")]


def test_observations_without_a_place_are_refused(registry):
    extra = pd.DataFrame(
        [["009", 2024, "A1", "", "self", "", 3.0, ""], ["001", 2024, "A6", "", "self", "R1", "A", ""]],
        columns=COLUMNS,
    )
    with pytest.raises(ValueError) as err:
        build_template(MINI, registry, 2024, source="self", observations=extra)
    assert str(err.value).splitlines() == [
        "2 observations have no place in the template:",
        "  009/A1/-/self/-: school not in the registry for 2024",
        "  001/A6/-/self/R1: marks of several raters go to the 核查评分 sheet (inspection)",
    ]
    with pytest.raises(ValueError):
        build_template(MINI, registry, 2024, observations=extra)  # a filled workbook needs its source


def test_cli_template(tmp_path, registry_path, capsys):
    out = tmp_path / "out" / "模板.xlsx"
    args = argparse.Namespace(
        files=[],
        framework=str(FIXTURES / "mini-framework.yaml"),
        registry=str(registry_path),
        year=2024,
        output=str(out),
    )
    assert cli_template(args) == 0
    assert "已生成填报模板" in capsys.readouterr().out
    assert load_workbook(out).sheetnames[0] == "说明"
    args.registry = None
    assert cli_template(args) == 2
    assert "--registry" in capsys.readouterr().err
