"""Hostile and messy inputs at the one data gate (issue 10 part A, issue 11 item 7).

Each case asserts its exact outcome: legitimate messy data scores to the same values as the
clean data; bad data is refused with its location (file, sheet, cell), through the commands'
exit codes and Chinese messages, never a traceback; what the run file or a flag allows is
printed and recorded in the Results.

The data is a four-school slice of the bundled demo county (2024), built once per module.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from openpyxl import load_workbook

from evalkit.api import score_files
from evalkit.cli.app import main
from evalkit.demo import demo_observation_paths, demo_registry_path
from evalkit.framework import FrameworkError, builtin_framework_path, load_framework
from evalkit.intake import GateError, ValidatedObservations, read_observations, read_validated
from evalkit.intake.registry import load_registry
from evalkit.intake.template import write_template
from evalkit.planner.runfile import RunFileError, load_run_file
from evalkit.planner.scores import score_run
from evalkit.results import Results
from evalkit.scoring import score

FW = load_framework()
SCHOOLS = ["004", "006", "021", "033"]
NAMES = {"004": "青岚县城关中学", "006": "石门中学", "021": "石门镇中心小学", "033": "柳溪镇红岩小学"}
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> SimpleNamespace:
    """Registry and 2024 observations (long CSV, demo contract) of four demo schools, and their
    clean scores."""
    d = tmp_path_factory.mktemp("county")
    reg = pd.read_csv(demo_registry_path(), dtype=str, keep_default_na=False)
    reg[reg["school_id"].isin(SCHOOLS)].to_csv(d / "registry.csv", index=False)
    obs = pd.read_csv(demo_observation_paths(2024)[0], dtype=str, keep_default_na=False)
    obs = obs[obs["school_id"].isin(SCHOOLS)].reset_index(drop=True)
    obs.to_csv(d / "obs.csv", index=False)
    clean = score_files([d / "obs.csv"], FW, d / "registry.csv")
    return SimpleNamespace(dir=d, registry=d / "registry.csv", obs=obs, path=d / "obs.csv", clean=clean)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def totals(results: Results) -> dict[str, tuple[float, str]]:
    s = results.schools
    return {r.school_id: (r.total, r.grade) for r in s.itertuples()}


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def first_row(obs: pd.DataFrame, school: str, indicator: str, source: str = "inspection") -> int:
    hit = obs[(obs["school_id"] == school) & (obs["indicator_id"] == indicator) & (obs["source"] == source)]
    return int(hit.index[0])


def cell_of(index: int, column: str = "G") -> str:
    """The CSV cell of a frame row (header in row 1)."""
    return f"{column}{index + 2}"


# --------------------------------------------------------------------------- the demo is unchanged


def test_demo_totals_and_grades_are_those_scored_before_the_gate():
    # tests/hostile/demo_scores_before_gate.csv: `evalkit demo` scoring (all years) at the commit
    # before the gate (9041dcd); the demo passes the gate without any allow flag
    before = pd.read_csv(HERE / "demo_scores_before_gate.csv", dtype={"school_id": str})
    results = score_files()
    now = results.schools[before.columns].sort_values(["year", "school_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(now, before, check_dtype=False)
    assert results.meta["allowed"] == {} and results.meta["missing_schools"] == []


def test_the_slice_passes_the_gate_clean(county):
    validated = read_validated([county.path], FW, load_registry(county.registry))
    assert isinstance(validated, ValidatedObservations)
    assert validated.intake.problems == [] and validated.allowed == {}
    assert sorted(totals(county.clean)) == SCHOOLS


# --------------------------------------------------------------------------- missing schools


def test_a_school_without_data_stops_score_with_its_name(county, tmp_path, capsys):
    path = write(county.obs[county.obs["school_id"] != "021"], tmp_path / "obs.csv")
    code, out, err = run_cli(capsys, "score", path, "-r", county.registry)
    assert code == 1
    assert "学校 021 石门镇中心小学 2024 年没有任何数据" in err
    assert "--allow-missing" in err and "Traceback" not in err + out
    # validate lists it as a warning and says that score / run will stop on it
    code, out, _ = run_cli(capsys, "validate", path, "-r", county.registry)
    assert code == 0 and "[警告] 学校 021 石门镇中心小学 2024 年没有任何数据" in out
    assert "注意：1 个“缺报学校（没有任何数据）”警告会改变评分，evalkit score / run 默认停止" in out


def test_allow_missing_scores_the_school_as_missing_report_unranked(county, tmp_path, capsys):
    path = write(county.obs[county.obs["school_id"] != "021"], tmp_path / "obs.csv")
    code, _out, err = run_cli(capsys, "score", path, "-r", county.registry, "--allow-missing", "-o", tmp_path / "s")
    assert code == 0
    assert "已允许（--allow-missing）" in err and "石门镇中心小学" in err
    r = Results.load(tmp_path / "s")
    assert sorted(r.schools["school_id"]) == ["004", "006", "033"]  # not ranked, not graded
    assert set(r.schools["n_schools"]) == {3}
    assert r.flags.loc[r.flags["kind"] == "missing_school", ["school_id", "year"]].values.tolist() == [["021", 2024]]
    assert r.meta["allowed"] == {"missing_schools": 1}
    assert r.meta["missing_schools"] == [{"school_id": "021", "school_name": "石门镇中心小学", "year": 2024}]
    # the others keep their clean totals (no quota in play for three schools)
    clean = totals(county.clean)
    assert {s: t for s, (t, _) in totals(r).items()} == {s: clean[s][0] for s in ("004", "006", "033")}


def test_missing_reports_are_listed_apart_for_the_county_summary(county, tmp_path):
    from evalkit import analysis

    path = write(county.obs[county.obs["school_id"] != "006"], tmp_path / "obs.csv")
    r = score_files([path], FW, county.registry, allow=["missing_schools"])
    missing = analysis.missing_reports(r, 2024)
    assert missing.values.tolist() == [["006", "石门中学", "缺报：未提交任何数据，不参加排名、不评定等次"]]
    assert "006" not in set(analysis.ranking(r, 2024)["school_id"])
    assert analysis.grade_distribution(r, 2024, FW.grade_order)["final"].sum() == 3
    assert "006" not in set(analysis.scoring_notes(r, 2024)["school_id"])


def test_run_stops_on_a_missing_school_unless_the_run_file_allows_it(county, tmp_path, capsys):
    path = write(county.obs[county.obs["school_id"] != "033"], tmp_path / "obs.csv")
    nb = tmp_path / "nb.ipynb"
    nb.write_text("{}", encoding="utf-8")
    run = tmp_path / "run.yaml"
    body = f"data: [{path}]\nregistry: {county.registry}\nnotebooks: {{county_summary: {nb}}}\noutput: out\n"
    run.write_text(body, encoding="utf-8")
    code, _out, err = run_cli(capsys, "run", run)
    assert code == 1 and "学校 033 柳溪镇红岩小学 2024 年没有任何数据" in err  # a data error: exit 1, as for score
    assert not (tmp_path / "out").exists()  # stopped before anything was written
    run.write_text(body + "allow: [missing_schools]\n", encoding="utf-8")
    _, results, _ = score_run(load_run_file(run), out=sys.stdout)
    assert "已允许（--allow-missing）" in capsys.readouterr().out
    assert "033" not in set(results.schools["school_id"]) and results.meta["allowed"] == {"missing_schools": 1}
    # and --allow-missing on the command line does the same as the run file
    run.write_text(body, encoding="utf-8")
    spec = load_run_file(run).with_options(allow=["missing_schools"])
    assert spec.allow == ("missing_schools",)
    assert score_run(spec)[1].meta["missing_schools"][0]["school_id"] == "033"


def test_an_unknown_allow_kind_is_refused_in_the_run_file_and_on_the_command_line(county, tmp_path, capsys):
    run = tmp_path / "run.yaml"
    nb = tmp_path / "nb.ipynb"
    nb.write_text("{}", encoding="utf-8")
    run.write_text(f"data: [{county.path}]\nnotebooks: {{county_summary: {nb}}}\nallow: [everything]\n",
                   encoding="utf-8")
    with pytest.raises(RunFileError) as err:
        load_run_file(run)
    assert "allow[0]" in str(err.value)
    code, _, err_text = run_cli(capsys, "score", county.path, "-r", county.registry, "--allow", "everything")
    assert code == 1 and "未知的 allow 类别" in err_text and "everything" in err_text


def test_a_school_with_only_empty_rows_is_a_missing_school_too(county, tmp_path, capsys):
    obs = county.obs.copy()
    obs.loc[obs["school_id"] == "004", "value"] = ""
    path = write(obs, tmp_path / "obs.csv")
    code, _, err = run_cli(capsys, "score", path, "-r", county.registry)
    assert code == 1 and "学校 004 青岚县城关中学 2024 年没有任何数据" in err
    r = score_files([path], FW, county.registry, allow=["missing_schools"])
    assert "004" not in set(r.schools["school_id"])


def test_a_school_missing_only_in_a_year_not_scored_does_not_stop_that_score(county, tmp_path, capsys):
    old = pd.read_csv(demo_observation_paths(2023)[0], dtype=str, keep_default_na=False)
    old = write(old[old["school_id"].isin(["004", "006", "033"])], tmp_path / "obs_2023.csv")  # no 021
    code, _out, err = run_cli(capsys, "score", old, county.path, "-r", county.registry)
    assert code == 1 and "学校 021 石门镇中心小学 2023 年没有任何数据" in err
    code, out, err = run_cli(capsys, "score", old, county.path, "-r", county.registry, "--year", "2024")
    assert code == 0 and "已允许" not in err and "（4 所学校）" in out


# --------------------------------------------------------------------------- one list of errors


def test_score_and_run_stop_with_the_same_errors_validate_lists(county, tmp_path, capsys):
    obs = county.obs.copy()
    bad = {first_row(obs, "004", "A1"): "十七", first_row(obs, "006", "A2"): "150", first_row(obs, "021", "B1"): "2"}
    for i, v in bad.items():
        obs.loc[i, "value"] = v
    path = write(obs, tmp_path / "obs.csv")
    code_v, out_v, _ = run_cli(capsys, "validate", path, "-r", county.registry)
    code_s, _, err_s = run_cli(capsys, "score", path, "-r", county.registry)
    assert code_v == 1 and code_s == 1
    errors = read_observations(path, FW, county.registry).errors
    assert sorted(p.cell for p in errors) == sorted(cell_of(i) for i in bad)
    for p in errors:
        assert p.message in err_s  # score lists every error validate reports, word for word
        assert p.statement in out_v
    with pytest.raises(GateError) as err:
        read_validated([path], FW, load_registry(county.registry))
    assert [p.message for p in err.value.errors] == [p.message for p in errors]


def test_the_command_line_refuses_without_a_traceback_in_a_fresh_process(county, tmp_path):
    path = write(county.obs[county.obs["school_id"] != "021"], tmp_path / "obs.csv")
    done = subprocess.run(
        [sys.executable, "-m", "evalkit.cli.app", "score", str(path), "-r", str(county.registry)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1
    assert "学校 021 石门镇中心小学 2024 年没有任何数据" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


# --------------------------------------------------------------------------- names against the registry


def filled_template(county, path: Path) -> Path:
    """The slice's inspection data in the fill-in workbook (wide: 学校编号, 学校名称, …)."""
    registry = load_registry(county.registry)
    obs = read_validated([county.path], FW, registry).frame
    return write_template(FW, registry, 2024, path, source="inspection", observations=obs)


def self_rows(county, tmp_path: Path) -> Path:
    """The slice's self-assessment rows (the inspection workbook holds inspection and survey)."""
    return write(county.obs[county.obs["source"] == "self"], tmp_path / "self.csv")


def template_results(county, tmp_path: Path) -> Results:
    """The slice scored from its inspection template plus its self-assessment rows."""
    others = self_rows(county, tmp_path)
    return score_files([filled_template(county, tmp_path / "clean.xlsx"), others], FW, county.registry)


def test_the_filled_template_scores_as_the_long_csv(county, tmp_path):
    assert totals(template_results(county, tmp_path)) == totals(county.clean)


def test_sorting_only_the_id_column_is_refused_even_when_names_are_allowed(county, tmp_path, capsys):
    path = filled_template(county, tmp_path / "sorted.xlsx")
    wb = load_workbook(path)
    for ws in wb.worksheets[1:]:
        if ws.title == "核查评分":
            continue
        ids = [ws.cell(r, 1).value for r in range(2, 2 + len(SCHOOLS))]
        for r, sid in enumerate(reversed(ids), start=2):  # Excel: "continue with the current selection"
            ws.cell(r, 1).value = sid
    wb.save(path)
    code, _out, err = run_cli(capsys, "score", path, "-r", county.registry, "--allow", "name_mismatch")
    assert code == 1 and "Traceback" not in err
    assert "学校编号列可能被单独排序" in err
    assert "学校编号 004 在名册中是“青岚县城关中学”，但这一行的学校名称“柳溪镇红岩小学”是名册中学校 033" in err
    result = read_observations(path, FW, county.registry, year=2024)
    rows = {(p.sheet, p.cell) for p in result.errors if p.kind == "school_name_mismatch" and p.cell}
    assert ("思想强基", "A2") in rows and ("思想强基", "A5") in rows
    assert result.observations.empty or not set(result.observations["sheet"]) & {"思想强基"}


def test_a_name_that_differs_from_the_registry_stops_unless_allowed(county, tmp_path, capsys):
    path = filled_template(county, tmp_path / "typo.xlsx")
    wb = load_workbook(path)
    ws = wb["思想强基"]
    assert ws["B3"].value == NAMES["006"]
    ws["B3"].value = "石门初级中学"
    wb.save(path)
    others = self_rows(county, tmp_path)
    code, _, err = run_cli(capsys, "score", path, others, "-r", county.registry)
    assert code == 1
    assert "工作表 思想强基 单元格 A3" in err and "“石门初级中学”与名册“石门中学”不一致" in err
    assert "--allow name_mismatch" in err
    r = score_files([path, others], FW, county.registry, allow=["name_mismatch"])
    assert totals(r) == totals(county.clean)
    assert r.meta["allowed"] == {"name_mismatch": 1}
    assert "intake:school_name_mismatch" in set(r.flags["kind"])


def test_a_long_csv_row_naming_another_school_is_refused(county, tmp_path, capsys):
    obs = county.obs.assign(school_name=county.obs["school_id"].map(NAMES))
    i = first_row(obs, "006", "A1")
    obs.loc[i, "school_name"] = NAMES["004"]
    path = write(obs, tmp_path / "named.csv")
    code, _, err = run_cli(capsys, "score", path, "-r", county.registry, "--allow", "name_mismatch")
    assert code == 1
    assert f"单元格 A{i + 2}" in err and "是名册中学校 004（青岚县城关中学）的名称" in err


# --------------------------------------------------------------------------- control characters


@pytest.mark.parametrize(
    ("column", "text", "shown"),
    [
        ("evidence", "支委会12次\x07", "支委会12次␇"),
        ("evidence", "会议\x00记录", "会议␀记录"),
        ("school_id", "0\u202e06", "0[U+202E]06"),
        ("rater", "R1\x1b[31m", "R1␛[31m"),
    ],
)
def test_control_characters_are_refused_with_their_cell(county, tmp_path, capsys, column, text, shown):
    obs = county.obs.copy()
    i = first_row(obs, "006", "A1")
    obs.loc[i, column] = text
    path = write(obs, tmp_path / "ctl.csv")
    letter = "ABCDEFGH"[list(obs.columns).index(column)]
    code, _out, err = run_cli(capsys, "score", path, "-r", county.registry)
    assert code == 1 and "Traceback" not in err
    assert f"单元格 {letter}{i + 2}：" in err and "含有不可见的控制字符" in err and shown in err
    # validate writes its report without tripping over the character
    code, _, _ = run_cli(capsys, "validate", path, "-r", county.registry, "-o", tmp_path / "report.xlsx")
    assert code == 1
    sheet = load_workbook(tmp_path / "report.xlsx")["问题"]
    assert any(shown in str(c.value) for row in sheet.iter_rows() for c in row)


def test_a_school_name_with_a_vertical_tab_is_refused_at_its_cell(county, tmp_path):
    obs = county.obs.assign(school_name=county.obs["school_id"].map(NAMES))
    i = first_row(obs, "004", "A1")
    obs.loc[i, "school_name"] = "青岚县城关中学\x0b"  # Excel shows nothing; a workbook cannot even hold it
    result = read_observations(write(obs, tmp_path / "vt.csv"), FW, county.registry)
    ctl = [p for p in result.errors if p.kind == "control_character"]
    assert [(p.cell, p.value) for p in ctl] == [(f"I{i + 2}", "青岚县城关中学␋")]


def test_a_registry_name_with_a_control_character_is_refused_at_its_cell(county, tmp_path, capsys):
    reg = pd.read_csv(county.registry, dtype=str, keep_default_na=False)
    reg.loc[1, "school_name"] = "石门\x1f中学"
    path = write(reg, tmp_path / "registry.csv")
    code, _out, err = run_cli(capsys, "score", county.path, "-r", path)
    assert code == 1 and "Traceback" not in err
    assert "文件 registry.csv 单元格 B3：含有不可见的控制字符（␟，显示为“石门␟中学”）" in err


def test_tabs_and_line_breaks_in_evidence_are_kept_and_score_the_same(county, tmp_path):
    obs = county.obs.copy()
    i = first_row(obs, "006", "A2")
    obs.loc[i, "evidence"] = "支委会12次\n党员大会4次\t党课4次"
    r = score_files([write(obs, tmp_path / "lines.csv")], FW, county.registry)
    assert totals(r) == totals(county.clean)
    ev = r.indicators.set_index(["school_id", "indicator_id"]).loc[("006", "A2"), "evidence"]
    assert "\n" in ev and "\t" in ev


# --------------------------------------------------------------------------- the framework's numbers


def framework_with(tmp_path: Path, old: str, new: str) -> Path:
    text = builtin_framework_path("shiquan-party-building").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "fw.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("weights: {self: 0.3,", "weights: {self: .nan,", "sources.weights.self"),
        ("max_points: 4", "max_points: .inf", "areas[0].indicators[0].max_points"),
        ("per_missing: 0.5", "per_missing: -.inf", "areas[0].indicators[0].rule.params.per_missing"),
        ("cap: ", "cap: .NaN #", "bonus.cap"),
    ],
)
def test_framework_check_refuses_numbers_that_are_not_finite(tmp_path, capsys, old, new, where):
    path = framework_with(tmp_path, old, new)
    code, _out, err = run_cli(capsys, "framework", "check", path)
    assert code == 1 and "Traceback" not in err
    assert f"{where} (第 " in err and "数值必须是有限的数" in err
    with pytest.raises(FrameworkError):
        load_framework(path)


def test_score_with_a_nan_weight_framework_stops_before_reading_data(county, tmp_path, capsys):
    path = framework_with(tmp_path, "weights: {self: 0.3,", "weights: {self: .nan,")
    code, out, err = run_cli(capsys, "score", county.path, "-r", county.registry, "-f", path)
    assert code == 1 and "sources.weights.self" in err and out == ""


# --------------------------------------------------------------------------- the type at the gate


def test_validated_observations_cannot_be_made_by_hand(county):
    with pytest.raises(TypeError, match=r"只能由 evalkit\.intake 的校验生成"):
        ValidatedObservations(frame=county.obs, intake=None, framework_fingerprint=FW.fingerprint,
                              registry=None, allowed={})


def test_validated_observations_are_scored_only_with_their_framework_and_registry(county):
    registry = load_registry(county.registry)
    validated = read_validated([county.path], FW, registry)
    assert totals(score(validated, FW, registry)) == totals(county.clean)
    other = load_framework(Path(__file__).resolve().parents[1] / "fixtures" / "intake" / "mini-framework.yaml")
    with pytest.raises(ValueError, match="按另一个指标体系校验"):
        score(validated, other)
    with pytest.raises(ValueError, match="未按此学校名册校验"):
        score(validated, FW, registry[registry["school_id"] != "004"])


def test_a_python_table_goes_through_the_same_gate(county):
    frame = county.obs.assign(year=2024)
    frame.loc[first_row(frame, "021", "A6"), "value"] = "E"
    with pytest.raises(GateError) as err:
        score(frame, FW, load_registry(county.registry))
    assert [(p.kind, p.file, p.cell) for p in err.value.errors] == [
        ("out_of_range", "观测数据表", cell_of(first_row(frame, "021", "A6")))
    ]


def test_a_python_table_missing_a_school_needs_allow_too(county):
    frame = county.obs[county.obs["school_id"] != "004"].assign(year=2024)
    registry = load_registry(county.registry)
    with pytest.raises(GateError) as err:
        score(frame, FW, registry)
    assert [(p.kind, p.school_id) for p in err.value.blocking] == [("no_data", "004")]
    r = score(frame, FW, registry, allow=["missing_schools"])
    assert "004" not in set(r.schools["school_id"]) and r.meta["allow_requested"] == ["missing_schools"]


def test_an_empty_and_an_unrelated_table_are_refused_with_a_message():
    with pytest.raises(GateError) as err:
        score(pd.DataFrame({"名字": ["甲"], "分数": [1]}), FW)
    assert [(p.kind, p.expected) for p in err.value.errors] == [("missing_column", "school_id、indicator_id、value")]


def test_scoring_tells_what_it_needs_when_given_something_else():
    with pytest.raises(TypeError, match="评分需要观测数据表"):
        score([("001", "A1", 17)], FW)


def test_conflicting_single_value_and_inspector_marks_stop_unless_allowed(county, tmp_path, capsys):
    obs = county.obs.copy()
    rated = obs[(obs["school_id"] == "006") & (obs["rater"] != "")]
    assert len(rated), "the demo has inspectors' marks"
    ind = rated["indicator_id"].iloc[0]
    extra = rated.iloc[[0]].assign(rater="", value=rated["value"].iloc[0])
    path = write(pd.concat([obs, extra], ignore_index=True), tmp_path / "conflict.csv")
    code, _, err = run_cli(capsys, "score", path, "-r", county.registry)
    assert code == 1 and "--allow conflicts" in err and f"指标 {ind}" in err
    r = score_files([path], FW, county.registry, allow=["conflicts"])
    assert r.meta["allowed"] == {"conflicts": 1}
