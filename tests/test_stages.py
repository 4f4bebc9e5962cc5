"""A framework with ``denominate``, ``impute``, ``treat`` and ``normalise`` at three levels,
scored through the CLI (``evalkit score -o 结果.xlsx``): one sheet per stage (COINr's data sets
``Raw``, ``Denominated``, ``Imputed``, ``Treated``, ``Normalised``, ``Aggregated``), each value
recomputed here independently with numpy; the denomination's sentence and its refusals."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from evalkit.framework import FrameworkError, parse_framework
from evalkit.observations import ObservationsError
from evalkit.results import Results
from evalkit.scoring import score

FRAMEWORK = textwrap.dedent("""
    id: stages-demo
    name: 数据阶段示例
    version: "1"
    years: [2025]
    total_points: 100
    precision: 2
    aggregate: {method: weighted_mean, weights: {P: 3, Q: 1}}
    areas:
      - id: P
        name: 支柱一
        points: 60
        aggregate: {method: weighted_mean}
        areas:
          - id: P1
            name: 子支柱一
            points: 30
            indicators:
              - id: ACT
                name: 活动次数
                unit: 次
                data_type: count
                max_points: 20
                rule: {name: pipeline}
                pipeline:
                  denominate: {column: pupils, per: 100}
                  impute: mean
                  impute_by: school_type
                  treat: true
                  normalise: minmax
              - id: X2
                name: 参与人数
                data_type: number
                max_points: 10
                rule: {name: pipeline}
                pipeline: {normalise: minmax}
          - id: P2
            name: 子支柱二
            points: 30
            indicators:
              - id: PTY
                name: 党员参与人次
                unit: 人次
                data_type: count
                max_points: 30
                rule: {name: pipeline}
                pipeline: {denominate: {indicator: PM}, normalise: minmax}
              - id: PM
                name: 党员人数
                unit: 人
                data_type: count
                max_points: 0
                rule: {name: pipeline}
                pipeline: {normalise: minmax}
      - id: Q
        name: 支柱二
        points: 40
        indicators:
          - id: Y1
            name: 满意度
            data_type: score
            max_points: 40
            rule: {name: survey_scaled, params: {scale_max: 100}}
    grades:
      - {name: 好, min: 80}
      - {name: 一般, min: 60, max: 80}
      - {name: 差, min: 0, max: 60}
""")

SCHOOLS = [f"S{i:02d}" for i in range(1, 13)]
TYPES = ["小学"] * 6 + ["初中"] * 6
PUPILS = np.array([400, 500, 600, 800, 1000, 1200, 300, 500, 700, 900, 1100, 1500], dtype=float)
ACT = [8, 10, 15, 20, None, 30, 6, 12, 14, 20, 24, 300]  # S05 missing; S12 an outlier
X2 = np.arange(1, 13, dtype=float)
PTY = np.array([20, 30, 25, 40, 50, 45, 10, 35, 30, 60, 55, 80], dtype=float)
PM = np.array([10, 12, 10, 16, 20, 15, 5, 14, 12, 20, 22, 25], dtype=float)
Y1 = 60.0 + 3 * X2


def observation_rows() -> list[dict]:
    rows = []
    for i, school in enumerate(SCHOOLS):
        for ind, v in (("ACT", ACT[i]), ("X2", X2[i]), ("PTY", PTY[i]), ("PM", PM[i]), ("Y1", Y1[i])):
            if v is not None:
                rows.append({"学校编号": school, "年度": 2025, "指标编号": ind, "值": float(v)})
    return rows


def registry_frame() -> pd.DataFrame:
    return pd.DataFrame({"学校编号": SCHOOLS, "学校名称": [f"第{i}校" for i in range(1, 13)],
                         "学校类型": TYPES, "乡镇": "城关镇", "学生数": PUPILS.astype(int)})


def excel_skew(x: np.ndarray) -> float:
    n, s = len(x), x.std(ddof=1)
    return n / ((n - 1) * (n - 2)) * float(np.sum(((x - x.mean()) / s) ** 3))


def excel_kurt(x: np.ndarray) -> float:
    n, s = len(x), x.std(ddof=1)
    a = n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * float(np.sum(((x - x.mean()) / s) ** 4))
    return a - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


def by_hand() -> dict[str, dict[str, np.ndarray]]:
    """Every stage with numpy: ACT per 100 pupils, imputed by school-type mean, winsorised
    (COINr: the maximum takes the next value while |skew| ≥ 2 and kurtosis ≥ 3.5), min-max;
    PTY ÷ PM; min-max; areas and the index by their aggregation."""
    act = np.array([np.nan if v is None else v for v in ACT], dtype=float)
    den = 100 * act / PUPILS
    imp = den.copy()
    for t in ("小学", "初中"):
        sel = np.array(TYPES) == t
        part = imp[sel]
        part[np.isnan(part)] = np.nanmean(part)
        imp[sel] = part
    tre = imp.copy()
    while abs(excel_skew(tre)) >= 2 and excel_kurt(tre) >= 3.5:
        assert excel_skew(tre) >= 0
        top = tre.max()
        tre[tre == top] = tre[tre < top].max()
    mm = lambda v: (v - v.min()) / (v.max() - v.min())  # noqa: E731
    pty = PTY / PM
    norm = {"ACT": mm(tre), "X2": mm(X2), "PTY": mm(pty), "PM": mm(PM), "Y1": Y1 / 100}
    pts = {"ACT": 20 * norm["ACT"], "X2": 10 * norm["X2"], "PTY": 30 * norm["PTY"], "PM": 0 * norm["PM"],
           "Y1": 40 * norm["Y1"]}
    p1 = pts["ACT"] + pts["X2"]
    p2 = pts["PTY"] + pts["PM"]
    p = 60 * (p1 / 30 + p2 / 30) / 2
    q = pts["Y1"]
    base = 100 * (0.75 * p / 60 + 0.25 * q / 40)
    raw = {"ACT": act, "X2": X2, "PTY": PTY, "PM": PM, "Y1": Y1}
    carry = lambda over: {**raw, **over}  # noqa: E731
    return {
        "raw": raw,
        "denominated": carry({"ACT": den, "PTY": pty}),
        "imputed": carry({"ACT": imp, "PTY": pty}),
        "treated": carry({"ACT": tre, "PTY": pty}),
        "normalised": norm,
        "aggregated": {**pts, "P": p, "P1": p1, "P2": p2, "Q": q, "base": base},
    }


def evalkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalkit.cli.app", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("stages")
    (folder / "framework.yaml").write_text(FRAMEWORK, encoding="utf-8")
    pd.DataFrame(observation_rows()).to_csv(folder / "data.csv", index=False, encoding="utf-8")
    registry_frame().to_csv(folder / "registry.csv", index=False, encoding="utf-8")
    out = evalkit("score", str(folder / "data.csv"), "-f", str(folder / "framework.yaml"),
                  "-r", str(folder / "registry.csv"), "-o", str(folder / "结果.xlsx"))
    return folder, out


def test_treatment_in_this_example_winsorises_one_point():
    # the hand computation's premise: S12's 20 per 100 pupils is winsorised, once
    act = by_hand()
    assert act["imputed"]["ACT"][11] == 20.0 and act["treated"]["ACT"][11] == pytest.approx(30 / 12 * 100 / 100)


def test_score_writes_one_sheet_per_stage_recomputed_with_numpy(scored):
    folder, out = scored
    assert out.returncode == 0, out.stderr
    expected = by_hand()
    titles = {"raw": "阶段1 原始值", "denominated": "阶段2 分母折算", "imputed": "阶段3 插补",
              "treated": "阶段4 极端值处理", "normalised": "阶段5 标准化", "aggregated": "阶段6 汇总"}
    book = pd.read_excel(folder / "结果.xlsx", sheet_name=None, dtype={"学校编号": str})
    for stage, title in titles.items():
        sheet = book[title].set_index("学校编号")
        assert sheet.index.tolist() == SCHOOLS and set(sheet["年度"]) == {2025}
        for code, values in expected[stage].items():
            got = sheet[code].to_numpy(dtype=float)
            assert got == pytest.approx(values, rel=1e-9, nan_ok=True), (stage, code)
    assert list(book["阶段6 汇总"].columns) == ["年度", "学校编号", "ACT", "X2", "PTY", "PM", "Y1",
                                               "P", "P1", "P2", "Q", "base"]
    total = book["总表"].set_index("学校编号")["总分"]
    assert total.to_numpy() .tolist() == pytest.approx(
        pd.Series(np.floor(expected["aggregated"]["base"] * 100 + 0.5) / 100, index=SCHOOLS)[total.index].tolist())


def test_stages_are_saved_and_loaded_with_the_results(tmp_path):
    from evalkit.intake.registry import load_registry

    fw = parse_framework(yaml.safe_load(FRAMEWORK), "stages.yaml", FRAMEWORK)
    registry_frame().to_csv(tmp_path / "registry.csv", index=False, encoding="utf-8")
    reg = load_registry(tmp_path / "registry.csv")
    obs = pd.DataFrame([{"school_id": r["学校编号"], "year": 2025, "indicator_id": r["指标编号"], "value": r["值"]}
                        for r in observation_rows()])
    results = score(obs, fw, reg)
    stages = results.extra["stages"]
    assert list(stages.columns) == ["stage", "school_id", "year", "code", "value"]
    results.save(tmp_path / "scores")
    back = Results.load(tmp_path / "scores")
    pd.testing.assert_frame_equal(back.extra["stages"], stages, check_dtype=False)
    # the denomination's own sentence, and the record of each step
    ind = results.indicators.set_index(["indicator_id", "school_id"])["explanation"]
    assert "除以学生数 400、乘以 100 得 2；" in ind["ACT", "S01"]
    assert "除以党员人数 10 得 2；" in ind["PTY", "S01"]
    steps = results.meta["pipeline"]["ACT"]["by_year"]["2025"]
    assert [s["step"] for s in steps] == ["denominate", "impute", "treat", "normalise"]
    assert steps[2]["method"] == "winsorise" and steps[2]["n_changed"] == 1 and steps[2]["nwin"] == 1


def test_missing_or_zero_denominator_is_refused_naming_school_indicator_and_column(tmp_path):
    from evalkit.intake.registry import load_registry

    fw = parse_framework(yaml.safe_load(FRAMEWORK), "stages.yaml", FRAMEWORK)
    reg_frame = registry_frame().astype({"学生数": object})
    reg_frame.loc[2, "学生数"] = None
    reg_frame.loc[7, "学生数"] = 0
    reg_frame.to_csv(tmp_path / "registry.csv", index=False, encoding="utf-8")
    reg = load_registry(tmp_path / "registry.csv")
    rows = observation_rows()
    for r in rows:
        if r["学校编号"] == "S04" and r["指标编号"] == "PM":
            r["值"] = 0.0
    obs = pd.DataFrame([{"school_id": r["学校编号"], "year": 2025, "indicator_id": r["指标编号"], "value": r["值"]}
                        for r in rows])
    with pytest.raises(ObservationsError) as err:
        score(obs, fw, reg)
    problems = err.value.problems
    assert len(problems) == 3
    assert any("S03（第3校）" in p and "ACT（活动次数）" in p and "分母缺失" in p and "学生数" in p
               and "pupils" in p for p in problems)
    assert any("S08（第8校）" in p and "分母为 0" in p and "学生数" in p for p in problems)
    assert any("S04（第4校）" in p and "PTY（党员参与人次）" in p and "分母为 0" in p and "PM（党员人数）" in p
               for p in problems)


def test_denominate_names_exactly_one_existing_source():
    bad = FRAMEWORK.replace("denominate: {indicator: PM}", "denominate: {indicator: NOPE}").replace(
        "denominate: {column: pupils, per: 100}", "denominate: {column: pupils, indicator: PM}")
    with pytest.raises(FrameworkError) as err:
        parse_framework(yaml.safe_load(bad), "bad.yaml", bad)
    found = {p.path: p.message for p in err.value.problems}
    assert "须且只须给出 column" in found["areas[0].areas[0].indicators[0].pipeline.denominate"]
    assert "分母指标 NOPE 不存在" in found["areas[0].areas[1].indicators[0].pipeline.denominate.indicator"]


def test_missing_denominator_can_go_to_imputation(tmp_path):
    """``denominate: {…, missing: impute}``: COINr's ``NA / d`` is ``NA``, imputed next (here by
    the 小学 mean of 2, 2, 2.5, 2.5 = 2.25 for S03 and S05); a zero is still refused."""
    from evalkit.intake.registry import load_registry

    text = FRAMEWORK.replace("denominate: {column: pupils, per: 100}",
                             "denominate: {column: pupils, per: 100, missing: impute}")
    fw = parse_framework(yaml.safe_load(text), "stages.yaml", text)
    reg_frame = registry_frame().astype({"学生数": object})
    reg_frame.loc[2, "学生数"] = None
    reg_frame.to_csv(tmp_path / "registry.csv", index=False, encoding="utf-8")
    reg = load_registry(tmp_path / "registry.csv")
    obs = pd.DataFrame([{"school_id": r["学校编号"], "year": 2025, "indicator_id": r["指标编号"], "value": r["值"]}
                        for r in observation_rows()])
    results = score(obs, fw, reg)
    st = results.extra["stages"]
    act = st[(st["code"] == "ACT")].pivot(index="school_id", columns="stage", values="value")
    assert np.isnan(act.at["S03", "denominated"]) and np.isnan(act.at["S05", "denominated"])
    assert act.at["S03", "imputed"] == pytest.approx(2.25) and act.at["S05", "imputed"] == pytest.approx(2.25)
    sentence = results.indicators.set_index(["indicator_id", "school_id"]).at[("ACT", "S03"), "explanation"]
    assert "学生数缺失，比值按缺失值处理；" in sentence and "插补" in sentence
    reg_frame.loc[7, "学生数"] = 0
    reg_frame.to_csv(tmp_path / "registry.csv", index=False, encoding="utf-8")
    with pytest.raises(ObservationsError) as err:
        score(obs, fw, load_registry(tmp_path / "registry.csv"))
    assert len(err.value.problems) == 1 and "S08（第8校）" in err.value.problems[0]
