"""Intake: evaluators' CSV/XLSX (long and wide) → Observations; every normalisation recorded,
every problem reported with file, sheet and cell in one pass, input files never modified."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from evalkit.cli.validate import cli_validate
from evalkit.demo import DEMO_DATA_DIR, demo_observation_paths, demo_registry_path
from evalkit.demo.messy import make_messy_copy, messy_file_name
from evalkit.framework import load_framework
from evalkit.intake import IntakeError, read_observations
from evalkit.intake.registry import load_registry
from evalkit.observations import COLUMNS, PROVENANCE, fingerprint

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
MINI = load_framework(FIXTURES / "mini-framework.yaml")
REGISTRY_CSV = "\n".join(
    [
        "学校编号,学校名称,学校类型,乡镇,起始年度,终止年度",
        "001,城关一小,小学,城关镇,2022,",
        "002,城关二小,小学,城关镇,2022,",
        "003,城关三小,小学,城关镇,2022,",
        "004,石门小学,小学,石门镇,2022,2023",
        "005,白鹤小学,小学,白鹤镇,2022,",
        "006,柳溪小学,小学,柳溪镇,2022,",
    ]
)


@pytest.fixture
def registry(tmp_path) -> pd.DataFrame:
    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY_CSV + "\n", encoding="utf-8")
    return load_registry(path)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _brief(problems) -> list[tuple]:
    return [(p.kind, p.severity, p.sheet, p.cell, p.school_id, p.indicator_id) for p in problems]


def _workbook(path: Path, sheets: dict[str, list[list]], merged: dict[str, list[str]] | None = None) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
        for rng in (merged or {}).get(name, []):
            ws.merge_cells(rng)
    wb.save(path)
    return path


# -- messages ---------------------------------------------------------------------------------


def test_a_problem_names_file_sheet_cell_school_and_indicator_in_chinese(tmp_path, registry):
    path = _workbook(
        tmp_path / "2024.xlsx",
        {
            "思想强基": [
                ["青岚县 2024 年党建工作考核"],
                *[[] for _ in range(8)],
                ["学校编号", "学校名称", "A2 三会一课完成率（%）", "A1 理论学习中心组学习（次）"],
                ["002", "城关二小", 90, 12],
                ["003", "城关三小", 85, "十七"],
            ]
        },
    )
    result = read_observations(path, MINI, registry, year=2024, source="inspection")
    wrong = [p for p in result.problems if p.kind == "wrong_type"]
    assert [p.message for p in wrong] == [
        "文件 2024.xlsx 工作表 思想强基 单元格 D12：学校 003 城关三小 指标 A1 理论学习中心组学习 "
        "的值“十七”不是数字，应填写次数（如 17）"
    ]
    assert (wrong[0].value, wrong[0].expected, wrong[0].row) == ("十七", "次数（如 17）", 12)
    assert result.observations[["school_id", "indicator_id", "value", "cell"]].values.tolist() == [
        ["002", "A2", 0.9, "C11"],
        ["002", "A1", 12.0, "D11"],
        ["003", "A2", 0.85, "C12"],
    ]


# -- long format ---------------------------------------------------------------------------------

LONG_CSV = "\n".join(
    [
        "学校编号,年度,指标编号,子项,来源,评分人,值,佐证材料",
        "001,2024,A1,,实地核查,,17次,学习记录",  # 2: normalised
        "001,2024,A2,,inspection,,85,",  # 3: 85 → 0.85
        "001,2024,A1,,inspection,,12,",  # 4: duplicate of row 2
        "009,2024,A1,,inspection,,12,",  # 5: unknown school
        "002,2024,Z9,,inspection,,1,",  # 6: unknown indicator
        "002,2024,A1,,inspection,,-3,",  # 7: negative count
        "002,2024,A2,,inspection,,120%,",  # 8: ratio above 100%
        "002,2024,A6,,inspection,,E,",  # 9: rating E
        "002,2024,B1,,inspection,,也许,",  # 10: not yes/no
        ",,,,,,,",  # 11: empty row
        "002,2024,C5,,inspection,,1,",  # 12: sub-item missing
        "002,2024,C5,严重,inspection,,1,",  # 13: unknown sub-item
        "004,2024,A1,,inspection,,12,",  # 14: school not assessed in 2024
        "002,2023,A7,,inspection,,省级,",  # 15: another year
        "002,2024,A7,,家长,,省级,",  # 16: unknown source
        "003,2024,A1,,inspection,,75,",  # 17: implausible (plausible_max 60)
        "003,2024,V5,,inspection,,是,",  # 18: veto computed from C9
        "003,2024,X1,,inspection,,县级,",  # 19: level not scored for X1
        "002,2024,C5,警示,inspection,,1,",  # 20: fine
    ]
)


def test_long_csv_reports_every_problem_in_one_pass(tmp_path, registry):
    path = tmp_path / "obs.csv"
    path.write_text(LONG_CSV + "\n", encoding="utf-8")
    before = _sha(path)
    result = read_observations([path], MINI, registry, year=2024)
    assert _sha(path) == before
    assert _brief(result.problems) == [
        ("wrong_year", "error", "", "", "", ""),
        ("duplicate", "error", "", "G4", "001", "A1"),
        ("unknown_school", "error", "", "A5", "009", ""),
        ("unknown_indicator", "error", "", "C6", "002", "Z9"),
        ("out_of_range", "error", "", "G7", "002", "A1"),
        ("out_of_range", "error", "", "G8", "002", "A2"),
        ("out_of_range", "error", "", "G9", "002", "A6"),
        ("wrong_type", "error", "", "G10", "002", "B1"),
        ("invalid_item", "error", "", "D12", "002", "C5"),
        ("invalid_item", "error", "", "D13", "002", "C5"),
        ("inactive_school", "error", "", "A14", "004", ""),
        ("unknown_source", "error", "", "E16", "002", "A7"),
        ("implausible", "warning", "", "G17", "003", "A1"),
        ("not_needed", "warning", "", "G18", "003", "V5"),
        ("out_of_range", "error", "", "G19", "003", "X1"),
        # required indicators without a value, by the framework's missing-data policy
        ("missing_value", "warning", "", "", "001", "A6"),
        ("missing_value", "warning", "", "", "001", "A7"),
        ("missing_value", "error", "", "", "001", "B1"),
        ("missing_value", "warning", "", "", "001", "C5"),
        ("missing_value", "warning", "", "", "001", "C9"),
        ("missing_value", "warning", "", "", "002", "C9"),
        ("missing_value", "warning", "", "", "003", "A2"),
        ("missing_value", "warning", "", "", "003", "A6"),
        ("missing_value", "warning", "", "", "003", "A7"),
        ("missing_value", "error", "", "", "003", "B1"),
        ("missing_value", "warning", "", "", "003", "C5"),
        ("missing_value", "warning", "", "", "003", "C9"),
        # registry schools assessed in 2024 without any data: a warning here, which stops
        # evalkit score / run unless missing schools are allowed (evalkit.intake.gate)
        ("no_data", "warning", "", "", "005", ""),
        ("no_data", "warning", "", "", "006", ""),
    ]
    by_kind = {p.kind: p for p in result.problems}
    assert by_kind["duplicate"].message == (
        "文件 obs.csv 单元格 G4：学校 001 城关一小 指标 A1 理论学习中心组学习 与 单元格 G2 重复"
        "（同一学校、年度、指标、子项、来源、评分人），此值未使用 / duplicate"
    )
    assert by_kind["wrong_year"].detail.startswith("年度为 2023，与本次评价年度 2024 不符")
    assert by_kind["inactive_school"].detail.startswith("按学校名册 2024 年不参评（参评年度 2022–2023 年）")
    assert by_kind["not_needed"].detail.startswith("由相关指标自动判定")
    assert by_kind["implausible"].detail.startswith("的值 75 异常偏大（一般不超过 60次）")
    x1 = next(p for p in result.problems if p.indicator_id == "X1")
    assert x1.detail.startswith("的值“县级”不在计分的级别之内，只能填写 国家级、省级、市级、无")
    policies = {(p.indicator_id, p.severity): p.detail for p in result.problems if p.kind == "missing_value"}
    assert policies[("A2", "warning")].startswith("未填写；评分时该指标不计入，所在领域按其余指标重新折算权重")
    assert policies[("B1", "error")].startswith("未填写；按指标体系规定该指标缺数时无法评分")
    assert policies[("C9", "warning")].startswith("未填写；评分时该指标按 0 分计并标注")

    obs = result.observations
    assert list(obs.columns) == [*COLUMNS, *PROVENANCE]
    assert obs[["school_id", "indicator_id", "item", "source", "value", "evidence", "cell"]].values.tolist() == [
        ["001", "A1", "", "inspection", 17.0, "学习记录", "G2"],
        ["001", "A2", "", "inspection", 0.85, "", "G3"],
        ["003", "A1", "", "inspection", 75.0, "", "G17"],
        ["003", "V5", "", "inspection", 1.0, "", "G18"],
        ["002", "C5", "warning", "inspection", 1.0, "", "G20"],
    ]
    assert obs["year"].dtype == "int64" and (obs["year"] == 2024).all()
    assert (obs["file"] == str(path)).all() and (obs["sheet"] == "").all()
    # every row not used is listed with its reason
    unused = result.unused_rows
    assert unused["cell"].tolist() == [
        "G4",
        "G5",
        "G6",
        "G7",
        "G8",
        "G9",
        "G10",
        "A11",
        "G12",
        "G13",
        "G14",
        "G15",
        "G16",
        "G19",
    ]
    assert unused.set_index("cell").loc["A11", "reason"] == "空行，已跳过"
    assert unused.set_index("cell").loc["G5", "reason"] == "学校编号 009 不在名册中"
    assert len(result.errors) == 15 and len(result.warnings) == 14  # no_data (005, 006) are warnings


def test_normalisations_are_recorded_cell_by_cell(tmp_path, registry):
    path = tmp_path / "n.csv"
    path.write_text(
        "\n".join(
            [
                "school_id,year,indicator_id,item,source,rater,value,evidence",
                "001,2024年,a1,,自评,,１７ 次,",
                "1,2024,A2,,self,,85%,",
                "001,2024,A6,,self,,较好 ,",
                "001,2024,A7,,self,,省级,",
                "001,2024,B1,,self,,√,",
                "001,2024,C5,违规,self,,无,",
                "001,2024,C9,,survey,,92.5分,",
                "002,2024,B1,,self,,×,",
                "002,2024,A2,,self,,0.9,",
                "002,2024,A1,,self,,12,",
            ]
        ),
        encoding="utf-8",
    )
    result = read_observations(path, MINI, registry, year=2024)
    norm = result.normalisations
    assert norm[["cell", "school_id", "indicator_id", "original", "normalised", "action"]].values.tolist() == [
        ["B2", "001", "A1", "2024年", "2024", "去掉“年”字"],
        ["C2", "001", "A1", "a1", "A1", "改为大写"],
        ["E2", "001", "A1", "自评", "self", "“自评”记为 self"],
        ["G2", "001", "A1", "１７ 次", "17", "全角转半角；去掉单位“次”"],
        ["A3", "001", "", "1", "001", "按学校名册补齐前导零（1 → 001）"],
        ["G3", "001", "A2", "85%", "0.85", "百分数换算为小数（85% → 0.85）"],
        ["G4", "001", "A6", "较好 ", "B", "去掉首尾空格；“较好”记为 B（较好）"],
        ["G5", "001", "A7", "省级", "province", "“省级”记为 province（省级）"],
        ["G6", "001", "B1", "√", "1", "“√”记为 1（是）"],
        ["D7", "001", "C5", "违规", "violation", "“违规”记为 violation"],
        ["G7", "001", "C5", "无", "0", "“无”按 0 计"],
        ["G8", "001", "C9", "92.5分", "92.5", "去掉单位“分”"],
        ["G9", "002", "B1", "×", "0", "“×”记为 0（否）"],
        # a bare fraction in a rate column too short to decide its style: read as a fraction, logged
        ["G10", "002", "A2", "0.9", "0.9", "按小数理解（0.9 → 90%）"],
    ]
    values = result.observations.set_index(["school_id", "indicator_id"])["value"].to_dict()
    assert values == {
        ("001", "A1"): 17.0,
        ("001", "A2"): 0.85,
        ("001", "A6"): "B",
        ("001", "A7"): "province",
        ("001", "B1"): 1.0,
        ("001", "C5"): 0.0,
        ("001", "C9"): 92.5,
        ("002", "B1"): 0.0,
        ("002", "A2"): 0.9,
        ("002", "A1"): 12.0,
    }
    assert {p.kind for p in result.problems} == {"missing_value", "no_data"}  # nothing else is wrong


# -- wide workbooks ------------------------------------------------------------------------------

A_HEADER = [
    "学校编号",
    "学校名称",
    "A1 理论学习中心组学习（次）",
    "A2 三会一课完成率（%）",
    "A6 德育机制落实",
    "A7 立德树人示范校",
    "B1 组织设置与按期换届",
    "A1 理论学习中心组学习 佐证材料",
    "备注",
    "Q7 党员发展质量（人）",
]


def _bad_workbook(path: Path) -> Path:
    return _workbook(
        path,
        {
            "说明": [["指标体系编号", "mini"], ["年度", 2024], ["来源", "实地核查"]],
            "思想强基": [
                A_HEADER,
                ["001", "城关一小", "17次", "85%", "较好", "省级", "是", "学习记录  ", None, None],
                ["002 ", "城关二小", "３", 85, "好", "县级", "✓", None, "备注文字", 5],
                ["009", "不存在小学", 12, 0.9, "A", "无", "否"],
                [],
                ["003", "城关三小", "十七", 120, "E", "特级", "也许"],
                ["001", "城关一小", 12, 90, "好", "无", "是"],
                ["005", "白鹤小学", 12, 95, "好", "无", "是"],
                ["006", "错误名称", None, 80, "一般", "无", "否"],
            ],
            "加分与否决": [
                ["学校编号", "学校名称", "X1 党建工作荣誉", "V1 严重师德失范", "X1 党建工作荣誉 佐证材料"],
                ["001", "城关一小", "省级", "否", "省委组织部表彰文件"],
                ["002", "城关二小", "县级", None, None],
            ],
            "核查评分": [
                ["学校编号", "学校名称", "指标编号", "子项", "评分人", "评分", "佐证材料"],
                ["001", "城关一小", "A6", None, "R1", "好", None],
                ["001", "城关一小", "A6", None, "R2", "较好", "记录齐全"],
                ["002", "城关二小", "C5", "警示", "R1", 1, None],
            ],
            "草稿": [["随手记"], ["一些笔记"]],
        },
        merged={"思想强基": ["C8:C9"]},
    )


def test_wide_workbook_reports_every_problem_in_one_pass(tmp_path, registry):
    path = _bad_workbook(tmp_path / "核查.xlsx")
    before = _sha(path)
    result = read_observations(path, MINI, registry, year=2024)
    assert _sha(path) == before
    assert _brief(result.problems) == [
        ("unknown_column", "warning", "思想强基", "I1", "", ""),
        ("unknown_indicator", "error", "思想强基", "J1", "", "Q7"),
        ("conflict", "warning", "思想强基", "E2", "001", "A6"),  # and marks by R1, R2 in 核查评分
        ("unknown_school", "error", "思想强基", "A4", "009", ""),
        ("wrong_type", "error", "思想强基", "C6", "003", "A1"),
        ("out_of_range", "error", "思想强基", "D6", "003", "A2"),
        ("out_of_range", "error", "思想强基", "E6", "003", "A6"),
        ("out_of_range", "error", "思想强基", "F6", "003", "A7"),
        ("wrong_type", "error", "思想强基", "G6", "003", "B1"),
        ("duplicate", "error", "思想强基", "A7", "001", ""),
        ("merged_cells", "error", "思想强基", "C8", "", ""),
        ("school_name_mismatch", "warning", "思想强基", "A9", "006", ""),
        ("out_of_range", "error", "加分与否决", "C3", "002", "X1"),
        ("unrecognised_sheet", "warning", "草稿", "", "", ""),
        # not in the workbook's area sheets at all (the merged-away C9 and the invalid cells are
        # reported above, not again as missing)
        ("missing_value", "warning", "", "", "001", "C5"),
        ("missing_value", "warning", "", "", "001", "C9"),
        ("missing_value", "warning", "", "", "002", "C9"),
        ("missing_value", "warning", "", "", "003", "C5"),
        ("missing_value", "warning", "", "", "003", "C9"),
        ("missing_value", "warning", "", "", "005", "C5"),
        ("missing_value", "warning", "", "", "005", "C9"),
        ("missing_value", "warning", "", "", "006", "C5"),
        ("missing_value", "warning", "", "", "006", "C9"),
    ]


def test_wide_workbook_observations_unused_and_messages(tmp_path, registry):
    path = _bad_workbook(tmp_path / "核查.xlsx")
    result = read_observations(path, MINI, registry, year=2024)
    messages = {(p.sheet, p.cell): p.message for p in result.problems}
    assert messages[("思想强基", "A7")] == (
        "文件 核查.xlsx 工作表 思想强基 单元格 A7：学校 001 城关一小 在第 2 行已出现，"
        "第 7 行重复（A1、A2、A6、A7、B1 共 5 项），重复行的值未使用 / duplicate row"
    )
    assert messages[("思想强基", "C8")].startswith(
        "文件 核查.xlsx 工作表 思想强基 单元格 C8：单元格 C8:C9 是合并单元格：值“12”只计入 C8，C9 将按未填处理"
    )
    assert messages[("思想强基", "J1")] == (
        "文件 核查.xlsx 工作表 思想强基 单元格 J1：指标 Q7 不在指标体系中（列“Q7 党员发展质量（人）”），"
        "该列未读取 / unknown indicator"
    )
    assert messages[("思想强基", "A9")].startswith(
        "文件 核查.xlsx 工作表 思想强基 单元格 A9：学校 006 柳溪小学 表中学校名称“错误名称”与名册“柳溪小学”不一致"
    )
    obs = result.observations
    got = obs[["sheet", "cell", "school_id", "indicator_id", "item", "source", "rater", "value", "evidence"]]
    assert got.values.tolist() == [
        ["思想强基", "C2", "001", "A1", "", "inspection", "", 17.0, "学习记录"],
        ["思想强基", "D2", "001", "A2", "", "inspection", "", 0.85, ""],
        ["思想强基", "E2", "001", "A6", "", "inspection", "", "B", ""],
        ["思想强基", "F2", "001", "A7", "", "inspection", "", "province", ""],
        ["思想强基", "G2", "001", "B1", "", "inspection", "", 1.0, ""],
        ["思想强基", "C3", "002", "A1", "", "inspection", "", 3.0, ""],
        ["思想强基", "D3", "002", "A2", "", "inspection", "", 0.85, ""],
        ["思想强基", "E3", "002", "A6", "", "inspection", "", "A", ""],
        ["思想强基", "F3", "002", "A7", "", "inspection", "", "county", ""],
        ["思想强基", "G3", "002", "B1", "", "inspection", "", 1.0, ""],
        ["思想强基", "C8", "005", "A1", "", "inspection", "", 12.0, ""],
        ["思想强基", "D8", "005", "A2", "", "inspection", "", 0.95, ""],
        ["思想强基", "E8", "005", "A6", "", "inspection", "", "A", ""],
        ["思想强基", "F8", "005", "A7", "", "inspection", "", "none", ""],
        ["思想强基", "G8", "005", "B1", "", "inspection", "", 1.0, ""],
        ["思想强基", "D9", "006", "A2", "", "inspection", "", 0.8, ""],
        ["思想强基", "E9", "006", "A6", "", "inspection", "", "C", ""],
        ["思想强基", "F9", "006", "A7", "", "inspection", "", "none", ""],
        ["思想强基", "G9", "006", "B1", "", "inspection", "", 0.0, ""],
        ["加分与否决", "C2", "001", "X1", "", "inspection", "", "province", "省委组织部表彰文件"],
        ["加分与否决", "D2", "001", "V1", "", "inspection", "", 0.0, ""],
        ["核查评分", "F2", "001", "A6", "", "inspection", "R1", "A", ""],
        ["核查评分", "F3", "001", "A6", "", "inspection", "R2", "B", "记录齐全"],
        ["核查评分", "F4", "002", "C5", "warning", "inspection", "R1", 1.0, ""],
    ]
    unused = result.unused_rows.set_index(["sheet", "cell"])["reason"].to_dict()
    assert unused == {
        ("思想强基", "I3"): "无法识别的列“备注”",
        ("思想强基", "J3"): "指标编号 Q7 不存在",
        ("思想强基", "C4"): "学校编号 009 不在名册中",
        ("思想强基", "D4"): "学校编号 009 不在名册中",
        ("思想强基", "E4"): "学校编号 009 不在名册中",
        ("思想强基", "F4"): "学校编号 009 不在名册中",
        ("思想强基", "G4"): "学校编号 009 不在名册中",
        ("思想强基", "A5"): "空行，已跳过",
        ("思想强基", "C6"): "值“十七”不是数字，应填写次数（如 17）",
        ("思想强基", "D6"): "值 120 超过 100%，比率应在 0–100% 之间",
        ("思想强基", "E6"): "值“E”不是有效的评定等级，应填写好、较好、一般、差（或 A、B、C、D）",
        ("思想强基", "F6"): "值“特级”不是有效的级别，应填写国家级、省级、市级、县级 或 无",
        ("思想强基", "G6"): "值“也许”不是“是/否”，应填写 是 或 否",
        ("思想强基", "C7"): "与 单元格 C2 重复",
        ("思想强基", "D7"): "与 单元格 D2 重复",
        ("思想强基", "E7"): "与 单元格 E2 重复",
        ("思想强基", "F7"): "与 单元格 F2 重复",
        ("思想强基", "G7"): "与 单元格 G2 重复",
        ("思想强基", "C9"): "合并单元格中被遮盖的单元格",
        ("加分与否决", "C3"): "值“县级”不在计分的级别之内，只能填写 国家级、省级、市级、无（其他级别请填“无”）",
        ("草稿", ""): "无法识别的工作表，未读取",
    }
    norm = result.normalisations.set_index(["sheet", "cell"])["action"].to_dict()
    assert norm[("思想强基", "A3")] == "去掉首尾空格"
    assert norm[("思想强基", "C2")] == "去掉单位“次”"
    assert norm[("思想强基", "C3")] == "全角转半角"
    assert norm[("思想强基", "D3")] == "按百分数理解（85 → 0.85）"
    assert norm[("思想强基", "G3")] == "“✓”记为 1（是）"
    assert norm[("说明", "B3")] == "“实地核查”记为 inspection"
    with pytest.raises(IntakeError) as err:
        result.raise_if_errors()
    assert len(err.value.errors) == 10
    assert "评价数据有 10 个错误" in str(err.value)


def test_workbook_level_problems(tmp_path, registry):
    unchosen = _workbook(
        tmp_path / "unchosen.xlsx",
        {"说明": [["年度", 2024], ["来源", None]], "思想强基": [A_HEADER[:3], ["001", "城关一小", 12]]},
    )
    no_year = _workbook(tmp_path / "no_year.xlsx", {"Sheet": [A_HEADER[:3], ["001", "城关一小", 12]]})
    long_cols = tmp_path / "cols.csv"
    long_cols.write_text("学校编号,指标编号\n001,A1\n", encoding="utf-8")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("学校编号,年度,指标编号,来源,值\n001,2024,A1,自评,12\n".encode("gbk"))
    result = read_observations(
        [unchosen, no_year, long_cols, gbk, tmp_path / "missing.xlsx", tmp_path / "x.ods"], MINI, registry
    )
    assert [(Path(p.file).name, p.kind, p.severity, p.sheet, p.cell) for p in result.problems if p.file] == [
        ("unchosen.xlsx", "missing_source", "error", "说明", "B2"),
        ("no_year.xlsx", "missing_year", "error", "Sheet", ""),
        ("no_year.xlsx", "missing_source", "error", "Sheet", ""),
        ("cols.csv", "missing_column", "error", "", ""),
        ("gbk.csv", "encoding", "warning", "", ""),
        ("missing.xlsx", "unreadable_file", "error", "", ""),
        ("x.ods", "unreadable_file", "error", "", ""),
    ]
    assert result.observations[["school_id", "indicator_id", "source", "value"]].values.tolist() == [
        ["001", "A1", "self", 12.0]
    ]
    assert result.unused_rows["reason"].tolist() == [
        "年度或来源无法确定",
        "年度或来源无法确定",
        "工作表缺少必需的列：值（value）",
    ]


def test_without_a_registry_school_ids_are_not_checked(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("school_id,year,indicator_id,source,value\n777,2024,A1,self,12\n", encoding="utf-8")
    result = read_observations(path, MINI)
    assert result.observations["school_id"].tolist() == ["777"]
    assert {p.kind for p in result.problems} == {"missing_value"}


# -- the command line -----------------------------------------------------------------------------


def test_cli_validate_prints_grouped_problems_writes_a_sortable_report_and_exits_1(tmp_path, registry, capsys):
    data = _bad_workbook(tmp_path / "核查.xlsx")
    reg = tmp_path / "registry.csv"
    report = tmp_path / "out" / "问题.xlsx"
    args = argparse.Namespace(
        files=[str(data)],
        framework=str(FIXTURES / "mini-framework.yaml"),
        registry=str(reg),
        year=2024,
        output=str(report),
    )
    assert cli_validate(args) == 1
    out = capsys.readouterr().out
    assert f"== 文件 {data} ==" in out
    assert "  -- 工作表 思想强基 --\n    [警告] I1  无法识别的列“备注”，其中的数据未读取 / unrecognised column" in out
    assert "    [错误] C6  学校 003 城关三小 指标 A1 理论学习中心组学习 的值“十七”不是数字，应填写次数（如 17）" in out
    assert "== 汇总检查 ==" in out
    assert "合计：错误 10 个，警告 14 个；读入观测 24 条" in out
    wb = load_workbook(report)
    assert wb.sheetnames == ["问题", "规范化记录", "未使用数据"]
    ws = wb["问题"]
    assert [c.value for c in ws[1]] == [
        "严重程度",
        "类别",
        "文件",
        "工作表",
        "单元格",
        "行",
        "列",
        "学校编号",
        "学校名称",
        "指标编号",
        "指标名称",
        "填写值",
        "应为",
        "说明",
    ]
    assert ws.auto_filter.ref == "A1:N25"  # the registry's warning first
    assert [c.value for c in ws[7]][:10] == [
        "错误",
        "类型错误",
        "核查.xlsx",
        "思想强基",
        "C6",
        6,
        3,
        "003",
        "城关三小",
        "A1",
    ]
    assert not list(report.parent.glob(".*tmp*"))

    csv_report = tmp_path / "问题.csv"
    args.output = str(csv_report)
    assert cli_validate(args) == 1
    frame = pd.read_csv(csv_report, dtype=str, encoding="utf-8-sig")
    assert len(frame) == 24 and frame.loc[1, "单元格"] == "I1"


def test_cli_validate_exits_0_on_warnings_only(tmp_path, capsys):
    path = tmp_path / "ok.csv"
    path.write_text(
        "school_id,year,indicator_id,source,value\n001,2024,A1,self,12\n001,2024,B1,self,是\n", encoding="utf-8"
    )
    args = argparse.Namespace(
        files=[str(path)], framework=str(FIXTURES / "mini-framework.yaml"), registry=None, year=None, output=None
    )
    assert cli_validate(args) == 0
    out = capsys.readouterr().out
    assert "注意：未指定学校名册" in out and "合计：错误 0 个，警告 5 个" in out


# -- the demo county ------------------------------------------------------------------------------


def test_demo_csv_reads_clean_and_unchanged():
    fw = load_framework()
    registry = load_registry(demo_registry_path())
    path = demo_observation_paths(2024)[0]
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    result = read_observations(path, fw, registry, year=2024)
    assert result.problems == [] and result.unused_rows.empty
    # the only normalisations: a rate of 1 in a column of fractions is 100% (decided by the
    # column, logged with its cell); the value itself is unchanged
    norm = result.normalisations
    assert len(norm) > 0 and set(norm["original"]) == {"1"} and set(norm["normalised"]) == {"1"}
    assert norm["action"].str.startswith("按本列其他值（0–1 的小数").all()
    assert len(result.observations) == len(raw)
    assert result.observations["school_id"].tolist() == raw["school_id"].tolist()
    assert fingerprint(result.observations) == fingerprint(raw.assign(year=raw["year"].astype(int)))


def test_messy_demo_copy_every_mistake_is_reported_or_normalised(tmp_path):
    fw = load_framework()
    messes = make_messy_copy(DEMO_DATA_DIR, tmp_path, fw)
    year = max(int(p.stem.split("_")[1]) for p in DEMO_DATA_DIR.glob("observations_*.csv"))
    path = tmp_path / messy_file_name(year)
    result = read_observations(path, fw, load_registry(demo_registry_path()), year=year)
    problems = {(p.sheet, p.cell): p for p in result.problems}
    norm = result.normalisations.set_index(["sheet", "cell"])
    unused = result.unused_rows.set_index(["sheet", "cell"])
    assert {m.expect for m in messes} == {
        "normalised",
        "out_of_range",
        "unknown_school",
        "empty_row",
        "duplicate",
        "unknown_indicator",
    }
    for m in messes:
        if m.expect == "normalised":
            assert float(norm.loc[(m.sheet, m.cell), "normalised"]) * (100 if m.indicator_id == "A2" else 1) == (
                float(m.clean)
            ), m
        elif m.expect == "empty_row":
            assert unused.loc[(m.sheet, m.cell), "reason"] == "空行，已跳过"
        else:
            assert problems[(m.sheet, m.cell)].kind == m.expect, m
            assert problems[(m.sheet, m.cell)].is_error
    assert len(result.errors) == len([m for m in messes if m.expect not in ("normalised", "empty_row")])


def test_shipped_messy_copy_is_reproducible(tmp_path):
    shipped = DEMO_DATA_DIR / "messy"
    make_messy_copy(DEMO_DATA_DIR, tmp_path)
    for path in sorted(tmp_path.iterdir()):
        assert (shipped / path.name).read_bytes() == path.read_bytes(), path.name


def test_formulas_saved_without_their_values_are_reported(tmp_path, registry):
    path = _workbook(
        tmp_path / "f.xlsx",
        {"思想强基": [A_HEADER[:4], ["001", "城关一小", "=10+7", 90], ["002", "城关二小", 12, "=80+5"]]},
    )
    result = read_observations(path, MINI, registry, year=2024, source="self")
    wrong = [(p.cell, p.detail) for p in result.problems if p.kind == "wrong_type"]
    assert wrong == [
        ("C2", "是公式“=10+7”，但文件中没有保存计算结果；请用 Excel 打开并保存后再提交，或直接填写数值"),
        ("D3", "是公式“=80+5”，但文件中没有保存计算结果；请用 Excel 打开并保存后再提交，或直接填写数值"),
    ]
    assert result.observations["cell"].tolist() == ["D2", "C3"]


def test_data_of_another_year_is_reported_once_per_file_and_not_used(tmp_path, registry):
    path = _workbook(
        tmp_path / "2023.xlsx",
        {"说明": [["年度", 2023], ["来源", "自评"]], "思想强基": [A_HEADER[:4], ["001", "城关一小", 12, 90]]},
    )
    result = read_observations(path, MINI, registry, year=2024)
    assert [(p.kind, p.sheet, p.school_id, p.value, p.expected) for p in result.problems] == [
        ("wrong_year", "思想强基", "", "2023", "2024"),
        # so no school has 2024 data (a warning that stops score / run unless allowed)
        *[("no_data", "", sid, "2024", "") for sid in ("001", "002", "003", "005", "006")],
    ]
    assert (
        result.problems[0].detail
        == "年度为 2023，与本次评价年度 2024 不符，这些数据未使用 / not the year being assessed"
    )
    assert result.observations.empty
    assert result.unused_rows["reason"].tolist() == ["年度 2023 不是评价年度 2024"] * 2
