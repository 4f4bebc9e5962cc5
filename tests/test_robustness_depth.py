"""Robustness at any depth (evalkit.robustness): a framework with three levels of areas
(tests/fixtures/robustness/three-levels.yaml), its weights perturbed at every node, checked
against the scoring engine (a different code path) and against totals worked out here by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from evalkit.framework import parse_framework
from evalkit.observations import coerce_observations
from evalkit.robustness import RobustnessConfig, build_model, node_weights, robustness_tables
from evalkit.robustness.influence import influence_sentence, weight_influence
from evalkit.robustness.simulate import draws, evaluate, input_groups, reproduces, simulate
from evalkit.scoring import score
from evalkit.scoring.tree import with_aggregates

FIXTURE = Path(__file__).parent / "fixtures" / "robustness" / "three-levels.yaml"
SCHOOLS = ["S1", "S2", "S3", "S4", "S5", "S6"]
# X1 = X2 at every school (P1's weights cannot move a rank), Y1 = Y2 (nor can Q's)
X = np.array([0.9, 0.5, 0.7, 0.8, 0.6, 1.0])
X3 = np.array([0.5, 0.9, 0.7, 0.6, 0.8, 0.3])
Y = np.array([0.7, 0.7, 0.6, 0.8, 0.75, 0.65])


def hand_total(x1, x2, x3, y1, y2, w_p1a=20.0, w_p1b=10.0, w_p=(2.0, 1.0), w_total=(0.6, 0.4), w_q=(1.0, 1.0)):
    """The tree written out: P1 = 30 × weighted mean of the shares x1, x2; P2 = 30 x3;
    P = 60 × (w₁ P1/30 + w₂ P2/30) / (w₁ + w₂); Q = 40 × weighted mean of y1, y2;
    total = 100 × (0.6 P/60 + 0.4 Q/40), rounded half up to 2 decimals."""
    p1 = 30 * (w_p1a * x1 + w_p1b * x2) / (w_p1a + w_p1b)
    p2 = 30 * x3
    p = 60 * (w_p[0] * p1 / 30 + w_p[1] * p2 / 30) / sum(w_p)
    q = 40 * (w_q[0] * y1 + w_q[1] * y2) / sum(w_q)
    base = 100 * (w_total[0] * p / 60 + w_total[1] * q / 40) / sum(w_total)
    return np.floor(base * 100 + 0.5 + 1e-9) / 100


@pytest.fixture(scope="module")
def fw():
    text = FIXTURE.read_text(encoding="utf-8")
    return parse_framework(yaml.safe_load(text), FIXTURE.name, text)


def observations(x1=X, x2=X, x3=X3, y1=Y, y2=Y) -> pd.DataFrame:
    rows = []
    for k, school in enumerate(SCHOOLS):
        for ind, values in (("X1", x1), ("X2", x2), ("X3", x3), ("Y1", y1), ("Y2", y2)):
            rows.append((school, 2024, ind, "", "inspection", "", f"{values[k]:g}", ""))
    cols = ["school_id", "year", "indicator_id", "item", "source", "rater", "value", "evidence"]
    return coerce_observations(pd.DataFrame(rows, columns=cols))


@pytest.fixture(scope="module")
def scored(fw):
    obs = observations()
    results = score(obs, fw)
    return obs, results, build_model(obs, fw, results, 2024)


def test_every_node_at_every_depth_children_first(fw):
    nodes = node_weights(fw)
    assert [n.node_id for n in nodes] == ["P1a", "P1b", "P1", "P2", "P", "Q", ""]
    assert [n.depth for n in nodes] == [3, 3, 2, 2, 1, 1, 0]
    assert [n.leaf for n in nodes] == [True, True, False, True, False, True, False]
    assert nodes[2].weights.tolist() == [20, 10] and nodes[4].weights.tolist() == [2, 1]
    config = RobustnessConfig(raters=False)
    model = build_model(observations(), fw, score(observations(), fw), 2024)
    # nodes with one child have nothing to vary
    assert [g.key for g in input_groups(model, config)] == ["weights:P1", "weights:P", "weights:Q", "weights:total"]


def test_the_three_level_model_replays_the_published_result(scored):
    _obs, results, model = scored
    assert reproduces(model)
    published = results.schools.set_index("school_id").loc[SCHOOLS, "total"].to_numpy()
    assert published.tolist() == hand_total(X, X, X3, Y, Y).tolist()
    # S1: P1 = 27, P2 = 15, P = 60 × (2 × 0.9 + 0.5) / 3 = 46, Q = 28 → 0.6 × 46/60 × 100 + 0.4 × 70 = 74
    assert published[0] == 74.0


def test_weights_drawn_at_depth_two_and_three_match_the_scoring_engine(fw, scored):
    """One replication with P's weights 1 : 1 and P1's 15 : 15 (the rest as published) gives the
    totals the scoring engine gives for the framework with those weights, and the hand formula."""
    obs, _results, model = scored
    config = RobustnessConfig(raters=False)
    groups = input_groups(model, config)
    drawn = {"weights:P": np.array([[1.0, 1.0]]), "weights:P1": np.array([[15.0, 15.0]])}
    total, _grade, rank = evaluate(model, groups, drawn, 1)
    other = with_aggregates(fw, {"P": {"weights": {"P1": 1, "P2": 1}},
                                 "P1": {"method": "weighted_mean", "weights": {"P1a": 15, "P1b": 15}}})
    engine = score(obs, other).schools.set_index("school_id").loc[SCHOOLS]
    assert total[0].tolist() == engine["total"].tolist()
    assert rank[0].tolist() == engine["rank"].tolist()
    assert total[0].tolist() == hand_total(X, X, X3, Y, Y, w_p1a=15, w_p1b=15, w_p=(1, 1)).tolist()
    # with unequal X1, X2 the depth-3 weights matter: 3 : 1 instead of 20 : 10
    x1, x2 = np.array([1.0, 0.2, 0.5, 0.4, 0.9, 0.6]), np.array([0.1, 0.9, 0.5, 0.8, 0.3, 0.6])
    obs2 = observations(x1=x1, x2=x2)
    model2 = build_model(obs2, fw, score(obs2, fw), 2024)
    total2, _, _ = evaluate(model2, groups, {"weights:P1": np.array([[3.0, 1.0]])}, 1)
    assert total2[0].tolist() == hand_total(x1, x2, X3, Y, Y, w_p1a=3, w_p1b=1).tolist()
    engine2 = score(obs2, with_aggregates(fw, {"P1": {"method": "weighted_mean", "weights": {"P1a": 3, "P1b": 1}}}))
    assert total2[0].tolist() == engine2.schools.set_index("school_id").loc[SCHOOLS, "total"].tolist()


def test_monte_carlo_varies_the_sub_area_weights(scored):
    _obs, _results, model = scored
    config = RobustnessConfig(replications=300, raters=False, sensitivity=0, seed=3)
    groups = input_groups(model, config)
    k = [g.key for g in groups].index("weights:P")
    total, _, _ = simulate(model, config, groups, n=300, only=k)
    assert total.std(axis=0).max() > 0  # P's weights move the totals …
    # … and every replication is the hand formula with that replication's weights of P
    drawn = next(draws(model, config, groups, 300, 0, only=k))
    assert list(drawn) == ["weights:P"]  # only P's weights drawn, renormalised to their sum 3
    w = drawn["weights:P"]
    assert np.allclose(w.sum(axis=1), 3.0) and len(np.unique(w[:, 0])) == 300
    for r in (0, 150, 299):
        assert total[r].tolist() == hand_total(X, X, X3, Y, Y, w_p=tuple(w[r])).tolist()


def test_which_node_moves_ranks_most(fw, scored):
    """X1 = X2 and Y1 = Y2 at every school: P1's and Q's weights cannot move a rank (shift 0
    exactly); P's and the total's can, and the sentence names the larger."""
    obs, results, model = scored
    config = RobustnessConfig(replications=400, raters=False, sensitivity=400, seed=11)
    table = weight_influence(model, config).set_index("input")
    assert set(table.index) == {"weights:P1", "weights:P", "weights:Q", "weights:total"}
    for quiet in ("weights:P1", "weights:Q"):
        assert table.at[quiet, "mean_rank_shift"] == 0 and table.at[quiet, "max_rank_shift"] == 0
    assert table.at["weights:P", "mean_rank_shift"] > 0 and table.at["weights:total", "mean_rank_shift"] > 0
    assert table.at["weights:P1", "input_label"] == "“子支柱一”内各子领域的权重"
    assert table.at["weights:Q", "input_label"] == "“支柱二”内各指标的权重"
    assert table.at["weights:P", "level"] == 1 and table.at["weights:P1", "level"] == 2
    top = table["mean_rank_shift"].idxmax()
    sentence = influence_sentence(weight_influence(model, config), config)
    assert sentence.startswith(f"在各处权重中，{table.at[top, 'input_label']}对排名影响最大")
    assert f"平均变动 {table.at[top, 'mean_rank_shift']:.2f} 位" in sentence
    # the mean shift is the mean |rank − published rank| of the replications with P alone drawn
    groups = input_groups(model, config)
    _, _, rank = simulate(model, config, groups, n=400, only=[g.key for g in groups].index("weights:P"))
    shift = np.abs(rank - model.published["rank"].to_numpy())
    assert table.at["weights:P", "mean_rank_shift"] == pytest.approx(shift.mean())
    tables, meta = robustness_tables(obs, fw, results, 2024, config)
    assert meta["weights_sentence"] == sentence and len(tables["weight_nodes"]) == 4


def test_no_node_moves_a_rank_when_every_child_agrees(fw):
    same = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    obs = observations(x1=same, x2=same, x3=same, y1=same, y2=same)
    model = build_model(obs, fw, score(obs, fw), 2024)
    config = RobustnessConfig(replications=100, raters=False, sensitivity=100)
    table = weight_influence(model, config)
    assert (table["max_rank_shift"] == 0).all()
    assert influence_sentence(table, config) == "各处权重单独变动（±20%）时，没有学校的排名发生变化。"


def test_the_reports_read_the_node_table_back(fw, scored, tmp_path):
    from evalkit.analysis.uncertainty import weight_nodes, weights_sentence
    from evalkit.results import Results
    from evalkit.robustness import attach_robustness

    obs, results, _model = scored
    config = RobustnessConfig(replications=200, raters=False, sensitivity=200, seed=5)
    attach_robustness(results, obs, fw, 2024, config)
    results.save(tmp_path / "scores")
    back = Results.load(tmp_path / "scores")
    table = weight_nodes(back, 2024)
    assert table is not None and len(table) == 4
    assert weights_sentence(back, 2024) == results.meta["robustness"]["weights_sentence"] != ""
    assert weight_nodes(back, 2023) is None and weights_sentence(back, 2023) == ""


def test_ahp_and_data_driven_weights_are_the_ones_scoring_used(fw):
    """P weighted by AHP (a 1 : 3 matrix → 0.25 : 0.75), Q and P1 by entropy over the year's
    schools: the model takes the same weights as the engine and replays its totals exactly."""
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    pillar = data["areas"][0]
    pillar["aggregate"] = {"method": "weighted_mean",
                           "weighting": {"method": "ahp", "criteria": ["P1", "P2"], "matrix": [[1, "1/3"], [3, 1]]}}
    pillar["areas"][0]["aggregate"] = {"method": "weighted_mean", "weighting": {"method": "entropy"}}
    data["areas"][1]["aggregate"] = {"method": "weighted_mean", "weighting": {"method": "entropy"}}
    deep = parse_framework(data)
    x1, x2 = np.array([1.0, 0.2, 0.5, 0.4, 0.9, 0.6]), np.array([0.1, 0.9, 0.5, 0.8, 0.3, 0.6])
    y2 = np.array([0.9, 0.3, 0.6, 0.5, 0.75, 0.4])
    obs = observations(x1=x1, x2=x2, y2=y2)
    results = score(obs, deep)
    model = build_model(obs, deep, results, 2024)
    by_id = {n.node_id: n for n in model.nodes}
    assert np.allclose(by_id["P"].weights, [0.25, 0.75])
    # entropy of the shares (sum normalisation), computed here with numpy
    for node, cols in (("P1", [x1, x2]), ("Q", [Y, y2])):
        p = np.stack(cols, axis=1) / np.stack(cols, axis=1).sum(axis=0)
        d = 1 + (p * np.log(p)).sum(axis=0) / np.log(6)
        assert np.allclose(by_id[node].weights, d / d.sum())
    assert reproduces(model)
