"""The command line, run as evaluators run it (``python -m evalkit.cli …`` in a subprocess)."""

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
    return subprocess.run([sys.executable, "-m", "evalkit.cli", *args], capture_output=True, text=True)


def test_framework_check_passes_on_the_shipped_framework():
    out = evalkit("framework", "check", "shiquan-party-building")
    assert out.returncode == 0
    assert "37 项指标" in out.stdout and "满分 100 分" in out.stdout


def test_framework_check_lists_every_problem_with_its_path_and_exits_non_zero(tmp_path):
    data = yaml.safe_load(builtin_framework_path().read_text(encoding="utf-8"))
    data["areas"][0]["indicators"][1]["id"] = "A1"  # duplicate id
    data["areas"][1]["indicators"][0]["rule"]["name"] = "nonsense"  # unknown rule
    data["areas"][0]["indicators"][0]["rule"]["params"]["target"] = "twelve"  # wrong type
    data["grades"][1]["max"] = 85  # gap 85–90
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = evalkit("framework", "check", str(broken))
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


def evalkit_cli_score(files: list[str], output: Path) -> subprocess.CompletedProcess:
    return evalkit("score", *files, "-r", str(demo_registry_path()), "-o", str(output))


def test_score_refuses_the_messy_copy_with_every_error_located():
    messy = sorted((DEMO_DATA_DIR / "messy").glob("*.xlsx"))
    out = evalkit("score", *map(str, messy), "-r", str(demo_registry_path()))
    assert out.returncode == 1
    assert "单元格 J6" in out.stderr and "为负数" in out.stderr
    assert "不在学校名册中" in out.stderr and "重复" in out.stderr


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_score_writes_a_table_evaluators_can_open(tmp_path, suffix):
    target = tmp_path / f"results{suffix}"
    out = evalkit_cli_score([str(demo_observation_paths(2024)[0])], target)
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(target) if suffix == ".csv" else pd.read_excel(target, sheet_name="学校")
    assert len(table) > 0


def test_demo_prints_the_county_table():
    out = evalkit("demo")
    assert out.returncode == 0, out.stderr
    assert "2024 年评价结果（48 所学校）" in out.stdout
    assert "等次分布：好" in out.stdout
