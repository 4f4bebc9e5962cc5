"""A node's child weights by its ``weighting`` method (see ``docs/methods.md``).

- ``fixed``: ``aggregate.weights`` (equal when none are given) — the only method before;
- ``equal``: every child 1;
- ``ahp``: the principal eigenvector (or row geometric means) of the node's pairwise comparison
  matrix, several experts' matrices combined by the element-wise geometric mean; a matrix with
  CR ≥ 0.1 is refused when the framework is loaded;
- ``entropy`` / ``critic``: derived per year from the children's shares over the year's
  schools (:mod:`evalkit.mcda.objective`).

Every resolved weighting is recorded (``record``) for ``Results.meta["weights"]``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pandas as pd

from evalkit.mcda import ahp, objective


def parse_cell(value: float | str) -> float:
    """A matrix cell: a number or a fraction written as text (``"1/3"``)."""
    if isinstance(value, int | float):
        return float(value)
    return float(Fraction(str(value).strip()))


def ahp_for(weighting: Any, child_ids: list[str]) -> tuple[ahp.AHPResult | None, list[tuple[tuple, str]]]:
    """The AHP result of a node's ``weighting`` and the problems found (paths relative to the
    ``weighting`` mapping): criteria that are not the node's children, a matrix of the wrong
    size, not reciprocal, or with CR ≥ 0.1 (naming the CR and the most inconsistent pair)."""
    problems: list[tuple[tuple, str]] = []
    criteria = list(weighting.criteria) if weighting.criteria is not None else list(child_ids)
    if sorted(criteria) != sorted(child_ids):
        problems.append((("criteria",),
                         f"判断矩阵的指标 {criteria} 应恰为下一级的 {child_ids} / criteria must be the children"))
        return None, problems
    if (weighting.matrix is None) == (weighting.experts is None):
        problems.append((("matrix",), "ahp 须给出 matrix（判断矩阵）或 experts（多位专家的矩阵）之一"))
        return None, problems
    raw = [weighting.matrix] if weighting.matrix is not None else list(weighting.experts)
    where = ("matrix",) if weighting.matrix is not None else ("experts",)
    matrices = []
    for k, m in enumerate(raw):
        loc = where if weighting.matrix is not None else (*where, k)
        try:
            parsed = [[parse_cell(v) for v in row] for row in m]
            matrices.append(ahp.check_matrix(parsed, criteria))
        except (ahp.MatrixError, ValueError, ZeroDivisionError) as err:  # a cell that is no number, a bad matrix
            problems.append((loc, f"判断矩阵有误：{err} / invalid comparison matrix"))
    if problems:
        return None, problems
    combined = ahp.combine_experts(matrices) if len(matrices) > 1 else matrices[0]
    result = ahp.ahp_weights(combined, criteria, method=weighting.ahp_method, n_experts=len(matrices))
    if not result.consistent:
        problems.append((where, f"{ahp.InconsistentMatrix(result)} / consistency ratio CR ≥ 0.1"))
    return result, problems


def static_weights(agg: Any, child_ids: list[str]) -> tuple[dict[str, float] | None, dict | None]:
    """Weights that do not depend on the data: ``(weights or None for equal, meta record)``.
    For ``entropy``/``critic`` returns ``(None, None)``: see :func:`data_weights`."""
    method = agg.weighting_method
    if method == "fixed":
        return agg.weights, None
    if method == "equal":
        return None, {"method": "equal"}
    if method == "ahp":
        result, problems = ahp_for(agg.weighting, child_ids)
        if result is None or problems:
            raise ValueError("; ".join(msg for _, msg in problems))
        return result.as_dict(), result.to_meta()
    return None, None


def data_weights(agg: Any, shares: pd.DataFrame) -> dict[str, float]:
    """Entropy or CRITIC weights of the children (columns of ``shares``) over one year's schools."""
    if agg.weighting_method == "entropy":
        w = objective.entropy_weights(shares, normalisation=agg.weighting.normalisation)
    else:
        w = objective.critic_weights(shares)
    return {str(k): float(v) for k, v in w.items()}


def is_data_driven(agg: Any) -> bool:
    return agg.weighting_method in ("entropy", "critic")
