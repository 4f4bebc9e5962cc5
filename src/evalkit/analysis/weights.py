"""The weights a framework's weighting methods produced (``Results.meta["weights"]``), for the
county summary: one row per node × child (× year for data-driven methods).

>>> from evalkit.analysis.examples import example_results
>>> weight_methods(example_results(), 2024).empty       # fixed weights only: nothing to show
True
"""

from __future__ import annotations

import pandas as pd

from evalkit.framework import Framework
from evalkit.results import Results
from evalkit.scoring.tree import ROOT

METHOD_NAMES = {
    "ahp": "层次分析法", "entropy": "熵权法", "critic": "CRITIC 法", "equal": "等权",
}
HEADERS = {
    "node_name": "汇总节点", "method": "定权方法", "child_name": "下级指标", "weight": "权重",
    "note": "说明",
}


def uses_derived_weights(results: Results) -> bool:
    """Whether any node's weights came from a method other than fixed numbers."""
    return bool(results.meta.get("weights"))


def weight_methods(results: Results, year: int, fw: Framework | None = None) -> pd.DataFrame:
    """``node_id, node_name, method, child_id, child_name, weight, note`` for ``year``: AHP
    weights with λmax and CR, entropy / CRITIC weights derived from that year's data."""
    names: dict[str, str] = {}
    if fw is not None:
        names = {a.id: a.name for _, a, _, _ in fw.iter_areas()} | {i.id: i.name for i in fw.indicators}
        names[ROOT] = f"总分（{fw.name}）"
    else:
        names[ROOT] = "总分"
    recorded = results.meta.get("weights") or {}
    order = [ROOT, *(a.id for _, a, _, _ in fw.iter_areas())] if fw is not None else [ROOT]
    nodes = sorted(recorded, key=lambda n: order.index(n) if n in order else len(order))
    rows = []
    for node in nodes:  # the total first, then the areas in framework order
        rec = recorded[node]
        method = rec.get("method", "")
        if method in ("entropy", "critic"):
            weights = (rec.get("by_year") or {}).get(str(int(year)), {})
            norm = "，按列求和归一化" if rec.get("normalisation") == "sum" else "，最小—最大值归一化"
            note = f"由 {year} 年各校得分率计算" + (norm if method == "entropy" else "，最小—最大值归一化")
        elif method == "ahp":
            weights = rec.get("weights", {})
            note = f"λmax = {rec['lambda_max']:.4f}，CI = {rec['ci']:.4f}，CR = {rec['cr']:.4f}"
            if rec.get("n_experts", 1) > 1:
                note += f"，{rec['n_experts']} 位专家矩阵几何平均"
        else:
            weights, note = rec.get("weights", {}), ""
        for child, w in weights.items():
            rows.append({
                "node_id": node, "node_name": names.get(node, node), "method": METHOD_NAMES.get(method, method),
                "child_id": child, "child_name": names.get(child, child), "weight": float(w), "note": note,
            })
    return pd.DataFrame(rows, columns=["node_id", "node_name", "method", "child_id", "child_name", "weight", "note"])
