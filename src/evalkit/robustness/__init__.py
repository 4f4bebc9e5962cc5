"""How sure is a rank? Monte Carlo robustness of a year's published result.

N replications (default 1,000, seeded) re-score the year with its uncertain inputs perturbed —
the weights of every node at every depth of the tree, the raters of every multi-rater item
(bootstrap), optionally the aggregation method and the missing-data policy — and report per school the median rank, the
5–95% rank interval and the probability of each grade (after vetoes and the quota), and per
input a first-order sensitivity index, and per node the mean rank shift when only that node's
weights vary. Modules:

- :mod:`~evalkit.robustness.config` — the run file's ``robustness:`` block;
- :mod:`~evalkit.robustness.model` — the year taken apart (unrounded indicator points, rater
  pools, node weights), replayable to the published result;
- :mod:`~evalkit.robustness.simulate` — draws and replications, vectorised;
- :mod:`~evalkit.robustness.summary` — intervals, probabilities, sensitivity indices;
- :mod:`~evalkit.robustness.influence` — which node's weights move ranks most.

>>> from evalkit.robustness import RobustnessConfig
>>> RobustnessConfig().describe()
'指标权重（±20%）、评分人差异'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evalkit.framework import Framework
from evalkit.results import Results
from evalkit.robustness.config import RobustnessConfig
from evalkit.robustness.influence import influence_sentence, weight_influence
from evalkit.robustness.model import Model, NodeWeights, build_model, node_weights
from evalkit.robustness.summary import analyse

__all__ = [
    "Model",
    "NodeWeights",
    "RobustnessConfig",
    "attach_from_files",
    "attach_robustness",
    "build_model",
    "node_weights",
    "robustness_tables",
]


def robustness_tables(
    observations: pd.DataFrame, fw: Framework, results: Results, year: int,
    config: RobustnessConfig | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The year's extra tables (``robustness``, ``sensitivity``, ``weight_nodes``,
    ``rater_marks``) and meta (``weights_sentence``: the node whose weights move ranks most)."""
    config = config or RobustnessConfig()
    model = build_model(observations, fw, results, year)
    table, sens, meta = analyse(model, config)
    nodes = weight_influence(model, config)
    meta["weights_sentence"] = influence_sentence(nodes, config)
    return {"robustness": table, "sensitivity": sens, "weight_nodes": nodes, "rater_marks": model.marks}, meta


def attach_robustness(
    results: Results, observations: pd.DataFrame, fw: Framework, year: int, config: RobustnessConfig | None
) -> Results:
    """Add the year's robustness tables to ``results.extra`` (and ``meta["robustness"]``).
    With ``config`` None only the rater marks are added (the framework audit needs them)."""
    if config is None:
        model = build_model(observations, fw, results, year)
        results.extra["rater_marks"] = model.marks
        return results
    tables, meta = robustness_tables(observations, fw, results, year, config)
    results.extra.update(tables)
    results.meta["robustness"] = meta
    return results


def attach_from_files(
    results: Results, year: int, data: list[str] | None = None, framework: str | Framework = "shiquan-party-building",
    registry: str | None = None, config: RobustnessConfig | None = None,
) -> Results:
    """:func:`attach_robustness` for Results scored from files (``data`` None: the bundled
    demo county and its registry), reading the observations again through intake."""
    from evalkit.api import demo_inputs
    from evalkit.framework import load_framework
    from evalkit.intake import read_observations
    from evalkit.intake.registry import load_registry
    from evalkit.observations import coerce_observations

    if data is None:
        paths, demo_registry = demo_inputs()
        data, registry = [str(p) for p in paths], registry or str(demo_registry)
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    reg = load_registry(registry) if registry else None
    intake = read_observations(list(data), fw, reg)
    intake.raise_if_errors()
    return attach_robustness(results, coerce_observations(intake.observations), fw, year, config)
