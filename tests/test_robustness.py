"""Monte Carlo robustness (evalkit.robustness): replays of the published result, hand-worked
rater bootstraps, the vectorised quota and ranks against the scoring engine's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit.framework import load_framework
from evalkit.observations import coerce_observations
from evalkit.results import Results
from evalkit.robustness import RobustnessConfig, attach_robustness, build_model, node_weights
from evalkit.robustness.simulate import grades, input_groups, ranks, reproduces, simulate
from evalkit.robustness.summary import analyse
from evalkit.scoring import score
from evalkit.scoring.grading import apply_quota, apply_vetoes, grade_by_score, next_grade

FIXTURES = Path(__file__).parent / "fixtures" / "robustness"


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, evalkit.Framework, Results]:
    from evalkit.api import demo_inputs
    from evalkit.intake import read_observations
    from evalkit.intake.registry import load_registry

    data, reg = demo_inputs()
    fw = load_framework()
    registry = load_registry(reg)
    obs = coerce_observations(read_observations(data, fw, registry).observations)
    return obs, fw, score(obs, fw, registry)


@pytest.fixture(scope="module")
def demo_model(demo):  # type: ignore[no-untyped-def]
    obs, fw, results = demo
    return build_model(obs, fw, results, 2024)


def _rows(rows: list[tuple]) -> pd.DataFrame:
    cols = ["school_id", "year", "indicator_id", "item", "source", "rater", "value", "evidence"]
    return coerce_observations(pd.DataFrame(rows, columns=cols))


def _two_raters(quota: dict | None = None) -> tuple[pd.DataFrame, evalkit.Framework, Results]:
    """S1: raters A, B on X (8, 6 → 7) and Y 90% (82.8): 89.8 较好. S2: A alone, Y 100%: 100 好.
    S3: raters A, A, B (7.333…) and Y 90%: 90.1 好."""
    import yaml

    from evalkit.framework import parse_framework

    data = yaml.safe_load((FIXTURES / "two-raters.yaml").read_text(encoding="utf-8"))
    if quota:
        data["quota"] = quota
    fw = parse_framework(data)
    obs = _rows([
        ("S1", 2024, "X", "", "inspection", "R1", "A", ""), ("S1", 2024, "X", "", "inspection", "R2", "B", ""),
        ("S1", 2024, "Y", "", "inspection", "", "0.9", ""),
        ("S2", 2024, "X", "", "inspection", "", "A", ""), ("S2", 2024, "Y", "", "inspection", "", "1", ""),
        ("S3", 2024, "X", "", "inspection", "R1", "A", ""), ("S3", 2024, "X", "", "inspection", "R2", "A", ""),
        ("S3", 2024, "X", "", "inspection", "R3", "B", ""), ("S3", 2024, "Y", "", "inspection", "", "0.9", ""),
    ])
    return obs, fw, score(obs, fw)


# --------------------------------------------------------------------------- nothing perturbed


def test_the_model_replays_the_published_demo_result(demo_model) -> None:  # type: ignore[no-untyped-def]
    assert demo_model.n_schools == 48 and demo_model.points.shape == (48, 37)
    assert reproduces(demo_model)
    # the demo's rating items are marked by 3–5 inspectors: one pool each
    assert [p.indicator_id for p in demo_model.pools] == ["A6", "B2", "C1"]
    assert sorted(demo_model.pools[0].marks) == [3, 4, 5]


def test_all_perturbations_off_every_replication_is_the_published_result(demo, demo_model) -> None:  # type: ignore[no-untyped-def]
    _, _, results = demo
    config = RobustnessConfig.off().model_copy(update={"replications": 50})
    total, _grade, rank = simulate(demo_model, config)
    pub = demo_model.published
    assert (total == pub["total"].to_numpy()).all()
    assert (rank == pub["rank"].to_numpy()).all()
    table, sens, meta = analyse(demo_model, config)
    assert (table["rank_lo"] == table["rank"]).all() and (table["rank_hi"] == table["rank"]).all()
    assert (table["median_rank"] == table["rank"]).all()
    assert (table["grade_prob"] == 1.0).all() and (table["interval_share"] == 1.0).all()
    assert sens.empty and meta["reproduces_published"] is True
    published = results.schools[results.schools["year"] == 2024].set_index("school_id")
    assert (table.set_index("school_id")["grade"] == published.loc[table["school_id"], "grade"]).all()


def test_weights_drawn_with_no_spread_give_the_published_result(demo_model) -> None:  # type: ignore[no-untyped-def]
    """The weights path (draw, renormalise, weighted means) with zero spread reproduces the
    published totals exactly: the sum aggregation is the max-points-weighted mean of shares."""
    config = RobustnessConfig(replications=20, weight_spread=0.0, raters=False, sensitivity=0)
    assert [g.key for g in input_groups(demo_model, config)] == [
        "weights:A", "weights:B", "weights:C", "weights:D", "weights:E", "weights:total"]
    total, _, rank = simulate(demo_model, config)
    assert (total == demo_model.published["total"].to_numpy()).all()
    assert (rank == demo_model.published["rank"].to_numpy()).all()


def test_node_weights_are_the_points_of_sum_nodes() -> None:
    nodes = node_weights(load_framework())
    assert [n.node_id for n in nodes] == ["A", "B", "C", "D", "E", ""]
    assert nodes[-1].weights.tolist() == [20, 20, 25, 15, 20] and nodes[-1].method == "arithmetic"
    assert nodes[0].weights.sum() == 20


# --------------------------------------------------------------------------- hand-worked raters


def test_bootstrapping_two_and_three_raters_gives_the_hand_worked_grade_probabilities() -> None:
    """Weights fixed, the raters of X resampled with replacement. S1 (A=8, B=6): the mean is 8,
    7 or 6 with probabilities 1/4, 1/2, 1/4 → totals 90.8 / 89.8 / 88.8 → P(好) = 1/4.
    S3 (A, A, B): k marks of 8 among 3 draws, k ~ Binomial(3, 2/3) → means 8, 7.33, 6.67, 6 →
    totals 90.8, 90.1, 89.5, 88.8 → P(好) = P(k ≥ 2) = 20/27. S2 (one rater) never moves."""
    obs, fw, results = _two_raters()
    model = build_model(obs, fw, results, 2024)
    assert reproduces(model)
    assert results.schools.set_index("school_id")["total"].to_dict() == {"S1": 89.8, "S2": 100.0, "S3": 90.1}
    config = RobustnessConfig(replications=20000, weights="off", raters=True, sensitivity=0, seed=7)
    table, _, _ = analyse(model, config)
    t = table.set_index("school_id")
    assert t.at["S1", "prob_好"] == pytest.approx(0.25, abs=0.015)
    assert t.at["S1", "prob_较好"] == pytest.approx(0.75, abs=0.015)
    assert t.at["S3", "prob_好"] == pytest.approx(20 / 27, abs=0.015)
    assert t.at["S3", "grade_prob"] == pytest.approx(20 / 27, abs=0.015)
    assert t.at["S2", "prob_好"] == 1.0 and t.at["S2", "rank_lo"] == t.at["S2", "rank_hi"] == 1
    # S1 is 2nd (S2 always 1st) when S3's total is not above S1's (a tie shares the better rank):
    # S1 90.8 (1/4): always; 89.8 (1/2): S3 89.5 or 88.8 (7/27); 88.8 (1/4): S3 88.8 (1/27)
    _, _, rank = simulate(model, config, n=20000)
    assert (rank[:, 0] == 2).mean() == pytest.approx(1 / 4 + 1 / 2 * 7 / 27 + 1 / 4 * 1 / 27, abs=0.015)


def test_the_quota_applies_in_every_replication() -> None:
    """With at most half of the 3 schools (1) in 好, S2's 100 keeps it: S1 and S3 never get 好."""
    obs, fw, results = _two_raters({"grade": "好", "max_share": 0.5})
    model = build_model(obs, fw, results, 2024)
    assert reproduces(model)
    table, _, _ = analyse(model, RobustnessConfig(replications=2000, weights="off", sensitivity=0))
    t = table.set_index("school_id")
    assert t.at["S1", "prob_好"] == 0.0 and t.at["S3", "prob_好"] == 0.0 and t.at["S2", "prob_好"] == 1.0


def test_vectorised_grades_and_ranks_match_the_scoring_engine(demo, demo_model) -> None:  # type: ignore[no-untyped-def]
    """Random totals with many ties through both: grade bands, vetoes, the quota with
    demote_all ties, and ranks with shared places."""
    _, fw, _results = demo
    rng = np.random.default_rng(3)
    totals = np.round(rng.uniform(84, 96, size=(40, demo_model.n_schools)) * 2) / 2  # ties
    ours = grades(demo_model, totals)
    ours_rank = ranks(totals)
    order = fw.grade_order
    for r in range(len(totals)):
        table = pd.DataFrame({"year": 2024, "total": totals[r]})
        table["grade"] = grade_by_score(table["total"], fw)
        veto = pd.Series([order[v] if v >= 0 else None for v in demo_model.veto_grade], dtype=object)
        table["grade"] = apply_vetoes(table["grade"], veto, fw)
        demoted = apply_quota(table, fw)
        table.loc[demoted, "grade"] = next_grade(table.loc[demoted, "grade"], fw)
        assert [order[g] for g in ours[r]] == table["grade"].tolist()
        assert ours_rank[r].tolist() == table["total"].rank(method="min", ascending=False).astype(int).tolist()


# --------------------------------------------------------------------------- sensitivity and storage


def test_a_single_uncertain_input_explains_all_the_rank_variance(demo_model) -> None:  # type: ignore[no-untyped-def]
    config = RobustnessConfig(replications=400, weights="off", raters=True, sensitivity=400)
    only_a6 = [g for g in input_groups(demo_model, config) if g.key == "raters:A6"]
    from evalkit.robustness.summary import sensitivity

    rank = simulate(demo_model, config, only_a6)[2]
    sens, _per_school = sensitivity(demo_model, config, only_a6, rank)
    assert sens["input"].tolist() == ["raters:A6"]
    assert sens.at[0, "first_order"] == pytest.approx(1.0, abs=0.1)


def test_demo_robustness_is_saved_with_the_results(demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    obs, fw, results = demo
    config = RobustnessConfig(replications=300, sensitivity=100)
    attach_robustness(results, obs, fw, 2024, config)
    table = results.extra["robustness"]
    assert len(table) == 48 and (table["rank_lo"] <= table["rank"]).all() and (table["rank"] <= table["rank_hi"]).all()
    assert (table["interval_share"] >= 0.9).all()
    probs = table[[f"prob_{g}" for g in fw.grade_order]].sum(axis=1)
    assert np.allclose(probs, 1.0)
    assert results.meta["robustness"]["varied"] == "指标权重（±20%）、评分人差异"
    sens = results.extra["sensitivity"]
    assert set(sens["input"]) == {"weights:A", "weights:B", "weights:C", "weights:D", "weights:E", "weights:total",
                                  "raters:A6", "raters:B2", "raters:C1"}
    assert sens["first_order"].between(0, 1).all()
    results.save(tmp_path / "scores")
    back = Results.load(tmp_path / "scores")
    assert set(back.extra) == {"robustness", "sensitivity", "weight_nodes", "rater_marks"}
    pd.testing.assert_frame_equal(back.extra["robustness"], table)
    # one row per node whose weights vary (the five areas and the total), largest shift first
    nodes = back.extra["weight_nodes"]
    assert sorted(nodes["input"]) == ["weights:A", "weights:B", "weights:C", "weights:D", "weights:E", "weights:total"]
    assert nodes["mean_rank_shift"].is_monotonic_decreasing
    assert results.meta["robustness"]["weights_sentence"].startswith(f"在各处权重中，{nodes['input_label'][0]}")
    assert back.for_year(2024).extra["robustness"].shape == table.shape


def test_aggregation_and_missing_policy_each_switch_half_of_the_replications() -> None:
    """S2 (X = D: 0 of 8, Y 100%): arithmetic 92 (好), geometric 0 (一般, no compensation).
    S3 (X = A: 8, Y missing): zero_flag 8 (一般), reweight 8/8 × 100 = 100 (好). Each
    alternative is drawn with probability ½, so each school's P(好) is ½ under its switch only."""
    import yaml

    from evalkit.framework import parse_framework

    fw = parse_framework(yaml.safe_load((FIXTURES / "two-raters.yaml").read_text(encoding="utf-8")))
    obs = _rows([
        ("S1", 2024, "X", "", "inspection", "", "A", ""), ("S1", 2024, "Y", "", "inspection", "", "1", ""),
        ("S2", 2024, "X", "", "inspection", "", "D", ""), ("S2", 2024, "Y", "", "inspection", "", "1", ""),
        ("S3", 2024, "X", "", "inspection", "", "A", ""),
    ])
    results = score(obs, fw)
    model = build_model(obs, fw, results, 2024)
    assert reproduces(model)
    assert results.schools.set_index("school_id")["total"].to_dict() == {"S1": 100.0, "S2": 92.0, "S3": 8.0}
    base = {"replications": 4000, "weights": "off", "raters": False, "sensitivity": 0}
    agg = analyse(model, RobustnessConfig(**base, aggregation=True))[0].set_index("school_id")
    assert agg.at["S2", "prob_好"] == pytest.approx(0.5, abs=0.03) and agg.at["S3", "prob_好"] == 0.0
    miss = analyse(model, RobustnessConfig(**base, missing=True))[0].set_index("school_id")
    assert miss.at["S3", "prob_好"] == pytest.approx(0.5, abs=0.03) and miss.at["S2", "prob_好"] == 1.0
    assert (miss["prob_好"] + miss["prob_一般"] + miss["prob_较好"]).eq(1.0).all()


def test_the_matrix_product_path_equals_the_dense_path(demo_model) -> None:  # type: ignore[no-untyped-def]
    """Arithmetic areas by two matrix products per area (the fast path) give the same area
    points as the full replications × schools × indicators array, with weights, raters and the
    missing-data switch all drawn."""
    from evalkit.robustness.simulate import _areas_dense, _areas_linear, draws

    config = RobustnessConfig(replications=30, missing=True)
    groups = input_groups(demo_model, config)
    drawn = next(draws(demo_model, config, groups, 30, sample=0))
    drawn["missing"] = np.arange(30) % 2 == 0  # the demo has no missing cells; still exercise the path
    np.testing.assert_allclose(_areas_linear(demo_model, groups, drawn, 30),
                               _areas_dense(demo_model, groups, drawn, 30), rtol=1e-12, atol=1e-12)


def test_two_level_results_are_those_before_deeper_trees(demo_model) -> None:  # type: ignore[no-untyped-def]
    """The demo (two levels) with the same seed gives exactly what the Monte Carlo gave before it
    learnt deeper trees (values recorded with main at 7125561): the node order, the draws and
    the arithmetic are unchanged for two-level frameworks."""
    table, sens, _ = analyse(demo_model, RobustnessConfig(replications=300, sensitivity=100, seed=20241220))
    assert table["rank_lo"].tolist() == [
        8, 3, 38, 5, 21, 3, 25, 17, 35, 32, 33, 8, 6, 29, 4, 12, 22, 13, 45, 2, 12, 46, 21, 18, 18, 26, 13, 42,
        7, 28, 23, 35, 41, 33, 42, 31, 47, 15, 26, 23, 1, 39, 47, 11, 7, 30, 34, 42
    ]
    assert table["rank_hi"].tolist() == [
        12, 4, 39, 6, 22, 5, 28, 19, 38, 34, 36, 11, 9, 31, 6, 15, 26, 17, 45, 2, 16, 46, 22, 20, 20, 28, 17,
        44, 11, 30, 25, 39, 41, 37, 44, 32, 48, 17, 29, 26, 1, 40, 48, 13, 9, 32, 38, 44
    ]
    assert table["median_rank"].tolist() == [
        11, 4, 39, 6, 21, 3, 26, 18, 37, 33, 35, 10, 7, 30, 5, 13, 24, 14, 45, 2, 15, 46, 22, 19, 19, 27, 15,
        43, 9, 29, 24, 38, 41, 34, 44, 32, 47, 17, 28, 24, 1, 40, 48, 12, 8, 31, 36, 42
    ]
    assert table["grade_prob"].round(6).tolist() == [
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.533333, 0.913333, 1.0, 1.0, 1.0, 1.0, 0.796667, 1.0,
        0.546667, 1.0, 1.0, 0.61, 1.0, 1.0, 1.0, 1.0, 1.0, 0.843333, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.94, 1.0,
        0.92, 1.0, 0.996667, 1.0, 1.0, 1.0, 1.0, 0.953333, 0.98, 1.0, 1.0, 0.976667, 1.0
    ]
    assert dict(zip(sens["input"], sens["first_order"].round(6), strict=True)) == {
        'weights:total': 0.263028, 'raters:C1': 0.046491, 'weights:B': 0.045787, 'raters:B2': 0.028973,
        'raters:A6': 0.020764, 'weights:C': 0.00725, 'weights:E': 0.006234, 'weights:D': 0.002881, 'weights:A':
        0.0
    }
