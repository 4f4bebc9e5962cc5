"""Data-driven weights: entropy (熵权法) and CRITIC. Rows are schools, columns criteria.

**Entropy** (Shannon; as used in Chinese evaluation practice and Zeleny 1982):

1. normalisation — ``sum`` (default): ``p_ij = x_ij / Σ_i x_ij`` on the values as given
   (they must be ≥ 0; in a framework they are the children's shares, already oriented so that
   higher is better); ``minmax``: first ``x'_ij = (x_ij − min_j) / (max_j − min_j)``
   (``(max_j − x_ij) / (max_j − min_j)`` for a lower-is-better criterion), then ``p_ij`` as above;
2. ``e_j = −(1 / ln m) Σ_i p_ij ln p_ij`` (``0 · ln 0 = 0``; ``m`` schools);
3. ``d_j = 1 − e_j``, ``w_j = d_j / Σ d_j``. A criterion on which every school is equal carries no
   information and gets weight 0; when all do, the weights are equal.

**CRITIC** (Diakoulaki, Mavrotas & Papayannakis 1995):

1. normalisation — min-max per criterion, ``x'_ij = (x_ij − min_j) / (max_j − min_j)``
   (reversed for lower-is-better);
2. contrast ``σ_j``: the population standard deviation (``ddof = 0``) of ``x'_j``;
3. conflict ``Σ_k (1 − r_jk)`` with ``r`` Pearson's correlation of the normalised columns
   (a constant column's correlations count as 0);
4. ``C_j = σ_j Σ_k (1 − r_jk)``, ``w_j = C_j / Σ C_j``.

Missing cells (NaN) are left out column by column (entropy) or row-wise (CRITIC uses the rows
complete on every criterion).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError

Normalisation = Literal["sum", "minmax"]



class CriteriaDataError(EvalkitError):
    """Criteria values a method cannot take (negative values for the sum normalisation)."""

def _minmax(frame: pd.DataFrame, higher_is_better: Mapping[str, bool] | None) -> pd.DataFrame:
    lo, hi = frame.min(), frame.max()
    span = (hi - lo).replace(0, np.nan)
    out = (frame - lo) / span
    for col, better in (higher_is_better or {}).items():
        if not better and col in out:
            out[col] = 1.0 - out[col]
    return out.where(span.notna().to_numpy()[None, :] | frame.isna(), 0.0)


def _equal_when_degenerate(d: pd.Series) -> pd.Series:
    total = d.sum()
    if not np.isfinite(total) or total <= 0:
        return pd.Series(1.0 / len(d), index=d.index)
    return d / total


def entropy_weights(
    frame: pd.DataFrame,
    *,
    normalisation: Normalisation = "sum",
    higher_is_better: Mapping[str, bool] | None = None,
) -> pd.Series:
    """Entropy weights of the columns of ``frame`` (see the module docstring).

    >>> entropy_weights(pd.DataFrame({"a": [1.0, 1.0], "b": [1.0, 0.0]})).tolist()
    [0.0, 1.0]
    """
    x = frame.astype(float)
    if normalisation == "minmax":
        x = _minmax(x, higher_is_better)
    elif normalisation != "sum":
        raise ValueError(f"未知的归一化方法“{normalisation}”（sum 或 minmax）")
    if (x < 0).any().any():
        col = x.columns[(x < 0).any()][0]
        raise CriteriaDataError(f"熵权法的 sum 归一化要求非负数据，{col} 有负值；请改用 minmax")
    m = x.notna().sum()
    p = x / x.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = (p * np.log(p)).where(p > 0, 0.0)
    e = -plogp.sum() / np.log(m.where(m > 1))
    d = (1.0 - e).fillna(0.0).clip(lower=0.0)
    return _equal_when_degenerate(d)


def critic_weights(frame: pd.DataFrame, *, higher_is_better: Mapping[str, bool] | None = None) -> pd.Series:
    """CRITIC weights of the columns of ``frame`` (see the module docstring).

    >>> critic_weights(pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [0.0, 0.0, 0.0]})).tolist()
    [1.0, 0.0]
    """
    x = _minmax(frame.astype(float).dropna(), higher_is_better)
    sigma = x.std(ddof=0).fillna(0.0)
    r = x.corr().fillna(0.0)
    conflict = (1.0 - r).sum()
    return _equal_when_degenerate(sigma * conflict)
