"""The school registry: CSV or XLSX, Chinese or English headers, ids kept as text, every
problem reported at once with its cell."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from openpyxl import Workbook

from evalkit.intake.registry import COLUMNS, RegistryError, active_schools, load_registry, read_registry

CN_HEADER = "学校编号,学校名称,学校类型,乡镇,学生数,教职工数,党员数,所属支部,起始年度,终止年度"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_csv_with_chinese_headers_and_bom_keeps_ids_as_text(tmp_path):
    path = tmp_path / "名册.csv"
    path.write_text(
        "\n".join(
            [
                CN_HEADER,
                "001,城关一小,小学,城关镇,1500,90,20,城关一小支部,2022,",
                "002, 城关二小 ,小学,城关镇,1200,80,15,城关二小支部,,2023",
                ",,,,,,,,,",
            ]
        )
        + "\n",
        encoding="utf-8-sig",
    )
    before = _sha(path)
    reg = load_registry(path)
    assert _sha(path) == before
    assert list(reg.columns) == COLUMNS
    assert reg["school_id"].tolist() == ["001", "002"]
    assert reg["school_name"].tolist() == ["城关一小", "城关二小"]
    assert str(reg["pupils"].dtype) == "Int64"
    assert reg["pupils"].tolist() == [1500, 1200]
    assert reg["active_from"].tolist()[0] == 2022 and pd.isna(reg["active_from"].tolist()[1])
    assert pd.isna(reg["active_to"].iloc[0]) and reg["active_to"].iloc[1] == 2023
    assert reg.attrs["issues"] == []


def test_xlsx_with_english_headers_and_numeric_ids_formatted_with_zeros(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "schools"
    ws.append(["School_ID", "school_name", "school_type", "township"])
    ws.append([1, "城关一小", "小学", "城关镇"])
    ws.append(["010", "城关十小", "小学", "城关镇"])
    ws["A2"].number_format = "000"
    path = tmp_path / "registry.xlsx"
    wb.save(path)
    reg, issues = read_registry(path)
    assert reg["school_id"].tolist() == ["001", "010"]
    # the optional columns are added empty, with one warning naming them
    assert [(i.kind, i.severity, i.row, i.detail) for i in issues] == [
        (
            "missing_column",
            "warning",
            1,
            "缺少列 学生数、教职工数、党员数、所属支部、起始年度、终止年度，这些列按空值处理"
            " / optional columns missing",
        ),
    ]
    assert reg["active_to"].isna().all()
    assert load_registry(path)["school_name"].tolist() == ["城关一小", "城关十小"]


def test_every_problem_is_reported_with_its_cell_in_one_pass(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "\n".join(
            [
                CN_HEADER,
                "001,城关一小,小学,城关镇,1500,90,20,支部,2022,",
                "001,城关二小,小学,城关镇,1200,80,15,支部,2022,",
                ",无编号小学,小学,城关镇,100,10,3,支部,2022,",
                "004,石门小学,小学,石门镇,很多,10,3,支部,2022,",
                "005,白鹤小学,小学,白鹤镇,300,-2,3,支部,2024,2022",
                "006,城关一小,小学,城关镇,300,20,3,支部,2022,",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    frame, issues = read_registry(path)
    assert [(i.kind, i.severity, i.cell, i.school_id) for i in issues] == [
        ("missing_school_id", "error", "A4", ""),
        ("wrong_type", "error", "E5", "004"),
        ("out_of_range", "error", "F6", "005"),
        ("out_of_range", "error", "J6", "005"),
        ("duplicate", "error", "A3", "001"),
        ("duplicate", "warning", "B7", "006"),
    ]
    assert issues[1].message == (
        "文件 bad.csv 单元格 E5：学校 004 石门小学 “学生数”的值“很多”不是整数 / not a whole number"
    )
    assert issues[4].detail == "学校编号重复：第 2 行已有编号 001 / duplicate id"
    with pytest.raises(RegistryError) as err:
        load_registry(path)
    assert len(err.value.errors) == 5
    assert "学校名册有 5 个错误" in str(err.value)
    assert frame is not None and len(frame) == 6  # rows with problems are kept for later checks


def test_missing_required_columns_and_unreadable_files(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("学校类型,乡镇\n小学,城关镇\n", encoding="utf-8")
    frame, issues = read_registry(path)
    assert frame is None
    assert [(i.kind, i.severity) for i in issues] == [("missing_column", "error")]
    assert "学校编号" in issues[0].detail

    path.write_text("学校编号,乡镇\n001,城关镇\n", encoding="utf-8")
    frame, issues = read_registry(path)
    assert frame is None
    assert [(i.kind, i.severity, i.expected) for i in issues if i.is_error] == [("missing_column", "error", "学校名称")]

    frame, issues = read_registry(tmp_path / "nope.csv")
    assert frame is None and [i.kind for i in issues] == ["unreadable_file"]
    (tmp_path / "r.ods").write_bytes(b"x")
    assert [i.kind for i in read_registry(tmp_path / "r.ods")[1]] == ["unreadable_file"]


def test_active_schools_by_year(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "\n".join(
            [
                "school_id,school_name,active_from,active_to",
                "001,一小,2022,",
                "002,二小,,2023",
                "003,三小,2024,",
            ]
        ),
        encoding="utf-8",
    )
    reg = load_registry(path)
    assert active_schools(reg, 2022)["school_id"].tolist() == ["001", "002"]
    assert active_schools(reg, 2024)["school_id"].tolist() == ["001", "003"]
