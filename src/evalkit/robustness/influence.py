"""Which node's weights move ranks most: one run per node with only that node's weights drawn.

For every aggregating node with two or more children (at any depth of the tree, the total
included) the year is replayed ``n = min(sensitivity, replications)`` times with **only that
node's child weights** perturbed (drawn as in the full analysis, :mod:`~.simulate`; every other
input held at its published value). Per node (table ``weight_nodes``):

- ``mean_rank_shift`` — the mean over replications and schools of ``|rank − published rank|``;
- ``max_rank_shift`` — the largest such shift;
- ``share_moved`` — the share of schools whose rank changes in at least one replication.

Nodes are listed by ``mean_rank_shift``, largest first; :func:`influence_sentence` names the
first in Chinese. The node's draws are those of sample 0, the same draws that node has in the
full analysis (each input group has its own generator, seeded ``(seed, sample, group)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.robustness.config import RobustnessConfig
from evalkit.robustness.model import Model
from evalkit.robustness.simulate import input_groups, simulate

COLUMNS = ["year", "input", "node_id", "node_name", "level", "n_children", "input_label", "mean_rank_shift",
           "max_rank_shift", "share_moved", "replications"]


def node_label(model: Model, index: int) -> str:
    """``各领域之间的权重`` (the total), ``“X”内各子领域的权重`` (a node over sub-areas),
    ``“X”内各指标的权重`` (a node over indicators)."""
    node = model.nodes[index]
    if index == len(model.nodes) - 1:
        return "各领域之间的权重"
    return f"“{node.name}”内各{'指标' if node.leaf else '子领域'}的权重"


def weight_influence(model: Model, config: RobustnessConfig) -> pd.DataFrame:
    """The ``weight_nodes`` table (see the module docstring); empty when weights are not
    perturbed or ``config.sensitivity`` is 0."""
    n = min(config.sensitivity, config.replications)
    groups = input_groups(model, config)
    weight_groups = [k for k, g in enumerate(groups) if g.kind == "weights"]
    if n < 1 or not weight_groups:
        return pd.DataFrame(columns=COLUMNS)
    published = model.published["rank"].to_numpy(dtype=int)
    rows = []
    for k in weight_groups:
        g = groups[k]
        _total, _grade, rank = simulate(model, config, groups, sample=0, n=n, only=k)
        shift = np.abs(rank - published[None, :])
        node = model.nodes[g.index]
        rows.append({
            "year": model.year, "input": g.key, "node_id": node.node_id, "node_name": node.name,
            "level": node.depth, "n_children": len(node.children), "input_label": node_label(model, g.index),
            "mean_rank_shift": float(shift.mean()), "max_rank_shift": int(shift.max(initial=0)),
            "share_moved": float((shift > 0).any(axis=0).mean()), "replications": n,
        })
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values("mean_rank_shift", ascending=False, kind="stable").reset_index(drop=True)


def influence_sentence(table: pd.DataFrame, config: RobustnessConfig) -> str:
    """The node whose weights move ranks most, in Chinese, e.g. ``在各处权重中，“思想强基”内各指标
    的权重对排名影响最大：仅让这一处权重变动（±20%）时，学校排名平均变动 0.42 位，最多 3 位。``"""
    if table.empty:
        return ""
    spread = f"±{config.weight_spread:.0%}" if config.weights == "uniform" else "狄利克雷分布"
    top = table.iloc[0]
    if top["max_rank_shift"] == 0:
        return f"各处权重单独变动（{spread}）时，没有学校的排名发生变化。"
    return (f"在各处权重中，{top['input_label']}对排名影响最大：仅让这一处权重变动（{spread}）时，"
            f"学校排名平均变动 {top['mean_rank_shift']:.2f} 位，最多 {int(top['max_rank_shift'])} 位。")
