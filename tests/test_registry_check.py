"""``evalkit registry check`` and a template that remembers its registry and year."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from evalkit.cli.app import main
from evalkit.cli.validate import cli_validate
from evalkit.framework import load_framework
from evalkit.intake.registry import load_registry
from evalkit.intake.template import write_template
from evalkit.intake.workbook import embedded_registry
from evalkit.observations import COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
REGISTRY_CSV = "学校编号,学校名称,学校类型,乡镇,起始年度,终止年度\n001,城关一小,小学,城关镇,2022,\n" \
    "002,城关二小,小学,城关镇,2022,\n003,石门小学,小学,石门镇,2022,2023"

# five planted problems, one per row 3–7 (row 1 is the header, row 2 is clean)
PLANTED = "\n".join([
    "学校编号,学校名称,学校类型,乡镇,学生数,教职工数,党员数,所属支部,起始年度,终止年度",
    "001,桐溪中学,高中,城关镇,1200,90,30,桐溪中学党委,2020,",
    "2,桐溪一小,小学,城关镇,800,50,12,桐溪一小党支部,2020,",           # lost its leading zeros
    "003,桐溪职校,职校,城关镇,900,70,20,桐溪职校党支部,2020,",          # unknown school type
    "004,石桥初中,初中,石桥镇,500,40,10,石桥初中党支部,2023,2021",       # ends before it starts
    "001,石桥小学,小学,石桥镇,300,25,6,石桥小学党支部,2020,",           # duplicate id
    "005,石桥九年制学校,九年一贯制,石桥镇,600,45,11,石桥九年制党支部,24,",  # not a year
]) + "\n"


def test_registry_check_lists_all_five_problems_with_their_rows_and_exits_non_zero(tmp_path, capsys):
    path = tmp_path / "名册.csv"
    path.write_text(PLANTED, encoding="utf-8")
    assert main(["registry", "check", str(path)]) == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if "[错误]" in line]
    assert len(errors) == 5, out
    rows = [int(re.search(r"第 (\d+) 行", line).group(1)) for line in errors]
    assert rows == [3, 4, 5, 6, 7]
    assert "单元格 A3" in errors[0] and "前导零" in errors[0] and "“002”" in errors[0]
    assert "单元格 C4" in errors[1] and "学校类型“职校”" in errors[1]
    assert "单元格 J5" in errors[2] and "终止年度 2021 早于起始年度 2023" in errors[2]
    assert "单元格 A6" in errors[3] and "学校编号重复：第 2 行已有编号 001" in errors[3]
    assert "单元格 I7" in errors[4] and "24 不是四位数年份" in errors[4]
    assert "合计：6 所学校，错误 5 个" in out


def test_registry_check_passes_a_clean_registry(tmp_path, capsys):
    path = tmp_path / "名册.csv"
    path.write_text("\n".join(PLANTED.splitlines()[:2]) + "\n", encoding="utf-8")
    assert main(["registry", "check", str(path)]) == 0
    assert "没有发现问题：1 所学校" in capsys.readouterr().out


def _observations() -> pd.DataFrame:
    rows = [("001", "A1", 12.0), ("001", "B1", 1.0), ("002", "A1", 9.0), ("002", "B1", 0.0)]
    frame = pd.DataFrame([(s, 2024, i, "", "inspection", "", v, "") for s, i, v in rows], columns=COLUMNS)
    return frame


def _filled_template(tmp_path):
    registry_path = tmp_path / "registry.csv"
    registry_path.write_text(REGISTRY_CSV + "\n", encoding="utf-8")
    mini = load_framework(FIXTURES / "mini-framework.yaml")
    path = write_template(mini, load_registry(registry_path), 2024, tmp_path / "填报表.xlsx", source="inspection",
                          observations=_observations())
    # a typing mistake only a registry can catch: school 002's name changed by hand
    wb = load_workbook(path)
    wb["思想强基"]["B3"] = "城关第二小学"
    wb.save(path)
    return path


def test_validate_without_a_registry_uses_the_templates_own_registry_and_year(tmp_path, capsys):
    path = _filled_template(tmp_path)
    registry, year = embedded_registry(path)
    assert year == 2024 and registry["school_id"].tolist() == ["001", "002", "003"]
    args = argparse.Namespace(files=[str(path)], framework=str(FIXTURES / "mini-framework.yaml"), registry=None,
                              year=None, output=None)
    assert cli_validate(args) == 0  # a name differing from the registry is a warning
    out = capsys.readouterr().out
    assert "使用模板 填报表.xlsx 中保存的学校名册（3 所学校）和评价年度 2024" in out
    assert "未指定学校名册" not in out
    # the name is checked against the remembered registry (without one it could not be)
    assert "表中学校名称“城关第二小学”与名册“城关二小”不一致" in out


def test_a_registry_on_the_command_line_wins(tmp_path, capsys):
    path = _filled_template(tmp_path)
    other = tmp_path / "新名册.csv"
    other.write_text(REGISTRY_CSV.replace("城关二小", "城关第二小学") + "\n", encoding="utf-8")
    args = argparse.Namespace(files=[str(path)], framework=str(FIXTURES / "mini-framework.yaml"),
                              registry=str(other), year=2024, output=None)
    assert cli_validate(args) == 0
    out = capsys.readouterr().out
    assert "中保存的学校名册" not in out and "新名册.csv" in out
    assert "与名册“城关二小”不一致" not in out  # checked against the registry given, not the remembered one


def test_registry_check_names_an_id_whose_form_differs_from_the_rest(tmp_path, capsys):
    # issue 23: 601 typed among four-digit ids. Beside zero-padded ids it lost its zeros (an
    # error, as before); beside 1602, 1603, … its length alone differs (a warning); a letter id
    # among numeric ones differs in form (a warning). Each names its cell.
    padded = tmp_path / "名册甲.csv"
    padded.write_text("学校编号,学校名称\n0602,甲\n0603,乙\n0604,丙\n0605,丁\n601,戊\n", encoding="utf-8")
    assert main(["registry", "check", str(padded)]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "601" in x)
    assert "[错误] 第 6 行 单元格 A6" in line and "可能丢失了前导零" in line and "“0601”" in line
    assert "形式与其他编号不同" not in out  # reported once, as the error

    plain = tmp_path / "名册乙.csv"
    plain.write_text("学校编号,学校名称\n1602,甲\n1603,乙\n1604,丙\n1605,丁\n601,戊\nS12,己\n", encoding="utf-8")
    assert main(["registry", "check", str(plain)]) == 0  # warnings only
    out = capsys.readouterr().out
    warnings = [x for x in out.splitlines() if "[警告]" in x and "形式" in x]
    assert len(warnings) == 2, out
    assert warnings[0].startswith(
        "  [警告] 第 6 行 单元格 A6：学校 601 戊 学校编号“601”的形式与其他编号不同："
        "4 个编号为 4 位数字（如“1602”），此编号为 3 位数字，可能丢失了前导零（应为“0601”？）"
    )
    assert "第 7 行 单元格 A7" in warnings[1] and "学校编号“S12”" in warnings[1] and "形如 A99" in warnings[1]
    assert "合计：6 所学校，错误 0 个，警告 3 个" in out  # and the optional columns missing


def test_registry_check_says_nothing_of_form_without_a_clear_majority(tmp_path, capsys):
    path = tmp_path / "名册.csv"
    path.write_text("学校编号,学校名称\n12,甲\n123,乙\n1234,丙\nA1,丁\n", encoding="utf-8")
    main(["registry", "check", str(path)])
    assert "形式与其他编号不同" not in capsys.readouterr().out


def test_score_uses_the_templates_own_registry_as_validate_does(tmp_path, capsys):
    # issue 20: without -r, score read the template with no registry, so the name typed over
    # school 002's went unseen. Now the remembered registry checks it: a score-changing
    # warning that stops score, and scoring with it allowed names the registry's schools.
    path = _filled_template(tmp_path)
    fw = str(FIXTURES / "mini-framework.yaml")
    assert main(["score", str(path), "-f", fw]) == 1
    err = capsys.readouterr().err
    assert "使用模板 填报表.xlsx 中保存的学校名册（3 所学校）" in err
    assert "表中学校名称“城关第二小学”与名册“城关二小”不一致" in err
    assert "--allow name_mismatch" in err
    out_file = tmp_path / "结果.xlsx"
    assert main(["score", str(path), "-f", fw, "--allow", "name_mismatch,missing_schools", "-o", str(out_file)]) == 0
    sheets = pd.read_excel(out_file, sheet_name=None, dtype=str)
    first = next(iter(sheets.values()))
    assert "城关二小" in first.to_string() and "城关第二小学" not in first.to_string()
