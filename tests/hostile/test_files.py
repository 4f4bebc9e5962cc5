"""Hostile and office-made data files: each is read to the same values as the clean data, or
refused with one error that names the file and says what it is — never a traceback, never an
unbounded cost.

The reference for "the same values" is the bundled demo county (``src/evalkit/demo/data``): its
clean CSV and its messy inspection workbook (``messy/评价数据_2024_实地核查.xlsx``). Bombs run in
a fresh ``evalkit`` process whose peak resident memory is read with ``getrusage(RUSAGE_CHILDREN)``;
the 500 MB bound is a safety limit: before this change the zip bomb cost 3 GB and the stray cell
30 s and 2 GB. Tests do not time anything: the process must end with its expected exit status
(``run_evalkit`` kills it after 120 s, a guard against a hang whose exit status ``None`` fails the
test), and what each file costs in seconds is measured by ``benchmarks/bench_hostile_files.py``.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hostile_files import (
    DEMO,
    FIXTURES,
    demo_rows,
    entity_bomb_workbook,
    long_workbook,
    many_cells_workbook,
    messy_with_stray_last_cell,
    run_evalkit,
    stray_cell_workbook,
    unicode_text_export,
    write_csv,
    xlsx_to_xls,
    zip_bomb_workbook,
)

from evalkit.api import score_files
from evalkit.intake import read_observations
from evalkit.io.sheets import read_sheets

FW = "shiquan-party-building"
REGISTRY = DEMO / "registry.csv"
MESSY = DEMO / "messy" / "评价数据_2024_实地核查.xlsx"
SAFE_MB = 500
FIVE = {"001", "002", "003", "004", "005"}
Clean = tuple[Path, pd.DataFrame]


def _only_error(path: Path) -> str:
    """The one problem of a file that cannot be read: an error naming the file."""
    sheets, issues = read_sheets(path)
    assert sheets == []
    assert [(i.kind, i.severity, i.file) for i in issues] == [("unreadable_file", "error", str(path))]
    assert path.name in issues[0].message
    return issues[0].detail


def _totals(results) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return results.schools[["school_id", "year", "total", "grade"]].sort_values(["school_id", "year"]).reset_index(
        drop=True)


@pytest.fixture(scope="module")
def clean_five(tmp_path_factory: pytest.TempPathFactory) -> Clean:
    """Schools 001–005 of the demo's 2024 CSV, and their scores."""
    path = write_csv(tmp_path_factory.mktemp("clean") / "five.csv", demo_rows(2024, FIVE))
    return path, _totals(score_files([path], FW))


# --------------------------------------------------------------------------- formats offices produce


def test_xls_copy_of_the_messy_workbook_reads_exactly_as_the_xlsx(tmp_path: Path) -> None:
    xls = xlsx_to_xls(MESSY, tmp_path / "评价数据_2024_实地核查.xls")
    a = read_observations(MESSY, FW, REGISTRY, 2024)
    b = read_observations(xls, FW, REGISTRY, 2024)
    pd.testing.assert_frame_equal(a.observations.drop(columns="file"), b.observations.drop(columns="file"))
    pd.testing.assert_frame_equal(a.normalisations.drop(columns="file"), b.normalisations.drop(columns="file"))
    assert [(p.kind, p.sheet, p.cell) for p in a.problems] == [(p.kind, p.sheet, p.cell) for p in b.problems]
    assert len(b.observations) == 2244 and len(b.errors) == 5  # the messy copy's README lists 5 errors


def test_clean_xls_scores_to_the_clean_csv_totals(tmp_path: Path, clean_five: Clean) -> None:
    _csv_path, expected = clean_five
    xlsx = long_workbook(tmp_path / "five.xlsx", demo_rows(2024, FIVE))
    xls = xlsx_to_xls(xlsx, tmp_path / "five.xls")
    pd.testing.assert_frame_equal(_totals(score_files([xls], FW)), expected)


def test_unicode_text_export_scores_to_the_clean_csv_totals(tmp_path: Path, clean_five: Clean) -> None:
    csv_path, expected = clean_five
    txt = unicode_text_export(csv_path, tmp_path / "five.txt")
    assert txt.read_bytes()[:2] == b"\xff\xfe" and b"\t\x00" in txt.read_bytes()
    result = read_observations(txt, FW)
    assert result.problems == []
    pd.testing.assert_frame_equal(_totals(score_files([txt], FW)), expected)


def test_unicode_text_export_named_csv_reads_too(tmp_path: Path, clean_five: Clean) -> None:
    csv_path, expected = clean_five
    named_csv = unicode_text_export(csv_path, tmp_path / "five.csv")
    pd.testing.assert_frame_equal(_totals(score_files([named_csv], FW)), expected)


def test_gbk_tab_separated_text_reads_with_an_encoding_warning(tmp_path: Path, clean_five: Clean) -> None:
    _csv_path, expected = clean_five
    rows = demo_rows(2024, FIVE)
    rows[1][7] = "学习记录"  # Chinese text that is not UTF-8 in GBK
    path = tmp_path / "five.txt"
    path.write_bytes("\r\n".join("\t".join(r) for r in rows).encode("gbk"))
    result = read_observations(path, FW)
    assert [p.kind for p in result.problems] == ["encoding"]
    assert result.observations["evidence"].iloc[0] == "学习记录"
    pd.testing.assert_frame_equal(_totals(score_files([path], FW)), expected)


def test_xls_renamed_xlsx_is_read_with_a_warning_saying_what_it_is(tmp_path: Path, clean_five: Clean) -> None:
    _, expected = clean_five
    xls = xlsx_to_xls(long_workbook(tmp_path / "a.xlsx", demo_rows(2024, FIVE)), tmp_path / "a.xls")
    renamed = tmp_path / "数据.xlsx"
    renamed.write_bytes(xls.read_bytes())
    result = read_observations(renamed, FW)
    assert [(p.kind, p.severity) for p in result.problems] == [("file_type", "warning")]
    assert "数据.xlsx" in result.problems[0].message
    assert "扩展名是“.xlsx”，内容却是Excel 97-2003 工作簿（.xls）" in result.problems[0].detail
    pd.testing.assert_frame_equal(_totals(score_files([renamed], FW)), expected)


def test_xlsx_renamed_csv_is_read_as_the_workbook_it_is(tmp_path: Path, clean_five: Clean) -> None:
    _, expected = clean_five
    renamed = tmp_path / "数据.csv"
    renamed.write_bytes(long_workbook(tmp_path / "a.xlsx", demo_rows(2024, FIVE)).read_bytes())
    result = read_observations(renamed, FW)
    assert [(p.kind, p.severity) for p in result.problems] == [("file_type", "warning")]
    assert "内容却是Excel 工作簿（.xlsx）" in result.problems[0].detail
    pd.testing.assert_frame_equal(_totals(score_files([renamed], FW)), expected)


def test_tab_separated_gbk_text_named_xls_is_read_with_a_warning(tmp_path: Path, clean_five: Clean) -> None:
    # what many school-information systems export: text with an .xls name, so Excel opens it
    _, expected = clean_five
    path = tmp_path / "导出.xls"
    path.write_bytes("\r\n".join("\t".join(r) for r in demo_rows(2024, FIVE)).encode("gbk"))
    result = read_observations(path, FW)
    assert [(p.kind, p.severity) for p in result.problems] == [("file_type", "warning"), ("encoding", "warning")]
    assert "扩展名是“.xls”，内容却是文本（CSV）文件" in result.problems[0].detail
    pd.testing.assert_frame_equal(_totals(score_files([path], FW)), expected)


def test_csv_with_old_mac_line_endings_reads(tmp_path: Path, clean_five: Clean) -> None:
    _, expected = clean_five
    path = tmp_path / "mac.csv"
    path.write_bytes("\r".join(",".join(r) for r in demo_rows(2024, FIVE)).encode("utf-8"))
    pd.testing.assert_frame_equal(_totals(score_files([path], FW)), expected)


def test_cell_at_excels_size_limit_in_a_workbook_is_read(tmp_path: Path, clean_five: Clean) -> None:
    _, expected = clean_five
    rows = demo_rows(2024, FIVE)
    rows[1][7] = "证" * 32_767  # the most text an Excel cell holds
    path = long_workbook(tmp_path / "big.xlsx", rows)
    result = read_observations(path, FW)
    assert result.problems == [] and len(result.observations["evidence"].iloc[0]) == 32_767
    pd.testing.assert_frame_equal(_totals(score_files([path], FW)), expected)


def test_xls_number_formats_give_leading_zeros_and_merged_ranges_are_reported(tmp_path: Path) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("数据")
    for c, h in enumerate(["学校编号", "年度", "指标编号", "来源", "值"]):
        ws.write(0, c, h)
    ws.write(1, 0, 1, xlwt.easyxf(num_format_str="000"))  # 001 typed as a number, shown with its zeros
    for c, v in enumerate([2024, "A1", "self", 13], start=1):
        ws.write(1, c, v)
    ws.write_merge(2, 3, 0, 0, "002")  # 002 merged over two rows: the second row's id is hidden
    for r in (2, 3):
        for c, v in enumerate([2024, "A1" if r == 2 else "A2", "self", 12], start=1):
            ws.write(r, c, v)
    book.save(str(tmp_path / "ids.xls"))
    result = read_observations(tmp_path / "ids.xls", FW)
    assert result.observations["school_id"].iloc[0] == "001"
    merged = [p for p in result.problems if p.kind == "merged_cells"]
    assert [(p.sheet, p.cell) for p in merged] == [("数据", "A3")]


def test_password_protected_workbook_is_named_with_how_to_remove_the_password() -> None:
    detail = _only_error(FIXTURES / "encrypted.xlsx")
    assert detail.startswith("这是设有打开密码（已加密）的 Excel 工作簿，不是可读取的表格。")
    assert "用密码进行加密" in detail and "清空密码" in detail


def test_password_protected_workbook_renamed_xls_is_still_recognised(tmp_path: Path) -> None:
    renamed = tmp_path / "加密.xls"
    renamed.write_bytes((FIXTURES / "encrypted.xlsx").read_bytes())
    assert "设有打开密码" in _only_error(renamed)


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("表.xls", b"<html><body><table><tr><td>001</td></tr></table></body></html>", "网页（HTML）文件"),
        ("表.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF 文件"),
        ("表.xls", b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
         "Excel 2003 XML 表格"),
        ("表.csv", bytes(range(256)) * 4, "二进制文件（不是表格）"),
    ],
)
def test_other_files_named_like_tables_say_what_they_are(tmp_path: Path, name: str, content: bytes,
                                                         what: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert _only_error(path).startswith(f"这是{what}，不是可读取的表格。")


@pytest.mark.parametrize(
    ("members", "what", "advice"),
    [
        ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"},
         "OpenDocument 表格（.ods）", "另存为 → Excel 工作簿（*.xlsx）"),
        ({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}, "Word 文档（.docx）", "复制到 Excel"),
        ({"评价数据.xlsx": b"PK"}, "ZIP 压缩包", "请先解压"),
    ],
)
def test_zip_files_that_are_not_workbooks_say_what_they_are(tmp_path: Path, members: dict, what: str,
                                                             advice: str) -> None:
    path = tmp_path / "数据.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    detail = _only_error(path)
    assert detail.startswith(f"这是{what}，不是可读取的表格。") and advice in detail


def test_damaged_xlsx_is_one_error_naming_the_file(tmp_path: Path) -> None:
    good = long_workbook(tmp_path / "good.xlsx", demo_rows(2024, {"001"})).read_bytes()
    path = tmp_path / "截断.xlsx"
    path.write_bytes(good[: len(good) // 2])
    detail = _only_error(path)
    assert detail.startswith("这是不完整或已损坏的文件（开头像 .xlsx 工作簿，但无法解压），不是可读取的表格。")
    assert "文件可能没有复制或下载完整" in detail


def test_damaged_xls_is_one_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "坏.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert _only_error(path).startswith("这是Office 97-2003 文件（不是工作簿），不是可读取的表格。")


# --------------------------------------------------------------------------- files that are not data


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "空.csv").write_bytes(b"")
    assert _only_error(tmp_path / "空.csv") == "文件是空的，没有任何内容 / empty file"


def test_file_with_only_a_bom_and_blank_lines_is_empty(tmp_path: Path) -> None:
    (tmp_path / "空.csv").write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    assert _only_error(tmp_path / "空.csv") == "文件是空的，没有任何内容 / empty file"


def test_folder_passed_as_a_file(tmp_path: Path) -> None:
    (tmp_path / "数据.csv").mkdir()
    assert _only_error(tmp_path / "数据.csv").startswith("这是一个文件夹，不是文件")


def test_missing_file(tmp_path: Path) -> None:
    assert _only_error(tmp_path / "没有.csv") == "找不到文件 / file not found"


def test_text_file_with_an_unsupported_suffix(tmp_path: Path) -> None:
    (tmp_path / "数据.json").write_text('{"a": 1}', encoding="utf-8")
    assert _only_error(tmp_path / "数据.json").startswith("不支持的文件类型“.json”")


@pytest.mark.parametrize(
    ("content", "extra"),
    [("school_id,year,indicator_id,item,source,rater,value,evidence\n", []),
     ("姓名,电话\n张三,123\n", ["unrecognised_sheet"])],
    ids=["header_only", "unrelated_columns"],
)
def test_csv_without_data_is_an_error_naming_the_file(tmp_path: Path, content: str, extra: list[str]) -> None:
    path = tmp_path / "数据.csv"
    path.write_text(content, encoding="utf-8")
    result = read_observations(path, FW)
    assert sorted(p.kind for p in result.problems) == sorted(["empty_file", *extra])
    error = result.errors[0]
    assert error.kind == "empty_file" and error.file == str(path) and "数据.csv" in error.message


def test_csv_with_an_unclosed_quote_names_the_line_where_it_opens(tmp_path: Path) -> None:
    rows = demo_rows(2024, FIVE)
    lines = [",".join(r) for r in rows]
    lines[50] = '"' + lines[50]  # row 51: a quote that never closes swallows every later row
    path = tmp_path / "引号.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _only_error(path) == ("第 51 行有一个引号（\"）没有配对，其后的内容都会被读进同一个单元格；"
                                 "请删除或补齐这个引号后再读取 / unclosed quote")


def test_csv_with_a_stray_quote_after_a_quoted_value_is_read_as_excel_does(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('school_id,year,indicator_id,source,value,evidence\n001,2024,A1,self,13,"好"的\n',
                    encoding="utf-8")
    result = read_observations(path, FW)
    assert result.errors == [] and result.observations["evidence"].tolist() == ["好的"]


def test_registry_saved_as_xls_reads_as_the_csv(tmp_path: Path) -> None:
    import csv

    from evalkit.intake.registry import load_registry

    with REGISTRY.open(encoding="utf-8", newline="") as f:
        rows = [[int(v) if v.isdigit() and i >= 4 else v for i, v in enumerate(r)] for r in csv.reader(f)]
    xls = xlsx_to_xls(long_workbook(tmp_path / "名册.xlsx", rows), tmp_path / "名册.xls")
    pd.testing.assert_frame_equal(load_registry(xls), load_registry(REGISTRY))


# --------------------------------------------------------------------------- sizes and bombs


def test_one_megabyte_cell_in_a_csv_is_read(tmp_path: Path, clean_five: Clean) -> None:
    _, expected = clean_five
    rows = demo_rows(2024, FIVE)
    rows[1][7] = "证" * 1_000_000  # the evidence note of the first row
    path = write_csv(tmp_path / "big.csv", rows)
    result = read_observations(path, FW)
    assert result.problems == [] and len(result.observations["evidence"].iloc[0]) == 1_000_000
    pd.testing.assert_frame_equal(_totals(score_files([path], FW)), expected)


def test_one_megabyte_school_id_is_an_error_with_a_short_message(tmp_path: Path) -> None:
    rows = demo_rows(2024, FIVE)
    rows[2][0] = "9" * 1_000_000
    path = write_csv(tmp_path / "big.csv", rows)
    result = read_observations(path, FW, REGISTRY, 2024)
    bad = [p for p in result.errors if p.cell == "A3"]
    assert [p.kind for p in bad] == ["unknown_school"]
    assert len(bad[0].message) < 400 and "…（共 1000000 字）" in bad[0].message


def test_stray_formatted_cell_in_the_last_row_costs_nothing(tmp_path: Path) -> None:
    path = stray_cell_workbook(tmp_path / "stray.xlsx")
    sheets, issues = read_sheets(path)
    assert issues == [] and sheets[0].n_rows == 1 + len(demo_rows(2024, FIVE)) - 1
    run = run_evalkit("validate", str(path))
    assert run["rc"] == 0 and "读入观测 438 条" in run["out"] and run["err"] == ""
    assert run["rss_mb"] < SAFE_MB


def test_stray_value_in_the_last_row_is_reported_at_its_cell_within_bounds(tmp_path: Path) -> None:
    run = run_evalkit("validate", str(stray_cell_workbook(tmp_path / "stray.xlsx", "x")))
    assert run["rc"] == 1 and "Traceback" not in run["err"]
    assert "[错误] C1048576  学校 x 缺少指标编号" in run["out"] and "读入观测 438 条" in run["out"]
    assert run["rss_mb"] < SAFE_MB


def test_value_in_excels_last_cell_of_a_wide_sheet_changes_nothing_else(tmp_path: Path) -> None:
    path = messy_with_stray_last_cell(tmp_path / "messy.xlsx")
    a = read_observations(MESSY, FW, REGISTRY, 2024)
    b = read_observations(path, FW, REGISTRY, 2024)
    pd.testing.assert_frame_equal(a.observations.drop(columns="file"), b.observations.drop(columns="file"))
    before = [dataclasses.replace(p, file="") for p in a.problems]
    extra = [(p.kind, p.severity, p.sheet, p.cell) for p in b.problems if dataclasses.replace(p, file="") not in before]
    assert extra == [("unknown_column", "warning", "思想强基", "XFD1")]  # the value's column has no header
    assert len(b.problems) == len(a.problems) + 1
    stray = b.unused_rows[b.unused_rows["cell"] == "XFD1048576"]
    assert list(stray["reason"]) == ["该列没有表头"] and list(stray["value"]) == ["x"]
    run = run_evalkit("validate", str(path))  # 16,384 columns × 1,048,576 rows took over 280 s before
    assert run["rc"] == 1 and run["rss_mb"] < SAFE_MB


@pytest.mark.parametrize(("name", "megabytes", "limit"), [("大.xlsx", 201, 200), ("大.csv", 101, 100)])
def test_files_over_the_size_limit_are_refused_before_reading(tmp_path: Path, name: str, megabytes: int,
                                                               limit: int) -> None:
    path = tmp_path / name
    with path.open("wb") as f:
        f.truncate(megabytes * 2**20)  # sparse: costs no disk
    assert _only_error(path) == f"文件有 {megabytes} MB，超过上限 {limit} MB / file too large"


def test_csv_of_fifty_million_empty_fields_is_refused_within_bounds(tmp_path: Path) -> None:
    path = tmp_path / "commas.csv"
    path.write_bytes(b"school_id" + b"," * 50_000_000)
    run = run_evalkit("validate", str(path))
    assert run["rc"] == 1 and "Traceback" not in run["err"]
    assert "文件约有 50,000,001 个字段，超过上限 5,000,000" in run["out"]
    assert run["rss_mb"] < SAFE_MB


def test_zip_bomb_workbook_is_refused_within_bounds(tmp_path: Path) -> None:
    path = zip_bomb_workbook(tmp_path / "bomb.xlsx", megabytes=1024)
    assert path.stat().st_size < 1.2 * 2**20
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size > 2**30  # really inflates to 1 GB
    run = run_evalkit("validate", str(path))
    assert run["rc"] == 1 and "Traceback" not in run["err"]
    assert "工作簿解压后有 1,024 MB，超过上限 200 MB" in run["out"] and "bomb.xlsx" in run["out"]
    assert run["rss_mb"] < SAFE_MB


def test_workbook_with_over_a_million_cells_is_refused_within_bounds(tmp_path: Path) -> None:
    run = run_evalkit("score", str(many_cells_workbook(tmp_path / "cells.xlsx")))
    assert run["rc"] == 1 and "Traceback" not in run["err"]
    assert "cells.xlsx：工作簿的单元格超过 1,000,000 个" in run["err"]
    assert run["rss_mb"] < SAFE_MB


def test_xml_entity_bomb_in_a_workbook_is_refused_within_bounds(tmp_path: Path) -> None:
    run = run_evalkit("validate", str(entity_bomb_workbook(tmp_path / "lol.xlsx")))
    assert run["rc"] == 1 and "Traceback" not in run["err"]
    assert "无法作为Excel 工作簿（.xlsx）打开（EntitiesForbidden" in run["out"]
    assert run["rss_mb"] < SAFE_MB
