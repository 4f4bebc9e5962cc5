"""Generic composite-indicator building blocks: normalisation and aggregation.

These are the steps of a composite index (OECD/JRC *Handbook on Constructing Composite
Indicators*; COINr): each is a pure function over pandas objects, usable at any level of the
framework tree. The scoring rules in :mod:`evalkit.framework.rules` that normalise (``minmax``,
``zscore``, ``percentile``, ``distance_to_target``) are thin wrappers around these.

Examples
--------
>>> import pandas as pd
>>> minmax(pd.Series([20.0, 52.5, 85.0]), lower=20, upper=85).tolist()
[0.0, 0.5, 1.0]
>>> weighted_geometric_mean(pd.DataFrame({"a": [0.25], "b": [1.0]})).round(6).tolist()
[0.5]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "denominate",
    "distance_to_target",
    "minmax",
    "percentile_rank",
    "weighted_arithmetic_mean",
    "weighted_geometric_mean",
    "zscore",
]


def denominate(values: pd.Series, denominators: pd.Series, per: float = 1.0) -> pd.Series:
    """Denomination (COINr ``Denominate``: ``x / (d / ScaleFactor)``): ``per × x / d``, aligned
    on the index — e.g. activities per 100 pupils with ``per = 100``. A missing value or
    denominator gives a missing ratio; a zero denominator gives ±inf (callers refuse it).

    >>> denominate(pd.Series([8.0, 3.0]), pd.Series([400.0, 150.0]), per=100).tolist()
    [2.0, 2.0]
    """
    x = pd.to_numeric(values, errors="coerce").astype(float)
    d = pd.to_numeric(denominators, errors="coerce").astype(float).reindex(x.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        return x / (d / float(per))


def minmax(
    values: pd.Series,
    lower: float,
    upper: float,
    *,
    log: bool = False,
    cap: bool = True,
    higher_is_better: bool = True,
) -> pd.Series:
    """Min-max normalisation against fixed goalposts.

    ``x' = (f(x) - f(lower)) / (f(upper) - f(lower))`` where ``f`` is ``ln`` when ``log`` is
    true and the identity otherwise; with ``higher_is_better=False`` the result is ``1 - x'``.
    With ``cap`` the result is clipped to ``[0, 1]`` (values beyond the goalposts score as the
    goalpost; with ``log``, a value ≤ 0 is beyond the lower goalpost). Missing values stay
    missing.
    """
    x = pd.to_numeric(values, errors="coerce").astype(float)
    lo, hi = float(lower), float(upper)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log(x.clip(lower=0.0))  # ln 0 = -inf: x <= 0 lies below the lower goalpost
        lo, hi = np.log(lo), np.log(hi)
    scaled = (x - lo) / (hi - lo)
    if not higher_is_better:
        scaled = 1.0 - scaled
    return scaled.clip(0.0, 1.0) if cap else scaled


def zscore(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Standardisation: ``z = (x - mean) / sd`` over the series (population sd, ``ddof=0``).

    A series with zero spread scores 0 everywhere. Missing values are ignored in the mean and
    sd and stay missing.
    """
    x = pd.to_numeric(values, errors="coerce").astype(float)
    sd = x.std(ddof=0)
    z = (x - x.mean()) / sd if sd and not np.isnan(sd) else x * 0.0
    return z if higher_is_better else -z


def percentile_rank(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Percentile rank in ``[0, 1]``: ``(rank - 1) / (n - 1)`` with average ranks for ties.

    The lowest value scores 0, the highest 1 (reversed when ``higher_is_better`` is false); a
    series of one value scores 1. Missing values stay missing and are not counted in ``n``.
    """
    x = pd.to_numeric(values, errors="coerce").astype(float)
    ranks = x.rank(method="average", ascending=higher_is_better)
    n = int(x.notna().sum())
    if n <= 1:
        return ranks.where(ranks.isna(), 1.0)
    return (ranks - 1.0) / (n - 1.0)


def distance_to_target(
    values: pd.Series, target: float, *, higher_is_better: bool = True, cap: bool = True
) -> pd.Series:
    """Distance to a target as a share of it.

    Higher is better: ``x / target``; lower is better: ``target / x`` (0 when x = 0 would be
    infinite attainment, taken as 1). With ``cap`` the share is clipped to ``[0, 1]``.
    """
    x = pd.to_numeric(values, errors="coerce").astype(float)
    t = float(target)
    if higher_is_better:
        share = x / t
    else:
        with np.errstate(divide="ignore"):
            share = (t / x).where(x != 0, 1.0)
    return share.clip(0.0, 1.0) if cap else share


def _weights_for(frame: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.Series:
    if weights is None:
        return pd.Series(1.0, index=frame.columns)
    return pd.Series({c: float(weights.get(c, 0.0)) for c in frame.columns})


def weighted_arithmetic_mean(
    frame: pd.DataFrame, weights: Mapping[str, float] | None = None
) -> pd.Series:
    """Row-wise weighted arithmetic mean: ``Σ w_i x_i / Σ w_i``.

    Missing cells are left out and the remaining weights re-normalised; a row with no value is
    missing. ``weights`` maps column name to weight (equal weights when omitted).
    """
    w = _weights_for(frame, weights)
    present = frame.notna()
    num = frame.fillna(0.0).mul(w, axis=1).sum(axis=1)
    den = present.mul(w, axis=1).sum(axis=1)
    return (num / den).where(den > 0)


def weighted_geometric_mean(
    frame: pd.DataFrame, weights: Mapping[str, float] | None = None
) -> pd.Series:
    """Row-wise weighted geometric mean: ``Π x_i^(w_i / Σ w)`` = ``exp(Σ w_i ln x_i / Σ w_i)``.

    A zero in any component gives zero (no compensation — the point of a geometric mean).
    Missing cells are left out and the remaining weights re-normalised.
    """
    w = _weights_for(frame, weights)
    present = frame.notna()
    den = present.mul(w, axis=1).sum(axis=1)
    any_zero = (frame.fillna(1.0) <= 0).mul(w > 0, axis=1).any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(frame.where(frame > 0))
    num = logs.fillna(0.0).mul(w, axis=1).sum(axis=1)
    result = np.exp(num / den)
    result = result.where(~any_zero, 0.0)
    return result.where(den > 0)
