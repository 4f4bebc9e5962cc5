"""Deeper trees, weighting methods, TOPSIS / fuzzy nodes and the COINr pipeline in the engine,
against hand computations done here with plain numpy/pandas (a different code path)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml

from evalkit.framework import FrameworkError, parse_framework
from evalkit.scoring import score
from evalkit.scoring.tree import ROOT, aggregate_tree, with_aggregates

SCHOOLS = [f"S{i:02d}" for i in range(1, 13)]
TYPES = ["小学"] * 6 + ["初中"] * 6

THREE_LEVEL = textwrap.dedent("""
    id: three-level
    name: 三级指标示例
    version: "1"
    years: [2025]
    total_points: 100
    aggregate:
      method: weighted_mean
      weighting: {method: ahp, criteria: [P, Q], matrix: [[1, 3], ["1/3", 1]]}
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
              - id: X1
                name: 活动次数
                unit: 次
                data_type: count
                max_points: 20
                rule: {name: pipeline}
                pipeline: {impute: mean, impute_by: school_type, treat: true, normalise: minmax}
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
              - id: X3
                name: 达标率
                data_type: ratio
                max_points: 30
                rule: {name: ratio_times_max}
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

X1 = [10, 12, 11, None, 13, 14, 20, 22, None, 21, 23, 300]


def observations() -> pd.DataFrame:
    rows = []
    for i, school in enumerate(SCHOOLS, start=1):
        values = {"X1": X1[i - 1], "X2": float(i), "X3": 0.5 + 0.04 * i, "Y1": 60.0 + 3 * i}
        for ind, v in values.items():
            if v is not None:
                rows.append(dict(school_id=school, year=2025, indicator_id=ind, item="", source="inspection",
                                 rater="", value=float(v), evidence=""))
    return pd.DataFrame(rows)


def registry() -> pd.DataFrame:
    return pd.DataFrame({"school_id": SCHOOLS, "school_name": SCHOOLS, "school_type": TYPES, "township": ""})


@pytest.fixture(scope="module")
def fw():
    return parse_framework(yaml.safe_load(THREE_LEVEL), "three-level.yaml", THREE_LEVEL)


@pytest.fixture(scope="module")
def results(fw):
    return score(observations(), fw, registry())


def skew2(x: np.ndarray) -> float:
    """Excel SKEW written out: n/((n-1)(n-2)) Σ((x-mean)/s)^3 with the sample sd s."""
    n, s = len(x), x.std(ddof=1)
    return n / ((n - 1) * (n - 2)) * float(np.sum(((x - x.mean()) / s) ** 3))


def kurt2(x: np.ndarray) -> float:
    """Excel KURT written out."""
    n, s = len(x), x.std(ddof=1)
    a = n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * float(np.sum(((x - x.mean()) / s) ** 4))
    return a - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


def hand_totals() -> tuple[dict[str, float], dict[str, np.ndarray]]:
    # X1: impute by school-type mean (小学: 10,12,11,13,14 → 12; 初中: 20,22,21,23,300 → 77.2)
    x1 = np.array([np.nan if v is None else float(v) for v in X1])
    primary, middle = x1[:6], x1[6:]
    primary[np.isnan(primary)] = np.nanmean(primary)
    middle[np.isnan(middle)] = np.nanmean(middle)
    x1 = np.concatenate([primary, middle])
    assert x1[3] == 12.0 and abs(x1[8] - 77.2) < 1e-9
    # treat: skew 3.20 > 2 and kurtosis 10.5 > 3.5 → winsorise the maximum 300 to the next, 77.2
    assert skew2(x1) > 2 and kurt2(x1) > 3.5
    x1[x1 == x1.max()] = np.sort(x1)[-2]
    assert abs(skew2(x1)) < 2  # passes now: one point treated
    p_x1 = 20 * (x1 - x1.min()) / (x1.max() - x1.min())
    x2 = np.arange(1, 13, dtype=float)
    p_x2 = 10 * (x2 - 1) / 11
    p_x3 = 30 * (0.5 + 0.04 * x2)
    p_y1 = 40 * (60 + 3 * x2) / 100
    p1, p2, q = p_x1 + p_x2, p_x3, p_y1
    p = 60 * (p1 / 30 + p2 / 30) / 2  # equal-weight arithmetic mean of the sub-pillars' shares
    base = 100 * (0.75 * p / 60 + 0.25 * q / 40)  # AHP [[1, 3], [1/3, 1]] → 0.75, 0.25
    totals = {s: float(np.floor(b * 10 + 0.5) / 10) for s, b in zip(SCHOOLS, base, strict=True)}
    return totals, {"X1": p_x1, "P1": p1, "P2": p2, "P": p, "Q": q}


def test_three_level_index_with_pipeline_matches_hand_computation(results):
    totals, parts = hand_totals()
    got = results.schools.set_index("school_id")["total"].to_dict()
    assert got == pytest.approx(totals, abs=1e-9)
    ind = results.indicators[results.indicators["indicator_id"] == "X1"].set_index("school_id")
    assert ind["points"].tolist() == pytest.approx(np.round(parts["X1"], 1).tolist(), abs=1e-9)
    nodes = results.nodes.set_index(["node_id", "school_id"])
    for node in ("P1", "P2", "P", "Q"):
        got_node = [nodes.loc[(node, s), "points"] for s in SCHOOLS]
        assert got_node == pytest.approx(np.round(parts[node], 1).tolist(), abs=1e-9), node
    levels = dict(zip(results.nodes["node_id"], results.nodes["level"], strict=True))
    assert levels == {"P": 1, "P1": 2, "P2": 2, "Q": 1}
    assert results.nodes.loc[results.nodes["node_id"] == "P1", "parent_id"].unique().tolist() == ["P"]


def test_pipeline_is_recorded_and_explained(results):
    steps = results.meta["pipeline"]["X1"]["by_year"]["2025"]
    assert [s["step"] for s in steps] == ["impute", "treat", "normalise"]
    assert steps[0]["n_changed"] == 2 and steps[1]["method"] == "winsorise" and steps[1]["n_changed"] == 1
    assert steps[1]["changed"] == [{"school_id": "S12", "before": 300.0, "after": pytest.approx(77.2)}]
    ind = results.indicators[results.indicators["indicator_id"] == "X1"].set_index("school_id")
    assert "按同类学校均值 77.2次 插补" in ind.at["S09", "explanation"]
    assert "极端值 300次 缩尾为 77.2次" in ind.at["S12", "explanation"]
    assert "最小—最大值标准化" in ind.at["S01", "explanation"]
    kinds = results.flags.set_index(["school_id", "indicator_id"])["kind"].to_dict()
    assert kinds == {("S04", "X1"): "imputed", ("S09", "X1"): "imputed"}
    assert results.meta["weights"][ROOT]["method"] == "ahp"
    assert results.meta["weights"][ROOT]["weights"] == pytest.approx({"P": 0.75, "Q": 0.25})


def test_framework_check_lists_ahp_problems_with_their_paths():
    bad = THREE_LEVEL.replace(
        'weighting: {method: ahp, criteria: [P, Q], matrix: [[1, 3], ["1/3", 1]]}',
        "weighting: {method: ahp}",
    ).replace(
        "    aggregate: {method: weighted_mean}\n    areas:",
        "    aggregate:\n      method: weighted_mean\n"
        "      weighting: {method: ahp, matrix: [[1, 9], [1, 1]]}\n    areas:",
    )
    with pytest.raises(FrameworkError) as err:
        parse_framework(yaml.safe_load(bad), "bad.yaml", bad)
    found = {p.path: p.message for p in err.value.problems}
    assert set(found) == {"aggregate.weighting.matrix", "areas[0].aggregate.weighting.matrix"}
    assert "须给出 matrix" in found["aggregate.weighting.matrix"]
    assert "不互反" in found["areas[0].aggregate.weighting.matrix"]  # P1 over P2 is 9, P2 over P1 is 1


def test_inconsistent_ahp_names_the_node_path_cr_and_pair():
    # three children with cyclic judgements a > b (9), b > c (9), c > a (9): maximally inconsistent
    text = textwrap.dedent("""
        id: cyc
        name: 循环判断
        version: "1"
        years: [2025]
        total_points: 10
        areas:
          - id: A
            name: 领域
            points: 10
            aggregate:
              method: weighted_mean
              weighting:
                method: ahp
                criteria: [a, b, c]
                matrix: [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]
            indicators:
              - {id: a, name: 甲, data_type: yesno, max_points: 1, rule: {name: met}}
              - {id: b, name: 乙, data_type: yesno, max_points: 1, rule: {name: met}}
              - {id: c, name: 丙, data_type: yesno, max_points: 1, rule: {name: met}}
        grades:
          - {name: 合格, min: 0}
    """)
    with pytest.raises(FrameworkError) as err:
        parse_framework(yaml.safe_load(text), "cyc.yaml", text)
    (problem,) = err.value.problems
    assert problem.path == "areas[0].aggregate.weighting.matrix"
    assert problem.line == 16
    assert "CR = " in problem.message and "≥ 0.1" in problem.message and "最不一致的是 a 与 b" in problem.message


def test_entropy_weights_per_year_in_meta_and_by_hand(fw):
    data_fw = with_aggregates(fw, {ROOT: {"weighting": {"method": "entropy"}}})
    r = score(observations(), data_fw, registry())
    w = r.meta["weights"][ROOT]
    assert w["method"] == "entropy" and w["normalisation"] == "sum"
    # by hand: the pillars' unrounded shares, p_ij = s_ij / Σ s_j, e_j = −Σ p ln p / ln 12
    _, parts = hand_totals()
    shares = np.column_stack([parts["P"] / 60, parts["Q"] / 40])
    p = shares / shares.sum(axis=0)
    e = -(p * np.log(p)).sum(axis=0) / np.log(12)
    expected = (1 - e) / (1 - e).sum()
    assert [w["by_year"]["2025"]["P"], w["by_year"]["2025"]["Q"]] == pytest.approx(expected.tolist())
    base = 100 * (expected[0] * shares[:, 0] + expected[1] * shares[:, 1])
    got = r.schools.set_index("school_id").loc[SCHOOLS, "base"].to_numpy()
    assert got == pytest.approx(np.floor(base * 10 + 0.5) / 10)


def test_topsis_and_fuzzy_nodes(fw):
    topsis_fw = with_aggregates(fw, {"P": {"method": "topsis", "topsis": {"normalisation": "minmax"}}})
    r = score(observations(), topsis_fw, registry())
    _, parts = hand_totals()
    s1, s2 = parts["P1"] / 30, parts["P2"] / 30
    r1, r2 = (s1 - s1.min()) / np.ptp(s1), (s2 - s2.min()) / np.ptp(s2)
    d_plus = np.sqrt(((r1 - 1) / 2) ** 2 + ((r2 - 1) / 2) ** 2)
    d_minus = np.sqrt((r1 / 2) ** 2 + (r2 / 2) ** 2)
    nodes = r.nodes[r.nodes["node_id"] == "P"].set_index("school_id").loc[SCHOOLS]
    assert nodes["points"].tolist() == pytest.approx(np.round(60 * d_minus / (d_plus + d_minus), 1).tolist())

    fuzzy_fw = with_aggregates(fw, {"P": {"method": "fuzzy"}})
    r = score(observations(), fuzzy_fw, registry())
    nodes = r.nodes[r.nodes["node_id"] == "P"].set_index("school_id")
    # S12: P1 share and P2 share by hand, memberships over peaks 0.9/0.75/0.6/0.4, equal weights
    a, b = s1[-1], s2[-1]

    def member(v: float) -> np.ndarray:
        peaks = [0.9, 0.75, 0.6, 0.4]
        out = np.zeros(4)
        if v >= 0.9:
            out[0] = 1
        elif v <= 0.4:
            out[3] = 1
        else:
            k = next(k for k in range(3) if peaks[k + 1] <= v <= peaks[k])
            t = (v - peaks[k + 1]) / (peaks[k] - peaks[k + 1])
            out[k], out[k + 1] = t, 1 - t
        return out

    bvec = (member(a) + member(b)) / 2
    assert nodes.at["S12", "points"] == pytest.approx(round(60 * float(bvec @ [1, 0.8, 0.6, 0.4]), 1))
    assert nodes.at["S12", "label"] == ["好", "较好", "一般", "差"][int(np.argmax(bvec))]


def test_aggregate_tree_overrides_without_rescoring_rules(fw, results):
    ind = results.indicators.pivot(index="school_id", columns="indicator_id", values="points").loc[SCHOOLS]
    maxima = pd.Series({"X1": 20.0, "X2": 10.0, "X3": 30.0, "Y1": 40.0})
    years = np.full(len(SCHOOLS), 2025)
    same = aggregate_tree(ind, maxima, fw, years)
    flipped = aggregate_tree(ind, maxima, fw, years, overrides={ROOT: {"weights": {"P": 1, "Q": 3}}})
    shares_p, shares_q = same.areas["P"] / 60, same.areas["Q"] / 40
    assert same.base.tolist() == pytest.approx((100 * (0.75 * shares_p + 0.25 * shares_q)).tolist())
    assert flipped.base.tolist() == pytest.approx((100 * (0.25 * shares_p + 0.75 * shares_q)).tolist())
    assert flipped.meta == {}  # fixed weights: nothing derived to record
    with pytest.raises(KeyError, match="没有这些领域"):
        with_aggregates(fw, {"nope": {"method": "sum"}})


def test_display_precision_separate_from_computation(fw):
    text = THREE_LEVEL.replace('version: "1"', 'version: "1"\ndisplay_precision: {indicators: 2, areas: 0, total: 3}')
    precise = parse_framework(yaml.safe_load(text), "p.yaml", text)
    r = score(observations(), precise, registry())
    totals, _ = hand_totals()
    _, parts = hand_totals()
    base = r.schools.set_index("school_id").loc[SCHOOLS, "total"].to_numpy()
    assert base == pytest.approx([round(v, 1) for v in totals.values()], abs=0.05)
    assert (np.round(base, 3) == base).all() and not (np.round(base, 1) == base).all()
    assert (r.areas["points"] == r.areas["points"].round(0)).all()
    x1 = r.indicators.loc[r.indicators["indicator_id"] == "X1", "points"].to_numpy()
    assert x1 == pytest.approx(np.round(parts["X1"], 2))


def test_demo_scores_unchanged_by_the_tree_engine():
    """The demo county's published base, bonus, total and grade of every school and year, and
    every area's points, as scored before deeper trees and weighting methods existed (digests
    taken from the engine at commit 9041dcd)."""
    import hashlib

    from evalkit.api import score_files

    r = score_files()
    s = r.schools.sort_values(["year", "school_id"])
    text = "\n".join(
        f"{x.school_id},{x.year},{x.base:.1f},{x.bonus:.1f},{x.total:.1f},{x.grade}" for x in s.itertuples()
    )
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest == "91fcf03a1a835acfeb9aef04b69985a90bc135aabba84d19369310bdf35d188d"
    assert s.groupby("year")["total"].sum().round(1).to_dict() == {2022: 3931.5, 2023: 3972.8, 2024: 4027.9}
    a = r.areas.sort_values(["year", "school_id", "area_id"])
    text = "\n".join(f"{x.school_id},{x.year},{x.area_id},{x.points:.1f}" for x in a.itertuples())
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest == "1dbf33deb1e07e9e954b4983b321a53c5151c58494b86ae8faf933c4b1d0e29d"
    assert r.nodes is None and "weights" not in r.meta and "pipeline" not in r.meta


def test_framework_check_cli_names_the_inconsistent_node(tmp_path, capsys):
    from evalkit.cli.app import main

    text = THREE_LEVEL.replace('matrix: [[1, 3], ["1/3", 1]]', 'matrix: [[1, 3], [1, 1]]')
    path = tmp_path / "fw.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["framework", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "aggregate.weighting.matrix (第 9 行)" in err and "不互反" in err
    good = tmp_path / "good.yaml"
    good.write_text(THREE_LEVEL, encoding="utf-8")
    assert main(["framework", "check", str(good)]) == 0


def test_county_summary_weights_table(fw, results):
    from evalkit import analysis
    from evalkit.publish import present

    table = analysis.weight_methods(results, 2025, fw)
    assert table[["node_name", "method", "child_name"]].values.tolist() == [
        ["总分（三级指标示例）", "层次分析法", "支柱一"], ["总分（三级指标示例）", "层次分析法", "支柱二"],
    ]
    assert table["weight"].tolist() == pytest.approx([0.75, 0.25])
    assert table["note"].iloc[0] == "λmax = 2.0000，CI = 0.0000，CR = 0.0000"
    html = present.table_html(table, name="derived_weights", headers=analysis.weights.HEADERS, decimals=4)
    assert "定权方法" in html and "0.7500" in html
    entropy = score(observations(), with_aggregates(fw, {"P": {"weighting": {"method": "critic"}}}), registry())
    rows = analysis.weight_methods(entropy, 2025, fw)
    critic = rows[rows["method"] == "CRITIC 法"]
    assert critic["child_name"].tolist() == ["子支柱一", "子支柱二"]
    assert critic["weight"].sum() == pytest.approx(1.0)
    assert critic["note"].iloc[0].startswith("由 2025 年各校得分率计算")
    fixed = with_aggregates(fw, {ROOT: {"weights": {"P": 3, "Q": 1}}})
    assert not analysis.uses_derived_weights(score(observations(), fixed, registry()))


def test_results_nodes_survive_save_load_and_year_filter(results, tmp_path):
    from evalkit.results import Results

    back = Results.load(results.save(tmp_path / "scores"))
    pd.testing.assert_frame_equal(back.nodes, results.nodes)
    assert back.meta["weights"] == results.meta["weights"]
    assert len(results.for_year(2025).nodes) == len(results.nodes) == 4 * len(SCHOOLS)


def test_nested_rule_problems_are_reported_even_when_the_structure_is_broken():
    broken = THREE_LEVEL.replace("rule: {name: ratio_times_max}", "rule: {name: ratio_times_maxx}").replace(
        "    points: 40\n", "    points: forty\n"
    )
    with pytest.raises(FrameworkError) as err:
        parse_framework(yaml.safe_load(broken), "b.yaml", broken)
    paths = {p.path for p in err.value.problems}
    assert "areas[1].points" in paths
    assert "areas[0].areas[1].indicators[0].rule.name" in paths


def test_area_needs_indicators_or_sub_areas_and_sub_area_points_add_up():
    text = THREE_LEVEL.replace(
        "        points: 30\n        indicators:\n          - id: X3",
        "        points: 25\n        indicators:\n          - id: X3",
    )
    fw_sum = text.replace("    aggregate: {method: weighted_mean}\n    areas:", "    areas:")
    with pytest.raises(FrameworkError) as err:
        parse_framework(yaml.safe_load(fw_sum), "s.yaml", fw_sum)
    messages = {p.path: p.message for p in err.value.problems}
    assert "下级领域分值合计 55" in messages["areas[0].points"]
    assert "指标满分合计 30" in messages["areas[0].areas[1].points"]


def test_methods_document_examples_run():
    """The ``>>>`` worked examples of docs/methods.md (also collected by ``pytest docs/``)."""
    import doctest
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "methods.md"
    result = doctest.testfile(str(doc), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10
    assert result.failed == 0


def test_fuzzy_membership_from_raters_marks():
    text = textwrap.dedent("""
        id: fuzzy-ratings
        name: 模糊评价示例
        version: "1"
        years: [2025]
        total_points: 10
        sources: {weights: {self: 0.3, inspection: 0.7}}
        areas:
          - id: R
            name: 综合评议
            points: 10
            aggregate: {method: fuzzy, fuzzy: {membership: ratings}}
            indicators:
              - {id: R1, name: 民主评议, data_type: rating, max_points: 5, rule: {name: rating}}
              - {id: R2, name: 参与率, data_type: ratio, max_points: 5, rule: {name: ratio_times_max}}
        grades:
          - {name: 合格, min: 0}
    """)
    fw = parse_framework(yaml.safe_load(text), "f.yaml", text)
    marks = [("T1", "R1", v, "inspection", f"r{k}") for k, v in enumerate("AABDB")]
    marks += [("T1", "R2", 0.8, "inspection", ""), ("T2", "R1", "C", "self", ""), ("T2", "R1", "A", "inspection", ""),
              ("T2", "R2", 0.95, "inspection", "")]
    obs = pd.DataFrame([dict(school_id=s, year=2025, indicator_id=i, item="", source=src, rater=r, value=v,
                             evidence="") for s, i, v, src, r in marks])
    r = score(obs, fw)
    nodes = r.nodes.set_index("school_id")
    # T1: R1 marks A A B D B → (0.4, 0.4, 0, 0.2); R2 0.8 between peaks 0.9 and 0.75 → (1/3, 2/3, 0, 0);
    # equal weights: B = (0.3667, 0.5333, 0, 0.1) → 较好, score 0.3667 + 0.8·0.5333 + 0.4·0.1 = 0.8333
    assert nodes.at["T1", "label"] == "较好"
    assert nodes.at["T1", "points"] == 8.3
    # T2: R1 self C (weight 0.3) and inspection A (0.7) → (0.7, 0, 0.3, 0); R2 0.95 → (1, 0, 0, 0);
    # B = (0.85, 0, 0.15, 0) → 好, score 0.85 + 0.6·0.15 = 0.94
    assert nodes.at["T2", "label"] == "好"
    assert nodes.at["T2", "points"] == 9.4


def test_tree_inputs_reaggregate_the_published_indicator_points(fw, results):
    from evalkit.scoring.tree import tree_inputs

    t = tree_inputs(results, fw)
    again = aggregate_tree(t.points, t.maxima, fw, t.years)
    base = dict(zip(t.rows["school_id"], again.base.round(1), strict=True))
    published = results.schools.set_index("school_id")["base"].to_dict()
    # from indicator points rounded to 0.1, the base differs from the published one by rounding only
    assert all(abs(base[s] - published[s]) <= 0.15 for s in SCHOOLS)
    swapped = aggregate_tree(t.points, t.maxima, fw, t.years, overrides={ROOT: {"method": "geometric_mean"}})
    assert (swapped.base <= again.base + 1e-9).all()  # geometric mean ≤ arithmetic mean, same weights


def test_weighted_mean_with_max_points_as_weights_reproduces_a_sum_node():
    from evalkit.api import score_files
    from evalkit.framework import load_framework
    from evalkit.scoring.tree import tree_inputs

    fw = load_framework()
    t = tree_inputs(score_files(), fw)
    plain = aggregate_tree(t.points, t.maxima, fw, t.years)
    overrides = {ROOT: {"method": "weighted_mean", "weights": {a.id: a.points for a in fw.areas}}}
    overrides |= {a.id: {"method": "weighted_mean", "weights": {i.id: i.max_points for i in a.indicators}}
                  for a in fw.areas}
    same = aggregate_tree(t.points, t.maxima, fw, t.years, overrides=overrides)
    assert np.allclose(plain.base, same.base)
    doubled = aggregate_tree(t.points, t.maxima, fw, t.years,
                             overrides={ROOT: {"method": "weighted_mean", "weights": {"A": 40, "B": 20, "C": 25,
                                                                                       "D": 15, "E": 20}}})
    a_share = plain.areas["A"] / 20
    assert np.allclose(doubled.base, (plain.base + 20 * a_share) * 100 / 120)
