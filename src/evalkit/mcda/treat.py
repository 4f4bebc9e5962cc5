"""The data steps of a composite index (JRC/OECD *Handbook on Constructing Composite
Indicators* 2008; COINr, Becker et al. 2022), vectorised over schools.

Each step takes a Series of one indicator's values for one year (index = school-years) and
returns the new values plus a :class:`StepRecord` (what was done, with which parameters, and
which values changed) for ``Results.meta`` and the indicator's sentence. The steps run in
COINr's order (``build_example_coin``: ``Denominate`` → ``Impute`` → ``Treat`` →
``Normalise`` → ``Aggregate``):

- **denominate** (:func:`denominate`, COINr ``Denominate``, ``R/denominate.R``): ``x ÷ (d ÷
  per)`` = ``per · x / d``, e.g. activities per 100 pupils with ``per = 100``.
- **impute** by group mean / median (:func:`impute_by_group`): a missing value takes the mean
  (median) of the values of its group (e.g. school type) that year; a group without any value
  takes the whole year's mean (median).
- **treat** outliers (:func:`treat_outliers`), exactly COINr's default ``Treat()``
  (``R/treat.R``: ``Treat.numeric``, ``winsorise``, ``check_SkewKurt``, ``skew``, ``kurt``,
  ``log_CT``; defaults of ``Treat.data.frame``):

  1. ``check_SkewKurt``: pass when ``|skew| < 2`` **or** ``kurtosis < 3.5`` — so an indicator
     is treated only when ``|skew| ≥ 2`` **and** ``kurtosis ≥ 3.5``; skewness and excess
     kurtosis as ``e1071`` type 2 (Excel ``SKEW``/``KURT``), over the values present;
     undefined (fewer than 3 / 4 values, or no spread) follows R's logic (``TRUE | NA`` is
     true, ``FALSE | NA`` is NA) and an undefined check leaves the indicator untreated, as
     ``Treat`` does after its warning;
  2. ``winsorise``, one round at a time while the check fails and fewer than ``winmax``
     (default 5) points have been winsorised: when ``skew ≥ 0`` every value equal to the
     maximum takes the largest of the other values (``x[imax] <- max(x[-imax])``), else every
     value equal to the minimum takes the smallest other value; the count after a round is
     the number of points at the extreme in that round (``nwin <- length(imax) +
     length(imin)``), which are all the points changed so far on that side — a point
     winsorised earlier ties at the new extreme and is **not** counted twice;
  3. if the check still fails, the winsorisation is dropped and ``log_CT`` is applied to the
     **original** values: ``ln(x − min + 0.01 (max − min))`` (``combine_treat = FALSE``); the
     result is kept whether or not it passes (the check after it is recorded).
- **normalise** (:func:`normalise`): ``minmax`` over the year's data (optionally within groups):
  ``(x − min) / (max − min)`` in 0–1 (reversed for lower-is-better; a constant group scores 1);
  ``zscore`` ``(x − mean) / sd`` (population sd); ``rank`` ``(rank − 1) / (n − 1)`` with
  average ranks for ties; ``goalposts`` against fixed goalposts (COINr ``n_goalposts``,
  ``R/normalise.R``, with ``trunc2posts = TRUE``): ``(f(x) − f(lower)) / (f(upper) − f(lower))``
  clipped to 0–1, ``f = ln`` when ``log`` — the UNDP HDI's dimension indices
  (:func:`evalkit.framework.methods.minmax`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from evalkit.framework import methods


@dataclass
class StepRecord:
    """One pipeline step on one indicator × year: ``step`` (denominate/impute/treat/normalise),
    ``method``, ``params``, ``changed`` (index label → (before, after)), a Chinese ``note`` and
    ``details`` (e.g. the skewness and kurtosis before and after treatment)."""

    step: str
    method: str
    params: dict = field(default_factory=dict)
    changed: dict = field(default_factory=dict)
    note: str = ""
    details: dict = field(default_factory=dict)

    def to_meta(self) -> dict:
        return {
            "step": self.step, "method": self.method, "params": self.params, "note": self.note,
            "n_changed": len(self.changed), **self.details,
        }


def denominate(values: pd.Series, denominators: pd.Series, per: float = 1.0) -> tuple[pd.Series, StepRecord]:
    """``per · x / d`` (COINr ``Denominate.data.frame``: ``x / (d / ScaleFactor)``). A missing
    value or denominator gives a missing ratio (the caller refuses zero denominators, and
    missing ones unless they are to be imputed)."""
    x = values.astype(float)
    out = methods.denominate(x, denominators, per)
    changed = {k: (float(a), float(b)) for k, a, b in zip(x.index, x, out, strict=True) if not np.isnan(b)}
    return out, StepRecord("denominate", "ratio", {"per": float(per)}, changed, "")


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


def _deviations(x: np.ndarray, min_n: int) -> tuple[int, np.ndarray, float] | None:
    """(n, ``d = x − mean``, ``Σd²``) of the values present; ``None`` with fewer than ``min_n``
    values or when they are all equal (the moments are then 0/0)."""
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) < min_n:
        return None
    d = v - v.mean()
    s2 = float(np.sum(d**2))
    return None if s2 == 0 else (len(v), d, s2)


def skewness(x: np.ndarray) -> float:
    """COINr ``skew()`` (``e1071::skewness`` type 2, Excel ``SKEW``) of the values present:
    with ``d = x − mean``, ``√n Σd³ / (Σd²)^1.5 · √(n(n−1)) / (n−2)``; NaN with fewer than
    3 values (and for constant values, 0/0)."""
    if (dev := _deviations(x, 3)) is None:
        return math.nan
    n, d, s2 = dev
    return math.sqrt(n) * float(np.sum(d**3)) / s2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)


def kurtosis(x: np.ndarray) -> float:
    """COINr ``kurt()`` (``e1071::kurtosis`` type 2, Excel ``KURT``, excess kurtosis) of the
    values present: with ``r = n Σd⁴ / (Σd²)²``, ``((n+1)(r−3) + 6)(n−1) / ((n−2)(n−3))``; NaN
    with fewer than 4 values (and for constant values)."""
    if (dev := _deviations(x, 4)) is None:
        return math.nan
    n, d, s2 = dev
    r = n * float(np.sum(d**4)) / s2**2
    return ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))


def check_skew_kurt(x: np.ndarray, skew_max: float = 2.0, kurt_max: float = 3.5) -> bool | None:
    """COINr ``check_SkewKurt``: ``(|skew| < skew_max) | (kurtosis < kurt_max)`` with R's
    three-valued ``|`` — ``None`` (R's NA) when undefined and not decided by the other side."""
    sk, kt = skewness(x), kurtosis(x)
    a = None if math.isnan(sk) else abs(sk) < skew_max
    b = None if math.isnan(kt) else kt < kurt_max
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def passes(x: np.ndarray, skew_max: float = 2.0, kurt_max: float = 3.5) -> bool:
    """Whether the indicator is left as it is: the check passes or is undefined (COINr leaves
    an indicator whose check is NA untreated)."""
    return check_skew_kurt(x, skew_max, kurt_max) is not False


def _shape(x: np.ndarray) -> dict:
    sk, kt = skewness(x), kurtosis(x)
    return {"skew": None if math.isnan(sk) else sk, "kurt": None if math.isnan(kt) else kt}


def winsorise(
    x: np.ndarray, winmax: int | None = 5, skew_max: float = 2.0, kurt_max: float = 3.5
) -> tuple[np.ndarray, int, bool | None]:
    """COINr ``winsorise`` (see module docstring): ``(values, nwin, check after)``, where
    ``nwin`` is COINr's count (the points at the extreme in the last round of each side, the
    distinct points changed). ``check after`` is None when the check became undefined, or a
    round could not be taken (COINr's ``Treat`` then returns the indicator untreated)."""
    x = np.array(x, dtype=float)
    passing = check_skew_kurt(x, skew_max, kurt_max)
    nwin = 0
    imax = imin = np.array([], dtype=int)
    while passing is False and (winmax is None or nwin < winmax):
        sk = skewness(x)
        if math.isnan(sk):
            return x, nwin, None
        present = ~np.isnan(x)
        if sk >= 0:
            imax = np.flatnonzero(present & (x == np.nanmax(x)))
            rest = np.delete(x, imax)
            rest = rest[~np.isnan(rest)]
            if not len(rest):
                return x, nwin, None
            x[imax] = rest.max()
        else:
            imin = np.flatnonzero(present & (x == np.nanmin(x)))
            rest = np.delete(x, imin)
            rest = rest[~np.isnan(rest)]
            if not len(rest):
                return x, nwin, None
            x[imin] = rest.min()
        nwin = len(imax) + len(imin)
        passing = check_skew_kurt(x, skew_max, kurt_max)
    return x, nwin, passing


def log_ct(x: np.ndarray) -> np.ndarray:
    """COINr ``log_CT``: ``ln(x − min + 0.01 (max − min))`` over the values present (the
    minimum becomes ``ln(0.01 (max − min))``); missing values stay missing."""
    x = np.asarray(x, dtype=float)
    lo, hi = np.nanmin(x), np.nanmax(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x - lo + 0.01 * (hi - lo))


def treat_outliers(
    values: pd.Series, *, winmax: int = 5, skew_max: float = 2.0, kurt_max: float = 3.5, log_fallback: bool = True
) -> tuple[pd.Series, StepRecord]:
    """COINr's default ``Treat`` on one indicator (see module docstring): unchanged when the
    check passes (or is undefined); else winsorised when that passes within ``winmax`` points;
    else ``log_CT`` of the original values (``log_fallback``), or the winsorised values kept
    when there is no fallback. ``details`` give COINr's ``Dets_Table``: skew/kurtosis before
    and after, ``nwin`` and whether the result passes."""
    x0 = values.to_numpy(dtype=float)
    params = {"winmax": winmax, "skew_max": skew_max, "kurt_max": kurt_max, "log_fallback": log_fallback}
    before = _shape(x0)
    first = check_skew_kurt(x0, skew_max, kurt_max)
    if first is not False:
        note = "" if first else "数据不足或无差异，无法检验偏度、峰度，未作极端值处理"
        return values.astype(float), StepRecord(
            "treat", "none", params, {}, note, {"before": before, "passes": first}
        )
    x, nwin, passing = winsorise(x0, winmax, skew_max, kurt_max)
    if passing is None:
        return values.astype(float), StepRecord(
            "treat", "none", params, {}, "缩尾过程中偏度、峰度无法计算，未作极端值处理",
            {"before": before, "passes": None},
        )

    def changed_between(a: np.ndarray, b: np.ndarray) -> dict:
        return {k: (float(p), float(q)) for k, p, q in zip(values.index, a, b, strict=True)
                if not np.isnan(p) and p != q}

    if passing or not log_fallback:
        changed = changed_between(x0, x)
        details = {"before": before, "after": _shape(x), "nwin": nwin, "passes": passing}
        if passing:
            note = f"偏度、峰度超标，缩尾处理 {len(changed)} 个极端值"
        else:
            note = f"缩尾 {len(changed)} 个值后偏度、峰度仍超标"
        return pd.Series(x, index=values.index), StepRecord("treat", "winsorise", params, changed, note, details)
    logged = log_ct(x0)
    changed = {k: (float(a), float(b)) for k, a, b in zip(values.index, x0, logged, strict=True) if not np.isnan(a)}
    after = check_skew_kurt(logged, skew_max, kurt_max)
    details = {"before": before, "after": _shape(logged), "nwin_tried": nwin, "passes": after}
    return pd.Series(logged, index=values.index), StepRecord(
        "treat", "log", params, changed, f"缩尾 {nwin} 个值后偏度、峰度仍超标，改对原始数据作对数变换", details
    )


def normalise(
    values: pd.Series,
    method: Literal["minmax", "zscore", "rank", "goalposts"] = "minmax",
    *,
    groups: pd.Series | None = None,
    higher_is_better: bool = True,
    goalposts: tuple[float, float, bool] | None = None,
) -> tuple[pd.Series, StepRecord]:
    """Normalise over the year's data, optionally within groups, or against fixed
    ``goalposts`` ``(lower, upper, log)`` (see module docstring)."""
    x = values.astype(float)
    if method == "goalposts":
        if goalposts is None:
            raise ValueError("按固定上下限标准化须给出上下限 / goalposts needed")
        lower, upper, log = goalposts
        out = methods.minmax(x, lower, upper, log=log, higher_is_better=higher_is_better)
        scale = "对数" if log else ""
        params = {"lower": lower, "upper": upper, "log": log, "higher_is_better": higher_is_better}
        return out, StepRecord("normalise", method, params, {},
                               f"按固定上下限 {lower:g}—{upper:g}{'（' + scale + '尺度）' if log else ''}标准化")

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
