"""From replications to what reports show: rank intervals, grade probabilities, sensitivity.

Per school (table ``robustness``): the published rank, the median rank over the replications,
the 5–95% rank interval ``[rank_lo, rank_hi]`` (5% and 95% quantiles, ``inverted_cdf``: actual
ranks, so at least 90% of replications lie inside; ``interval_share`` is the share that does),
the probability of each grade (``prob_<grade>``, after vetoes and the quota) and of the published
grade (``grade_prob``), and the input that explains most of its rank variance (``top_input``).

Sensitivity (table ``sensitivity``): for each input group ``k`` the first-order index
``S_k = Var(E[rank | X_k]) / Var(rank)``, the share of the rank variance that input explains
alone, by pick-freeze (Saltelli et al. 2010, *Comput. Phys. Commun.* 181:259–270): samples
``B`` and ``A_B^k`` (sample ``A`` with group ``k`` taken from ``B``) share input ``k`` only, so
``S_k = Cov(f(B), f(A_B^k)) / Var``, estimated with Janon et al.'s (2014, *ESAIM: P&S*
18:342–364) efficient form: with ``y = f(B)``, ``z = f(A_B^k)`` and ``m = mean((y + z) / 2)``,
``S_k ≈ (mean(y z) − m²) / (mean((y² + z²) / 2) − m²)``. Numerator and denominator are computed
per school and pooled over schools as ``Σ_s num_s / Σ_s den_s`` (each school weighted by how
much its rank varies).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalkit.robustness.config import RobustnessConfig
from evalkit.robustness.influence import node_label
from evalkit.robustness.model import Model
from evalkit.robustness.simulate import Group, input_groups, reproduces, simulate


def input_label(group: Group, model: Model) -> str:
    """The input in Chinese: ``各领域权重``, ``“思想强基”内各指标权重``, ``“德育“333”机制落实”的评分人``."""
    if group.kind == "weights":
        return node_label(model, group.index)
    if group.kind == "raters":
        return f"{model.pools[group.index].name}（{model.pools[group.index].indicator_id}）的评分人"
    return {"aggregation": "汇总方法（算术/几何平均）", "missing": "缺失数据的处理方式"}[group.kind]


def analyse(model: Model, config: RobustnessConfig) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """``(robustness, sensitivity, meta)`` for one year (see the module docstring)."""
    groups = input_groups(model, config)
    _total, grade, rank = simulate(model, config, groups, sample=0)
    table = per_school(model, grade, rank)
    sens, by_school = sensitivity(model, config, groups)
    if by_school is not None and len(sens):
        best = np.argmax(by_school, axis=0)
        varies = table["rank_hi"].to_numpy() > table["rank_lo"].to_numpy()
        table["top_input"] = np.where(varies, sens["input_label"].to_numpy(dtype=object)[best], "")
    else:
        table["top_input"] = ""
    meta = {
        "year": model.year,
        **config.model_dump(),
        "varied": config.describe(),
        "inputs": [g.key for g in groups],
        "reproduces_published": reproduces(model),
    }
    return table, sens, meta


def per_school(model: Model, grade: np.ndarray, rank: np.ndarray) -> pd.DataFrame:
    """The ``robustness`` table from replications' grades and ranks (``n × schools``)."""
    pub = model.published
    lo = np.quantile(rank, 0.05, axis=0, method="inverted_cdf").astype(int)
    hi = np.quantile(rank, 0.95, axis=0, method="inverted_cdf").astype(int)
    out = pd.DataFrame({
        "school_id": pub["school_id"].to_numpy(dtype=object),
        "year": model.year,
        "school_name": pub["school_name"].to_numpy(dtype=object),
        "total": pub["total"].to_numpy(dtype=float),
        "grade": pub["grade"].to_numpy(dtype=object),
        "rank": pub["rank"].to_numpy(dtype=int),
        "n_schools": model.n_schools,
        "median_rank": np.quantile(rank, 0.5, axis=0, method="inverted_cdf").astype(int),
        "rank_lo": lo,
        "rank_hi": hi,
        "interval_share": ((rank >= lo) & (rank <= hi)).mean(axis=0),
        "replications": len(rank),
    })
    for k, g in enumerate(model.grade_order):
        out[f"prob_{g}"] = (grade == k).mean(axis=0)
    index = {g: k for k, g in enumerate(model.grade_order)}
    own = pub["grade"].map(index).to_numpy()
    out["grade_prob"] = (grade == own[None, :]).mean(axis=0)
    return out


def sensitivity(
    model: Model, config: RobustnessConfig, groups: list[Group], rank_a: np.ndarray | None = None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """First-order indices per input group: the pooled table and the per-school indices
    (``groups × schools``), or an empty table when ``config.sensitivity`` is below 2."""
    cols = ["year", "input", "kind", "input_label", "first_order", "n_varied"]
    n = min(config.sensitivity, config.replications)
    if n < 2 or not groups:
        return pd.DataFrame(columns=cols), None
    y = simulate(model, config, groups, sample=1, n=n)[2].astype(float)
    rows, per = [], []
    for k, g in enumerate(groups):
        z = simulate(model, config, groups, sample=0, n=n, swap=(k, 1))[2].astype(float)
        m = ((y + z) / 2).mean(axis=0)
        num = (y * z).mean(axis=0) - m**2
        den = ((y**2 + z**2) / 2).mean(axis=0) - m**2
        per.append(np.where(den > 1e-12, np.clip(num / np.where(den > 1e-12, den, 1), 0, 1), 0.0))
        pooled = float(np.clip(num.sum() / den.sum(), 0, 1)) if den.sum() > 1e-12 else 0.0
        rows.append({"year": model.year, "input": g.key, "kind": g.kind, "input_label": input_label(g, model),
                     "first_order": pooled, "n_varied": int((np.abs(y - z) > 0).any(axis=0).sum())})
    sens = pd.DataFrame(rows, columns=cols).sort_values("first_order", ascending=False, kind="stable")
    order = sens.index.to_numpy()
    return sens.reset_index(drop=True), np.array(per)[order]
