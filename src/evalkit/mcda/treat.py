"""The data steps of a composite index (JRC/OECD *Handbook on Constructing Composite
Indicators* 2008; COINr, Becker et al. 2022), vectorised over schools.

Each step takes a Series of one indicator's values for one year (index = school-years) and
returns the new values plus a :class:`StepRecord` (what was done, with which parameters, and
which values changed) for ``Results.meta`` and the indicator's sentence.

- **impute** by group mean / median (:func:`impute_by_group`): a missing value takes the mean
  (median) of the values of its group (e.g. school type) that year; a group without any value
  takes the whole year's mean (median).
- **treat** outliers (:func:`treat_outliers`, COINr's default ``Treat()``):
  1. pass when ``|skew| < 2`` **or** ``kurtosis < 3.5`` (skewness and excess kurtosis of
     type 2, as Excel's ``SKEW``/``KURT``, pandas' ``Series.skew``/``kurt``);
  2. else winsorise: repeatedly replace the most extreme value(s) on the side of the skew
     (the maximum when skew ≥ 0, else the minimum; ties together) by the next value, until the
     check passes or ``winmax`` (default 5) points have been changed;
  3. if it still fails, undo the winsorisation and log-transform the original values instead:
     ``ln(x − min + 0.01 (max − min))`` (COINr's ``log_CT``).
- **normalise** (:func:`normalise`): ``minmax`` over the year's data (optionally within groups):
  ``(x − min) / (max − min)`` in 0–1 (reversed for lower-is-better; a constant group scores 1);
  ``zscore`` ``(x − mean) / sd`` (population sd); ``rank`` ``(rank − 1) / (n − 1)`` with
  average ranks for ties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from evalkit.framework import methods


@dataclass
class StepRecord:
    """One pipeline step on one indicator × year: ``step`` (impute/treat/normalise), ``method``,
    ``params``, ``changed`` (index label → (before, after)) and a Chinese ``note``."""

    step: str
    method: str
    params: dict = field(default_factory=dict)
    changed: dict = field(default_factory=dict)
    note: str = ""

    def to_meta(self) -> dict:
        return {
            "step": self.step, "method": self.method, "params": self.params, "note": self.note,
            "n_changed": len(self.changed),
        }


def impute_by_group(
    values: pd.Series, groups: pd.Series | None, how: Literal["mean", "median"] = "mean"
) -> tuple[pd.Series, StepRecord]:
    """Fill missing values with their group's mean / median (see module docstring)."""
    x = values.astype(float)
    overall = getattr(x, how)()
    if groups is None:
        fill = pd.Series(overall, index=x.index)
    else:
        fill = x.groupby(groups.to_numpy(), dropna=False).transform(how).fillna(overall)
    out = x.where(x.notna(), fill)
    changed = {k: (np.nan, float(out[k])) for k in x.index[x.isna() & out.notna()]}
    label = "均值" if how == "mean" else "中位数"
    note = f"缺失值按{'同类学校' if groups is not None else '全县'}{label}插补" if changed else ""
    return out, StepRecord("impute", f"group_{how}", {"how": how, "by_group": groups is not None}, changed, note)


def skewness(x: np.ndarray) -> float:
    """Sample skewness, type 2 (Excel ``SKEW``): ``√(n(n−1))/(n−2) · m3 / m2^1.5``."""
    return float(pd.Series(x).skew())


def kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis, type 2 (Excel ``KURT``)."""
    return float(pd.Series(x).kurt())


def passes(x: np.ndarray, skew_max: float = 2.0, kurt_max: float = 3.5) -> bool:
    """COINr's check: ``|skew| < skew_max`` or ``kurtosis < kurt_max`` (fewer than 4 values pass)."""
    x = x[~np.isnan(x)]
    if len(x) < 4:
        return True
    return bool(abs(skewness(x)) < skew_max or kurtosis(x) < kurt_max)


def treat_outliers(
    values: pd.Series, *, winmax: int = 5, skew_max: float = 2.0, kurt_max: float = 3.5, log_fallback: bool = True
) -> tuple[pd.Series, StepRecord]:
    """Winsorise, or log-transform when winsorisation is not enough (see module docstring)."""
    x0 = values.to_numpy(dtype=float)
    params = {"winmax": winmax, "skew_max": skew_max, "kurt_max": kurt_max, "log_fallback": log_fallback}
    present = x0[~np.isnan(x0)]
    if passes(x0, skew_max, kurt_max):
        return values.astype(float), StepRecord("treat", "none", params)
    x = x0.copy()
    n_changed = 0
    while not passes(x, skew_max, kurt_max) and n_changed < winmax:
        hi = skewness(x[~np.isnan(x)]) >= 0
        extreme = np.nanmax(x) if hi else np.nanmin(x)
        at = x == extreme
        rest = x[~at & ~np.isnan(x)]
        if not len(rest):
            break
        x[at] = rest.max() if hi else rest.min()
        n_changed += int(at.sum())
    if passes(x, skew_max, kurt_max):
        out = pd.Series(x, index=values.index)
        changed = {k: (float(a), float(b)) for k, a, b in zip(values.index, x0, x, strict=True) if a != b}
        note = f"偏度、峰度超标，缩尾处理 {len(changed)} 个极端值"
        return out, StepRecord("treat", "winsorise", params, changed, note)
    if not log_fallback:
        out = pd.Series(x, index=values.index)
        changed = {k: (float(a), float(b)) for k, a, b in zip(values.index, x0, x, strict=True) if a != b}
        return out, StepRecord("treat", "winsorise", params, changed, f"缩尾 {len(changed)} 个值后偏度、峰度仍超标")
    lo, hi_v = present.min(), present.max()
    logged = np.log(x0 - lo + 0.01 * (hi_v - lo))
    out = pd.Series(logged, index=values.index)
    changed = {k: (float(a), float(b)) for k, a, b in zip(values.index, x0, logged, strict=True) if not np.isnan(a)}
    return out, StepRecord("treat", "log", params, changed, "缩尾后偏度、峰度仍超标，改作对数变换")


def normalise(
    values: pd.Series,
    method: Literal["minmax", "zscore", "rank"] = "minmax",
    *,
    groups: pd.Series | None = None,
    higher_is_better: bool = True,
) -> tuple[pd.Series, StepRecord]:
    """Normalise over the year's data, optionally within groups (see module docstring)."""
    x = values.astype(float)

    def one(part: pd.Series) -> pd.Series:
        if method == "minmax":
            lo, hi = part.min(), part.max()
            if not np.isfinite(hi - lo) or hi == lo:
                return part.where(part.isna(), 1.0)
            return methods.minmax(part, lo, hi, higher_is_better=higher_is_better)
        if method == "zscore":
            return methods.zscore(part, higher_is_better=higher_is_better)
        if method == "rank":
            return methods.percentile_rank(part, higher_is_better=higher_is_better)
        raise ValueError(f"未知的标准化方法“{method}”")

    out = one(x) if groups is None else x.groupby(groups.to_numpy(), group_keys=False).apply(one).reindex(x.index)
    names = {
        "minmax": "按当年数据最小—最大值标准化",
        "zscore": "按当年数据标准分（z 分数）标准化",
        "rank": "按当年排名标准化",
    }
    note = names[method] + ("（分类型）" if groups is not None else "")
    params = {"by_group": groups is not None, "higher_is_better": higher_is_better}
    return out, StepRecord("normalise", method, params, {}, note)
