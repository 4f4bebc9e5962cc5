"""The command line: each command (``framework check``, ``score``, ``demo``) once as evaluators run it,
in a fresh process (``python -m evalkit.cli.app …``), the other cases in-process through
``evalkit.cli.app.main`` with the same arguments (same exit code, same stdout and stderr)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evalkit.demo import DEMO_DATA_DIR, demo_observation_paths, demo_registry_path
from evalkit.framework import builtin_framework_path


def evalkit(*args: str) -> subprocess.CompletedProcess:
    """``evalkit ARGS`` in a fresh process: imports, entry point and exit code as a shell sees them."""
    return subprocess.run([sys.executable, "-m", "evalkit.cli.app", *args], capture_output=True, text=True)


@pytest.fixture
def evalkit_here(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``evalkit ARGS`` in this process (``main(argv)``): the exit code, stdout and stderr as a
    ``CompletedProcess``, so the assertions read the same as for a fresh process."""
    from evalkit.cli.app import main

    def run(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["evalkit", *args], code, out, err)

    return run


def test_framework_check_passes_on_the_shipped_framework():
    out = evalkit("framework", "check", "shiquan-party-building")
    assert out.returncode == 0
    assert "37 项指标" in out.stdout and "满分 100 分" in out.stdout


def test_framework_check_lists_every_problem_with_its_path_and_exits_non_zero(tmp_path, evalkit_here):
    data = yaml.safe_load(builtin_framework_path().read_text(encoding="utf-8"))
    data["areas"][0]["indicators"][1]["id"] = "A1"  # duplicate id
    data["areas"][1]["indicators"][0]["rule"]["name"] = "nonsense"  # unknown rule
    data["areas"][0]["indicators"][0]["rule"]["params"]["target"] = "twelve"  # wrong type
    data["grades"][1]["max"] = 85  # gap 85–90
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = evalkit_here("framework", "check", str(broken))
    assert out.returncode == 1
    for path in ("areas[0].indicators[1].id", "areas[1].indicators[0].rule.name",
                 "areas[0].indicators[0].rule.params.target", "grades[1].max"):
        assert path in out.stderr
    assert "4 个问题" in out.stderr


def test_score_writes_results_that_match_the_library(tmp_path):
    import evalkit
    from evalkit.results import Results

    files = [str(p) for p in demo_observation_paths()]
    out = evalkit_cli_score(files, tmp_path / "scores")
    assert out.returncode == 0, out.stderr
    saved = Results.load(tmp_path / "scores")
    direct = evalkit.score_files(files, registry=demo_registry_path())
    pd.testing.assert_frame_equal(saved.schools, direct.schools, check_dtype=False)
    assert saved.meta["data_fingerprint"] == direct.meta["data_fingerprint"]


def evalkit_cli_score(files: list[str], output: Path, run=evalkit) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return run("score", *files, "-r", str(demo_registry_path()), "-o", str(output))


def test_score_refuses_the_messy_copy_with_every_error_located(evalkit_here):
    messy = sorted((DEMO_DATA_DIR / "messy").glob("*.xlsx"))
    out = evalkit_here("score", *map(str, messy), "-r", str(demo_registry_path()))
    assert out.returncode == 1
    assert "单元格 J6" in out.stderr and "为负数" in out.stderr
    assert "不在学校名册中" in out.stderr and "重复" in out.stderr


def test_score_xlsx_has_the_scoreboards_sheets_and_chinese_headers(tmp_path, evalkit_here):
    from openpyxl import load_workbook

    import evalkit
    from evalkit.publish.scoreboard import scoreboard_sheets

    target = tmp_path / "results.xlsx"
    out = evalkit_cli_score([str(demo_observation_paths(2024)[0])], target, evalkit_here)
    assert out.returncode == 0, out.stderr
    direct = evalkit.score_files([demo_observation_paths(2024)[0]], registry=demo_registry_path())
    board = scoreboard_sheets(direct, 2024)
    wb = load_workbook(target)
    assert wb.sheetnames == list(board)  # 总表, the five areas, 指标明细
    for name, sheet in board.items():
        headers = [c.value for c in wb[name][1]]
        assert headers == ["年度", *sheet.frame.columns]  # the scoreboard's headers, 年度 first
    total = pd.read_excel(target, sheet_name="总表", dtype={"学校编号": str})
    assert len(total) == 48 and set(total["年度"]) == {2024}
    expected = direct.schools.set_index("school_id")["total"]
    assert total.set_index("学校编号")["总分"].to_dict() == pytest.approx(expected.to_dict())


def test_score_csv_writes_the_indicator_detail_and_says_so(tmp_path, evalkit_here):
    target = tmp_path / "results.csv"
    out = evalkit_cli_score([str(demo_observation_paths(2024)[0])], target, evalkit_here)
    assert out.returncode == 0, out.stderr
    assert "只含“指标明细”表" in out.stdout and "共 1776 行" in out.stdout  # 48 schools × 37 indicators
    table = pd.read_csv(target, encoding="utf-8-sig", dtype={"学校编号": str})
    assert list(table.columns[:6]) == ["年度", "学校编号", "学校名称", "领域", "指标编号", "指标名称"]
    assert len(table) == 48 * 37 and table["得分"].dtype.kind == "f"


def test_demo_prints_the_county_table():
    out = evalkit("demo")
    assert out.returncode == 0, out.stderr
    assert "2024 年评价结果（48 所学校）" in out.stdout
    assert "等次分布：好" in out.stdout
