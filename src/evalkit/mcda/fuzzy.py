"""Fuzzy comprehensive evaluation (模糊综合评价, Zadeh 1965; 汪培庄 1983).

A school is judged on factors ``i`` (the node's children) against a grade set (评语集),
by default ``好 / 较好 / 一般 / 差``:

1. **membership matrix** ``R`` (factors × grades, rows sum to 1), per school, either
   - from **ratings**: ``r_ij`` = the share of raters who gave factor ``i`` grade ``j``
     (:func:`membership_from_ratings`), or
   - from **value bands**: each grade has a peak value (e.g. shares 0.9 / 0.75 / 0.6 / 0.4);
     a value between two neighbouring peaks belongs to both, linearly (triangular membership
     functions forming a partition of unity); above the best peak it is wholly the best grade,
     below the worst wholly the worst (:func:`membership_from_bands`);
2. **composition** ``B = A ∘ R`` with the factor weights ``A`` (scaled to ``Σ a = 1``):
   - ``weighted_average`` — ``M(•,⊕)``: ``b_j = Σ_i a_i r_ij`` (every factor counts; the default);
   - ``max_min`` — ``M(∧,∨)``: ``b_j = max_i min(a_i, r_ij)`` (main factor decides);
   - ``max_product`` — ``M(•,∨)``: ``b_j = max_i a_i r_ij`` (main factor stands out);
3. **read-outs**: the **maximum-membership** grade ``argmax_j b_j`` and the **weighted score**
   ``Σ_j b_j s_j / Σ_j b_j`` with grade scores ``s`` (default 好 1, 较好 0.8, 一般 0.6, 差 0.4).

Arrays are vectorised over schools: ``R`` has shape ``(schools, factors, grades)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

GRADES: tuple[str, ...] = ("好", "较好", "一般", "差")
GRADE_SCORES: dict[str, float] = {"好": 1.0, "较好": 0.8, "一般": 0.6, "差": 0.4}
Operator = Literal["weighted_average", "max_min", "max_product"]


def membership_from_ratings(counts: np.ndarray) -> np.ndarray:
    """Membership from rating counts: ``(…, grades)`` counts → shares along the last axis
    (all zeros stay zeros)."""
    c = np.asarray(counts, dtype=float)
    total = c.sum(axis=-1, keepdims=True)
    return np.divide(c, total, out=np.zeros_like(c), where=total > 0)


def membership_from_bands(values: np.ndarray, peaks: Sequence[float]) -> np.ndarray:
    """Membership of each value in each grade, from the grades' peak values (best grade first,
    peaks strictly decreasing). Output shape ``values.shape + (len(peaks),)``; NaN values give
    NaN rows.

    >>> membership_from_bands(np.array([0.95, 0.8, 0.3]), [0.9, 0.75, 0.6, 0.4]).round(3).tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.333, 0.667, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """
    v = np.asarray(values, dtype=float)
    p = np.asarray(peaks, dtype=float)
    if len(p) < 2 or np.any(np.diff(p) >= 0):
        raise ValueError("等级隶属函数的峰值应从优到差严格递减")
    out = np.zeros((*v.shape, len(p)))
    clipped = np.clip(v, p[-1], p[0])
    # segment k lies between peaks k (higher) and k + 1 (lower)
    k = np.clip(np.searchsorted(-p, -clipped, side="right") - 1, 0, len(p) - 2)
    upper, lower = p[k], p[k + 1]
    t = (clipped - lower) / (upper - lower)  # 1 at the higher peak
    np.put_along_axis(out, k[..., None], t[..., None], axis=-1)
    np.put_along_axis(out, (k + 1)[..., None], (1.0 - t)[..., None], axis=-1)
    out[np.isnan(v)] = np.nan
    return out


def compose(membership: np.ndarray, weights: Sequence[float], operator: Operator = "weighted_average") -> np.ndarray:
    """``B = A ∘ R`` for every school: ``membership`` ``(schools, factors, grades)`` → ``(schools, grades)``.

    A factor whose membership row is NaN (missing) is left out and the weights re-normalised.
    """
    r = np.asarray(membership, dtype=float)
    a = np.asarray(weights, dtype=float)
    present = ~np.isnan(r).any(axis=-1)  # (schools, factors)
    a_s = np.where(present, a[None, :], 0.0)
    total = a_s.sum(axis=1, keepdims=True)
    a_s = np.divide(a_s, total, out=np.zeros_like(a_s), where=total > 0)
    r0 = np.nan_to_num(r)
    if operator == "weighted_average":
        b = np.einsum("sf,sfg->sg", a_s, r0)
    elif operator == "max_min":
        b = np.max(np.minimum(a_s[..., None], r0), axis=1)
    elif operator == "max_product":
        b = np.max(a_s[..., None] * r0, axis=1)
    else:
        raise ValueError(f"未知的模糊合成算子“{operator}”")
    b[~present.any(axis=1)] = np.nan
    return b


def max_membership(b: np.ndarray, grades: Sequence[str] = GRADES) -> np.ndarray:
    """The grade of largest membership per school (the better grade on a tie); '' when missing."""
    b = np.asarray(b, dtype=float)
    idx = np.argmax(np.nan_to_num(b, nan=-1.0), axis=-1)
    out = np.asarray(grades, dtype=object)[idx]
    out[np.isnan(b).all(axis=-1)] = ""
    return out


def weighted_score(b: np.ndarray, scores: Sequence[float]) -> np.ndarray:
    """``Σ_j b_j s_j / Σ_j b_j`` per school (NaN when missing)."""
    b = np.asarray(b, dtype=float)
    s = np.asarray(scores, dtype=float)
    total = b.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (b * s).sum(axis=-1) / total, np.nan)


def grade_scores(grades: Sequence[str], scores: Mapping[str, float] | None = None) -> list[float]:
    table = dict(GRADE_SCORES, **(scores or {}))
    return [float(table[g]) for g in grades]


def evaluate(
    shares: pd.DataFrame,
    weights: Mapping[str, float] | None,
    peaks: Sequence[float],
    *,
    grades: Sequence[str] = GRADES,
    scores: Sequence[float] | None = None,
    operator: Operator = "weighted_average",
    memberships: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Fuzzy evaluation of every row of ``shares`` (children's shares in 0–1) from value bands:
    columns ``b_<grade>`` (the membership vector ``B``), ``grade`` (maximum membership) and
    ``score`` (weighted score in 0–1). ``memberships`` gives, for some children, membership
    rows of their own (``(rows, grades)``, e.g. from ratings); a row that is NaN there falls
    back to the child's value band."""
    cols = list(shares.columns)
    a = [1.0 if weights is None else float(weights.get(c, 0.0)) for c in cols]
    r = membership_from_bands(shares.to_numpy(dtype=float), peaks)
    for k, c in enumerate(cols):
        own = (memberships or {}).get(c)
        if own is not None:
            has = ~np.isnan(own).any(axis=1)
            r[has, k, :] = own[has]
    b = compose(r, a, operator)
    s = list(scores) if scores is not None else grade_scores(grades)
    out = pd.DataFrame(b, index=shares.index, columns=[f"b_{g}" for g in grades])
    out["grade"] = max_membership(b, grades)
    out["score"] = weighted_score(b, s)
    return out
