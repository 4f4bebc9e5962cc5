"""The statistical audit of a framework: does it measure what the bureau thinks it measures?

Run once a year on the year's indicator points (``Results.indicators``) and every rater's marks
of the multi-rater items (``Results.extra["rater_marks"]``, see :mod:`evalkit.robustness.model`).
Each function returns a table with a ``flag`` column and an ``advice`` column: what to do about
the finding, in plain Chinese. The statistics come from well-kept libraries, not hand-written
formulas: pingouin (Cronbach's α with its confidence interval, ICC with the F-based interval of
McGraw & Wong 1996) and scipy (Friedman's χ² for Kendall's W, bootstrap intervals, trimmed means,
skewness and kurtosis).

- **Internal consistency** — Cronbach's α per area (schools × the area's indicator points) and
  the α of the area with each indicator dropped. α < 0.6 is flagged as low; an indicator whose
  removal raises α by more than 0.02 as weakly related to its area.
- **Correlations** — Pearson's r between indicators; ``|r| > 0.9`` flagged as redundant,
  ``r < -0.1`` within an area as pulling against its area.
- **Discrimination** — indicators where ≥ 90% of schools have full marks, or with zero variance.
- **Inter-rater reliability** — per multi-rater item, over the schools that every one of the
  item's most common raters marked: ICC(2,k) (two-way random effects, absolute agreement, mean of
  k raters; Shrout & Fleiss 1979) with its 95% interval, and Kendall's W
  (``W = χ²_Friedman / (m (n − 1))`` for m raters ranking n schools, tie-corrected) with a
  bootstrap 95% interval over schools. ICC below 0.5 is flagged as poor, 0.5–0.75 as moderate
  (Koo & Li 2016).
- **Leniency** — each rater's mark minus the 20% trimmed mean of the *other* raters' marks of the
  same school and item, as a share of the item's maximum; a rater's mean deviation is flagged when
  it lies beyond 2 standard deviations of a mean of that many marks (``|mean| > 2 sd / √n``, the
  sd of the unflagged raters' deviations) and is at least 5% of the maximum. Flagged raters are
  found one at a time and left out of the others' references (a lenient rater would otherwise
  make the raters beside them look strict).
- **Distribution shape** — skewness and excess kurtosis per indicator (flagged with COINr's rule
  ``|skew| > 2`` and ``kurtosis > 3.5``), and schools whose total lies beyond Tukey's fences
  (1.5 × IQR beyond the quartiles).

>>> from evalkit.analysis.examples import example_results
>>> nd = non_discriminating(example_results(), 2024)
>>> nd[["indicator_id", "full_share", "flag"]].round(3).values.tolist()[:2]
[['A1', 0.667, False], ['A2', 0.333, False]]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.framework import Framework
from evalkit.results import Results

__all__ = [
    "ALPHA_LOW",
    "AuditTables",
    "audit_findings",
    "cronbach_alpha",
    "cronbach_by_area",
    "distribution_shape",
    "findings_of",
    "icc2k",
    "indicator_correlations",
    "indicator_matrix",
    "inter_rater",
    "kendall_w",
    "non_discriminating",
    "outlier_schools",
    "rater_leniency",
    "rater_marks",
    "rater_matrix",
    "redundant_pairs",
    "run_checks",
]

ALPHA_LOW = 0.6
ALPHA_RISE = 0.02
REDUNDANT_R = 0.9
NEGATIVE_R = -0.1
FULL_MARKS_SHARE = 0.9
ICC_POOR, ICC_MODERATE = 0.5, 0.75
LENIENCY_SD, LENIENCY_MIN_SHARE = 2.0, 0.05
SKEW_LIMIT, KURTOSIS_LIMIT = 2.0, 3.5
COLLAPSE_OVER = 3
"""In the list of findings, more than this many indicators with one kind of finding share a row."""


def _f(x: float, d: int = 2) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{d}f}"


# --------------------------------------------------------------------------- the matrix


def indicator_matrix(results: Results, year: int) -> pd.DataFrame:
    """Schools × indicators (points), columns in framework order."""
    ind = results.indicators[results.indicators["year"] == int(year)]
    order = list(dict.fromkeys(ind["indicator_id"]))
    wide = ind.pivot(index="school_id", columns="indicator_id", values="points")
    return wide[order].astype(float)


def _areas(results: Results, year: int) -> list[tuple[str, str, list[str]]]:
    ind = results.indicators[results.indicators["year"] == int(year)]
    first = ind.drop_duplicates("indicator_id")
    return [(a, str(g["area_name"].iloc[0]), g["indicator_id"].tolist())
            for a, g in first.groupby("area_id", sort=False)]


def _names(results: Results) -> dict[str, str]:
    ind = results.indicators.drop_duplicates("indicator_id")
    return dict(zip(ind["indicator_id"], ind["indicator_name"], strict=True))


# --------------------------------------------------------------------------- consistency


def cronbach_alpha(items: pd.DataFrame) -> tuple[float, float, float]:
    """``(α, lower, upper)`` for a cases × items table (pingouin; 95% interval). NaN when
    there are fewer than 2 items or the total does not vary."""
    import pingouin as pg

    items = items.dropna()
    if items.shape[1] < 2 or items.shape[0] < 3 or items.sum(axis=1).var() == 0:
        return float("nan"), float("nan"), float("nan")
    with warnings.catch_warnings():  # pingouin's own pandas deprecations are not the user's concern
        warnings.simplefilter("ignore")
        alpha, ci = pg.cronbach_alpha(data=items)
    return float(alpha), float(ci[0]), float(ci[1])


def cronbach_by_area(results: Results, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(areas, dropped)``: α per area with its interval, and per indicator the area's α
    without it (``alpha_if_dropped``, ``change``)."""
    wide = indicator_matrix(results, year)
    names = _names(results)
    area_rows, drop_rows = [], []
    for area_id, area_name, ids in _areas(results, year):
        alpha, lo, hi = cronbach_alpha(wide[ids])
        low = bool(np.isfinite(alpha) and alpha < ALPHA_LOW)
        advice = ""
        if low:
            advice = (f"该领域各指标之间的一致性偏低（α={_f(alpha)}，一般要求不低于 {ALPHA_LOW}），这些指标可能衡量的"
                      "并不是同一方面的工作。建议检查指标归类是否恰当，必要时拆分领域或调整指标。")
        elif not np.isfinite(alpha):
            advice = "该领域指标不足 2 个或得分没有差异，无法计算一致性。"
        area_rows.append({"area_id": area_id, "area_name": area_name, "n_indicators": len(ids), "alpha": alpha,
                          "ci_lo": lo, "ci_hi": hi, "flag": low, "advice": advice})
        for ind in ids:
            rest = [i for i in ids if i != ind]
            without = cronbach_alpha(wide[rest])[0] if len(rest) >= 2 else float("nan")
            change = without - alpha
            rises = bool(np.isfinite(change) and change > ALPHA_RISE)
            drop_rows.append({
                "area_name": area_name, "indicator_id": ind, "indicator_name": names.get(ind, ind), "alpha": alpha,
                "alpha_if_dropped": without, "change": change, "flag": rises,
                "advice": (f"去掉该指标后，所在领域的一致性由 {_f(alpha)} 升至 {_f(without)}，说明它与同领域其他指标"
                           "关联较弱。建议核对其评分标准，或考虑调整到更合适的领域。") if rises else "",
            })
    return pd.DataFrame(area_rows), pd.DataFrame(drop_rows)


def indicator_correlations(results: Results, year: int) -> pd.DataFrame:
    """Pearson's r between every two indicators (NaN where one does not vary)."""
    wide = indicator_matrix(results, year)
    varies = wide.std() > 0
    corr = wide.loc[:, varies].corr()
    return corr.reindex(index=wide.columns, columns=wide.columns)


def redundant_pairs(results: Results, year: int) -> pd.DataFrame:
    """Indicator pairs with ``|r| > 0.9`` (redundant) or ``r < -0.1`` within one area."""
    corr = indicator_correlations(results, year)
    names = _names(results)
    area_of = {i: a for a, _, ids in _areas(results, year) for i in ids}
    rows = []
    ids = list(corr.columns)
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            r = corr.iat[a, b]
            if not np.isfinite(r):
                continue
            same = area_of[ids[a]] == area_of[ids[b]]
            if abs(r) > REDUNDANT_R:
                kind, advice = "redundant", (f"两个指标高度相关（r={_f(r)}），很可能在重复衡量同一件事，"
                                             "建议合并或删去其一，避免重复计分。")
            elif same and r < NEGATIVE_R:
                kind, advice = "negative", (f"同一领域内两个指标负相关（r={_f(r)}）：一个得分高的学校另一个往往得分低。"
                                            "建议核对计分方向（扣分类指标是否设为“越低越好”）和评分标准。")
            else:
                continue
            rows.append({"indicator_a": ids[a], "name_a": names.get(ids[a], ids[a]), "indicator_b": ids[b],
                         "name_b": names.get(ids[b], ids[b]), "r": r, "same_area": same, "kind": kind,
                         "flag": True, "advice": advice})
    cols = ["indicator_a", "name_a", "indicator_b", "name_b", "r", "same_area", "kind", "flag", "advice"]
    return pd.DataFrame(rows, columns=cols)


def non_discriminating(results: Results, year: int) -> pd.DataFrame:
    """Per indicator: share of schools at full marks, variance, and the flag (≥ 90% at full
    marks, or zero variance)."""
    ind = results.indicators[results.indicators["year"] == int(year)]
    rows = []
    for ind_id, g in ind.groupby("indicator_id", sort=False):
        pts = g["points"].astype(float)
        full = float((pts >= g["max_points"] - 1e-9).mean())
        var = float(pts.var(ddof=0))
        flag = full >= FULL_MARKS_SHARE or var == 0
        if var == 0:
            advice = "所有学校得分相同，该指标不能区分学校之间的差异。建议提高标准、细化评分档次，或改为监测项不计分。"
        elif full >= FULL_MARKS_SHARE:
            advice = (f"{full:.0%} 的学校得满分，该指标几乎区分不出学校之间的差异。"
                      "建议提高达标标准或改为分档计分。")
        else:
            advice = ""
        rows.append({"indicator_id": ind_id, "indicator_name": g["indicator_name"].iloc[0],
                     "max_points": float(g["max_points"].iloc[0]), "mean_points": float(pts.mean()),
                     "full_share": full, "variance": var, "flag": flag, "advice": advice})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- raters


def rater_matrix(marks: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """Schools × raters (points) of one item's main source, restricted to the raters most
    schools had and the schools every one of them marked: the largest complete block with at
    least half of the schools (ICC and W need every school marked by the same raters)."""
    m = marks[marks["indicator_id"] == indicator_id]
    if m.empty:
        return pd.DataFrame()
    source = m["source"].value_counts().index[0]
    wide = m[m["source"] == source].pivot_table(index="school_id", columns="rater", values="points", aggfunc="mean")
    raters = wide.notna().sum().sort_values(ascending=False, kind="stable").index.tolist()
    best = wide[raters[:2]].dropna()
    for k in range(3, len(raters) + 1):
        block = wide[raters[:k]].dropna()
        if len(block) >= max(5, len(wide) / 2):
            best = block
    return best


def icc2k(matrix: pd.DataFrame) -> tuple[float, float, float]:
    """ICC(2,k) with its 95% interval (pingouin; Shrout & Fleiss' two-way random effects,
    absolute agreement, mean of the k raters) for a targets × raters table."""
    import pingouin as pg

    if matrix.shape[0] < 3 or matrix.shape[1] < 2 or np.nanvar(matrix.to_numpy()) == 0:
        return float("nan"), float("nan"), float("nan")
    long = matrix.rename_axis(index="target", columns="rater").stack().rename("score").reset_index()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = pg.intraclass_corr(data=long, targets="target", raters="rater", ratings="score")
    row = table[table["Type"].isin(["ICC2k", "ICC(A,k)"])].iloc[0]
    lo, hi = row["CI95%"] if "CI95%" in row.index else row["CI95"]
    return float(row["ICC"]), float(lo), float(hi)


def kendall_w(matrix: pd.DataFrame, *, n_resamples: int = 999, seed: int = 0) -> tuple[float, float, float]:
    """Kendall's W for m raters (columns) ranking n targets (rows), tie-corrected, from scipy's
    Friedman χ² (``W = χ² / (m (n − 1))``), with a percentile bootstrap 95% interval over
    targets (``n_resamples = 0``: no interval; the resamples use :func:`_w_many`)."""
    from scipy import stats

    x = np.asarray(matrix, dtype=float)
    n, m = x.shape
    if n < 3 or m < 2 or len(np.unique(x)) < 2:
        return float("nan"), float("nan"), float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = stats.friedmanchisquare(*x).statistic
    w = float(chi2 / (m * (n - 1)))
    if n_resamples <= 0 or not np.isfinite(w):
        return w, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    boot = _w_many(x[rng.integers(0, n, size=(n_resamples, n))])
    boot = boot[np.isfinite(boot)]
    lo, hi = np.quantile(boot, [0.025, 0.975]) if len(boot) else (np.nan, np.nan)
    return w, float(lo), float(hi)


def _w_many(x: np.ndarray) -> np.ndarray:
    """Tie-corrected Kendall's W of many samples at once (``B × n targets × m raters``): ranks
    within each rater (scipy's average ranks), ``S = Σ_j (R_j − m(n+1)/2)²`` over the targets'
    rank sums, ``W = 12 S / (m² (n³ − n) − m Σ_raters Σ_ties (t³ − t))`` — the same value as
    scipy's tie-corrected Friedman χ² / (m (n − 1)) (checked in the tests)."""
    from scipy import stats

    _, n, m = x.shape
    ranks = stats.rankdata(x, axis=1)
    s = ((ranks.sum(axis=2) - m * (n + 1) / 2) ** 2).sum(axis=1)
    ties = _tie_sums(x)
    den = m**2 * (n**3 - n) - m * ties
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 12 * s / den, np.nan)


def _tie_sums(x: np.ndarray) -> np.ndarray:
    """``Σ_raters Σ_ties (t³ − t)`` of each sample of ``x`` (``B × n targets × m raters``): a
    tie is a run of ``t`` equal values in one rater's sorted column. All samples at once: each
    run gets its own number (a new run starts at every change of value and at every column's
    first value), ``np.bincount`` counts each run's length ``t``, and the ``t³ − t`` of the
    runs of one sample are added up."""
    b, n, m = x.shape
    srt = np.sort(x, axis=1).transpose(0, 2, 1).reshape(b * m, n)  # one row per sample and rater
    starts = np.ones_like(srt, dtype=bool)
    starts[:, 1:] = srt[:, 1:] != srt[:, :-1]
    run = np.cumsum(starts.ravel()) - 1  # runs numbered over all rows (each row starts a run)
    t = np.bincount(run).astype(float)
    per_run = t**3 - t
    row_of_run = np.repeat(np.arange(b * m), starts.sum(axis=1))
    return np.bincount(row_of_run, weights=per_run, minlength=b * m).reshape(b, m).sum(axis=1)


def inter_rater(marks: pd.DataFrame, *, n_resamples: int = 999) -> pd.DataFrame:
    """Per multi-rater item: schools and raters in the complete block, ICC(2,k) and Kendall's
    W with their intervals, the flag (ICC < 0.75) and advice."""
    rows = []
    for ind_id, g in marks.groupby("indicator_id", sort=True):
        mat = rater_matrix(marks, ind_id)
        icc, icc_lo, icc_hi = icc2k(mat)
        w, w_lo, w_hi = kendall_w(mat, n_resamples=n_resamples)
        if not np.isfinite(icc):
            advice, flag = "评分人之间得分完全相同或数据不足，无法计算一致性。", False
        elif icc < ICC_POOR:
            advice, flag = (f"评分人之间一致性差（ICC={_f(icc)}）：不同的人给同一所学校的评分差别大。建议统一评分细则、"
                            "增加评分示例并开展评分培训，必要时增加评分人数。"), True
        elif icc < ICC_MODERATE:
            advice, flag = (f"评分人之间一致性一般（ICC={_f(icc)}）。建议细化评分标准中“好”“较好”等档次的界定，"
                            "并在评分前集中校准。"), True
        else:
            advice, flag = "", False
        rows.append({"indicator_id": ind_id, "indicator_name": g["indicator_name"].iloc[0],
                     "n_schools": len(mat), "n_raters": mat.shape[1], "icc": icc, "icc_lo": icc_lo, "icc_hi": icc_hi,
                     "kendall_w": w, "w_lo": w_lo, "w_hi": w_hi, "flag": flag, "advice": advice})
    cols = ["indicator_id", "indicator_name", "n_schools", "n_raters", "icc", "icc_lo", "icc_hi", "kendall_w",
            "w_lo", "w_hi", "flag", "advice"]
    return pd.DataFrame(rows, columns=cols)


def rater_leniency(marks: pd.DataFrame) -> pd.DataFrame:
    """Per rater (and source): marks, mean deviation from the other raters (share of the
    item's maximum), its z against ``sd / √n``, the flag and advice (see the module docstring).

    A lenient rater pulls the other raters' reference up, so the raters beside them look strict.
    Flags are therefore found one at a time: the rater with the largest ``|z|`` that meets the
    criteria is flagged and left out of the others' references, and the deviations are computed
    again, until no further rater meets them."""
    cols = ["source", "rater", "n_marks", "mean_deviation", "mean_deviation_points", "z", "flag", "advice"]
    if marks.empty:
        return pd.DataFrame(columns=cols)
    flagged: set[tuple[str, str]] = set()
    while True:
        table = _leniency_pass(marks, flagged)
        new = table[table["meets"] & ~table["flag"]]
        if new.empty:
            break
        worst = new.loc[new["z"].abs().idxmax()]
        flagged.add((worst["source"], worst["rater"]))
    table["advice"] = [
        (f"评分人 {r.rater} 的评分平均比其他评分人{'高' if r.mean_deviation > 0 else '低'} {abs(r.mean_deviation):.0%}"
         f"（占该项满分），明显{'偏宽（打分偏高）' if r.mean_deviation > 0 else '偏严（打分偏低）'}。"
         "建议复核其评分记录，开展评分校准培训；必要时调整其评分的学校范围。") if r.flag else ""
        for r in table.itertuples()
    ]
    return table[cols]


def _trim_mean(a: np.ndarray, proportion: float) -> float:
    """The mean of ``a`` without ``int(proportion × len(a))`` values at either end: the same
    steps as ``scipy.stats.trim_mean`` (``np.partition`` at both cuts, the mean of what lies
    between), so the same number to the last bit (checked in the tests), without the tenth of
    a millisecond scipy's argument handling takes per call (a call per mark here)."""
    cut = int(proportion * len(a))
    return float(np.mean(np.partition(a, (cut, len(a) - cut - 1))[cut:len(a) - cut]))


def _leniency_pass(marks: pd.DataFrame, excluded: set[tuple[str, str]]) -> pd.DataFrame:
    """One pass of :func:`rater_leniency`: deviations from the 20% trimmed mean
    (:func:`_trim_mean`) of the other raters not in ``excluded``; ``sd`` from the marks of
    raters not excluded."""
    keys = ["school_id", "indicator_id", "source"]
    dev = np.full(len(marks), np.nan)
    dev_pts = np.full(len(marks), np.nan)
    pts_all = marks["points"].to_numpy(dtype=float)
    out_all = np.array([(s, r) in excluded for s, r in zip(marks["source"], marks["rater"], strict=True)])
    mx_all = marks["max_points"].to_numpy(dtype=float)
    for idx in marks.groupby(keys, sort=False).indices.values():
        if len(idx) < 3:
            continue
        for k in idx:
            others = idx[(idx != k) & ~out_all[idx]]
            if not len(others):
                continue
            d = pts_all[k] - _trim_mean(pts_all[others], 0.2)
            dev_pts[k], dev[k] = d, d / (mx_all[k] or 1.0)
    frame = marks.assign(dev=dev, dev_pts=dev_pts, out=out_all).dropna(subset=["dev"])
    ref = frame.loc[~frame["out"], "dev"]
    sd = float(ref.std(ddof=1)) if len(ref) > 1 else float("nan")
    rows = []
    for (source, rater), g in frame.groupby(["source", "rater"], sort=True):
        mean, n = float(g["dev"].mean()), len(g)
        z = mean / (sd / np.sqrt(n)) if sd and np.isfinite(sd) else float("nan")
        meets = bool(np.isfinite(z) and abs(z) > LENIENCY_SD and abs(mean) >= LENIENCY_MIN_SHARE)
        rows.append({"source": source, "rater": rater, "n_marks": n, "mean_deviation": mean,
                     "mean_deviation_points": float(g["dev_pts"].mean()), "z": z, "meets": meets,
                     "flag": (source, rater) in excluded})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- distributions


def distribution_shape(results: Results, year: int) -> pd.DataFrame:
    """Per indicator: skewness and excess kurtosis of the points (scipy), flagged with COINr's
    rule ``|skew| > 2 and kurtosis > 3.5``."""
    from scipy import stats

    wide = indicator_matrix(results, year)
    names = _names(results)
    rows = []
    for ind in wide.columns:
        x = wide[ind].dropna().to_numpy(dtype=float)
        varies = len(x) > 2 and np.ptp(x) > 0
        skew = float(stats.skew(x)) if varies else float("nan")
        kurt = float(stats.kurtosis(x)) if varies else float("nan")
        flag = bool(varies and abs(skew) > SKEW_LIMIT and kurt > KURTOSIS_LIMIT)
        side = "少数学校得分明显偏低" if skew < 0 else "少数学校得分明显偏高"
        rows.append({"indicator_id": ind, "indicator_name": names.get(ind, ind), "skew": skew, "kurtosis": kurt,
                     "flag": flag,
                     "advice": (f"分布严重偏斜（偏度 {_f(skew)}，峰度 {_f(kurt)}）：{side}，其余学校挤在一起。"
                                "建议核实这些极端值是否属实，并考虑调整评分档次使其更均衡。") if flag else ""})
    return pd.DataFrame(rows)


def outlier_schools(results: Results, year: int) -> pd.DataFrame:
    """Schools whose total lies beyond Tukey's fences (1.5 × IQR below Q1 or above Q3)."""
    s = results.schools[results.schools["year"] == int(year)]
    q1, q3 = np.quantile(s["total"].astype(float), [0.25, 0.75])
    lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    out = s[(s["total"] < lo) | (s["total"] > hi)][["school_id", "school_name", "total", "rank"]].copy()
    out["fence"] = np.where(out["total"] < lo, lo, hi)
    out["advice"] = np.where(
        out["total"] < lo,
        "总分明显低于全县大多数学校。建议先核实数据录入是否有误，确认无误后作为重点帮扶对象。",
        "总分明显高于全县大多数学校。建议核实数据和佐证材料，确认无误后总结推广其经验。",
    )
    return out.sort_values("total").reset_index(drop=True)


# --------------------------------------------------------------------------- inputs


def rater_marks(results: Results, year: int, framework: str | Framework = "shiquan-party-building",
                data: str = "", registry: str = "") -> pd.DataFrame:
    """Every rater's marks of the multi-rater items in ``year``: saved with the scores by
    ``evalkit run``, or read again from ``data`` (comma-separated files; ``""``: the demo county)."""
    saved = results.extra.get("rater_marks")
    if saved is None:
        from evalkit.analysis.inputs import parse_paths
        from evalkit.robustness import attach_from_files

        attach_from_files(results, int(year), parse_paths(data), framework, registry or None, None)
        saved = results.extra["rater_marks"]
    return saved[saved["year"] == int(year)].reset_index(drop=True)


# --------------------------------------------------------------------------- all findings


@dataclass(frozen=True)
class AuditTables:
    """Every check's table for one year, computed once (:func:`run_checks`): what the audit's
    sections show and what :func:`findings_of` gathers for its first section. ``inter_rater``
    and ``leniency`` are empty without rater marks."""

    areas: pd.DataFrame
    dropped: pd.DataFrame
    correlations: pd.DataFrame
    pairs: pd.DataFrame
    discrimination: pd.DataFrame
    inter_rater: pd.DataFrame
    leniency: pd.DataFrame
    shape: pd.DataFrame
    outliers: pd.DataFrame


def run_checks(results: Results, year: int, marks: pd.DataFrame | None = None, *,
               n_resamples: int = 999) -> AuditTables:
    """Every check of the audit on ``year`` (the tables of :func:`cronbach_by_area`,
    :func:`indicator_correlations`, :func:`redundant_pairs`, :func:`non_discriminating`,
    :func:`inter_rater` with ``n_resamples`` bootstrap samples for W's interval,
    :func:`rater_leniency`, :func:`distribution_shape` and :func:`outlier_schools`), each
    computed once."""
    areas, dropped = cronbach_by_area(results, year)
    has_marks = marks is not None and len(marks) > 0
    return AuditTables(
        areas=areas, dropped=dropped, correlations=indicator_correlations(results, year),
        pairs=redundant_pairs(results, year), discrimination=non_discriminating(results, year),
        inter_rater=inter_rater(marks, n_resamples=n_resamples) if has_marks else inter_rater(_NO_MARKS),
        leniency=rater_leniency(marks) if has_marks else rater_leniency(_NO_MARKS),
        shape=distribution_shape(results, year), outliers=outlier_schools(results, year),
    )


_NO_MARKS = pd.DataFrame(columns=["year", "school_id", "indicator_id", "indicator_name", "source", "rater",
                                  "points", "max_points"])


def audit_findings(results: Results, year: int, marks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every flagged finding in one table (:func:`findings_of` of :func:`run_checks`, without
    the bootstrap of W's interval, which no finding uses)."""
    return findings_of(run_checks(results, year, marks, n_resamples=0))


def findings_of(tables: AuditTables) -> pd.DataFrame:
    """Every flagged finding in one table: ``topic``, ``subject`` (what it is about),
    ``finding`` (the number) and ``advice``, for the audit's first section. More than
    :data:`COLLAPSE_OVER` indicators that do not discriminate, or are skewed, share one row."""
    rows: list[dict[str, str]] = []
    areas, dropped = tables.areas, tables.dropped
    for r in areas[areas["flag"]].itertuples():
        rows.append({"topic": "内部一致性", "subject": r.area_name, "finding": f"α = {_f(r.alpha)}",
                     "advice": r.advice})
    for r in dropped[dropped["flag"]].itertuples():
        rows.append({"topic": "内部一致性", "subject": f"{r.indicator_id} {r.indicator_name}",
                     "finding": f"去掉后 α {_f(r.alpha)} → {_f(r.alpha_if_dropped)}", "advice": r.advice})
    for r in tables.pairs.itertuples():
        rows.append({"topic": "指标相关", "subject": f"{r.indicator_a} {r.name_a} — {r.indicator_b} {r.name_b}",
                     "finding": f"r = {_f(r.r)}", "advice": r.advice})
    flat = tables.discrimination.query("flag")
    if len(flat) > COLLAPSE_OVER:
        rows.append({"topic": "区分度", "subject": "、".join(f"{r.indicator_id} {r.indicator_name}"
                                                          for r in flat.itertuples()),
                     "finding": f"{len(flat)} 个指标 90% 以上的学校得满分或得分相同",
                     "advice": "这些指标几乎区分不出学校之间的差异。建议提高达标标准、细化评分档次，"
                               "或改为只监测不计分，把分值调给更能反映工作差异的指标。"})
    else:
        for r in flat.itertuples():
            rows.append({"topic": "区分度", "subject": f"{r.indicator_id} {r.indicator_name}",
                         "finding": f"满分学校 {r.full_share:.0%}", "advice": r.advice})
    for r in tables.inter_rater.query("flag").itertuples():
        rows.append({"topic": "评分人一致性", "subject": f"{r.indicator_id} {r.indicator_name}",
                     "finding": f"ICC(2,k) = {_f(r.icc)}", "advice": r.advice})
    for r in tables.leniency.query("flag").itertuples():
        rows.append({"topic": "评分人宽严", "subject": f"评分人 {r.rater}",
                     "finding": f"平均偏差 {r.mean_deviation:+.0%}", "advice": r.advice})
    skewed = tables.shape.query("flag")
    if len(skewed) > COLLAPSE_OVER:
        rows.append({"topic": "分布形态", "subject": "、".join(f"{r.indicator_id} {r.indicator_name}"
                                                           for r in skewed.itertuples()),
                     "finding": f"{len(skewed)} 个指标分布严重偏斜（|偏度| > 2 且峰度 > 3.5）",
                     "advice": "这些指标的得分挤在一端，只有少数学校明显偏离。建议核实这些极端值是否属实；"
                               "若多数学校都能轻松达标，可考虑提高标准或细化档次，使得分分布更均衡。"})
    else:
        for r in skewed.itertuples():
            rows.append({"topic": "分布形态", "subject": f"{r.indicator_id} {r.indicator_name}",
                         "finding": f"偏度 {_f(r.skew)}，峰度 {_f(r.kurtosis)}", "advice": r.advice})
    for r in tables.outliers.itertuples():
        rows.append({"topic": "异常学校", "subject": str(r.school_name), "finding": f"总分 {r.total:.1f}",
                     "advice": r.advice})
    return pd.DataFrame(rows, columns=["topic", "subject", "finding", "advice"])
