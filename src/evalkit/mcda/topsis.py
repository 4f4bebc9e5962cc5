"""TOPSIS (Hwang & Yoon 1981): closeness of each school to the ideal school.

With rows ``i`` (schools), columns ``j`` (criteria), weights ``w_j`` (scaled to ``Σ w = 1``):

1. normalisation — ``vector``: ``r_ij = x_ij / √(Σ_i x_ij²)``; ``minmax``:
   ``r_ij = (x_ij − min_j) / (max_j − min_j)`` (0 for a constant column);
2. ``v_ij = w_j r_ij``;
3. ideal ``v⁺_j = max_i v_ij`` for a benefit criterion (``min`` for a cost criterion), anti-ideal
   ``v⁻_j`` the other way round;
4. ``D⁺_i = √Σ_j (v_ij − v⁺_j)²``, ``D⁻_i = √Σ_j (v_ij − v⁻_j)²``;
5. closeness ``C_i = D⁻_i / (D⁺_i + D⁻_i)`` in ``[0, 1]``; a school at the ideal (``D⁺ = 0``)
   scores 1.

Missing cells are left out of the ideal and of the distances. The result depends on which
schools are compared: TOPSIS is relative to the year's schools, like ``zscore``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

TopsisNormalisation = Literal["vector", "minmax"]


def topsis(
    frame: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    *,
    benefit: Mapping[str, bool] | None = None,
    normalisation: TopsisNormalisation = "vector",
) -> pd.Series:
    """Closeness coefficient per row of ``frame`` (see the module docstring).

    ``weights`` maps column → weight (equal when omitted; a column left out weighs 0);
    ``benefit`` maps column → ``False`` for a cost criterion (default benefit).

    >>> topsis(pd.DataFrame({"a": [1.0, 2.0, 3.0]})).round(3).tolist()
    [0.0, 0.5, 1.0]
    """
    x = frame.to_numpy(dtype=float)
    cols = list(frame.columns)
    w = np.array([1.0 if weights is None else float(weights.get(c, 0.0)) for c in cols])
    w = w / w.sum() if w.sum() > 0 else np.full(len(cols), 1.0 / max(len(cols), 1))
    is_benefit = np.array([True if benefit is None else bool(benefit.get(c, True)) for c in cols])
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalisation == "vector":
            norm = np.sqrt(np.nansum(x * x, axis=0))
            r = np.where(norm > 0, x / np.where(norm > 0, norm, 1.0), 0.0)
        elif normalisation == "minmax":
            lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
            span = hi - lo
            r = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 0.0)
        else:
            raise ValueError(f"未知的 TOPSIS 归一化方法“{normalisation}”（vector 或 minmax）")
    r = np.where(np.isnan(x), np.nan, r)
    v = r * w
    best = np.where(is_benefit, np.nanmax(v, axis=0), np.nanmin(v, axis=0))
    worst = np.where(is_benefit, np.nanmin(v, axis=0), np.nanmax(v, axis=0))
    d_plus = np.sqrt(np.nansum((v - best) ** 2, axis=1))
    d_minus = np.sqrt(np.nansum((v - worst) ** 2, axis=1))
    total = d_plus + d_minus
    closeness = np.where(total > 0, d_minus / np.where(total > 0, total, 1.0), 1.0)
    closeness = np.where(np.isnan(x).all(axis=1), np.nan, closeness)
    return pd.Series(closeness, index=frame.index)
