"""How sure a rank is, for the reports: read the Monte Carlo tables saved with the scores
(:mod:`evalkit.robustness`; ``Results.extra``) and say it in one Chinese sentence.

>>> import pandas as pd
>>> row = pd.Series({"rank": 11, "rank_lo": 9, "rank_hi": 14, "interval_share": 0.904,
...                  "grade": "好", "grade_prob": 0.72, "n_schools": 48})
>>> uncertainty_sentence(row, "指标权重（±20%）、评分人差异")
'全县排名第 11 名；考虑指标权重（±20%）、评分人差异，排名在第 9–14 名之间的可能性为 90%，获评“好”的可能性为 72%。'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.results import Results

__all__ = [
    "IntervalClaim",
    "influential_inputs",
    "interval_claim",
    "rank_intervals",
    "school_uncertainty",
    "uncertain_grades",
    "uncertainty_html",
    "uncertainty_sentence",
    "varied_inputs",
    "weight_nodes",
    "weights_sentence",
]

UNCERTAIN_BELOW = 0.8
"""A school's grade is called uncertain when the probability of its grade is below this."""

HEADERS = {
    "rank": "排名", "median_rank": "模拟排名中位数", "rank_range": "5%–95% 排名区间", "grade": "等次",
    "grade_prob": "本等次可能性", "other_grade": "另一等次", "other_prob": "其可能性",
    "input_label": "不确定因素", "first_order": "单独解释的排名波动", "n_varied": "排名受影响的学校数",
    "top_input": "主要影响因素", "school_name": "学校", "total": "总分",
    "mean_rank_shift": "排名平均变动（位）", "max_rank_shift": "排名最大变动（位）",
    "share_moved": "排名变动的学校占比",
}


def _table(results: Results, name: str, year: int) -> pd.DataFrame | None:
    table = results.extra.get(name)
    if table is None or "year" not in table.columns:
        return None
    rows = table[table["year"] == int(year)]
    return rows.reset_index(drop=True) if len(rows) else None


def varied_inputs(results: Results) -> str:
    """What the replications varied, in Chinese (``指标权重（±20%）、评分人差异``)."""
    return str(results.meta.get("robustness", {}).get("varied", "") or "指标权重和评分人差异")


def school_uncertainty(results: Results, school_id: str, year: int) -> pd.Series | None:
    """The school's row of the ``robustness`` table, or ``None`` when none was computed."""
    table = _table(results, "robustness", year)
    if table is None:
        return None
    rows = table[table["school_id"].astype(str) == str(school_id)]
    return rows.iloc[0] if len(rows) else None


def _pct(p: float) -> str:
    """A probability as a whole percentage that never claims certainty it does not have."""
    if p >= 1.0:
        return "100%"
    if p <= 0.0:
        return "0%"
    v = round(p * 100)
    return ">99%" if v >= 100 else "<1%" if v <= 0 else f"{v}%"


@dataclass(frozen=True)
class IntervalClaim:
    """What the report says about a school's rank interval, in one place for the sentence and
    the chart: the ranks ``lo``–``hi`` (the 5% and 95% quantiles of the simulated ranks, see
    :mod:`evalkit.robustness.summary`) and ``share``, the share of replications whose rank lies
    in them (at least 90%, often more: ranks are whole numbers). The probability stated is
    ``share``, never the nominal 90%."""

    rank: int
    lo: int
    hi: int
    share: float

    @property
    def probability(self) -> str:
        """``share`` as the reports write it (``98%``, ``>99%``)."""
        return _pct(self.share)

    @property
    def label(self) -> str:
        """The chart's words: ``第 8–12 名之间的可能性为 98%`` (``保持第 8 名的可能性为 98%``)."""
        if self.hi > self.lo:
            return f"第 {self.lo}–{self.hi} 名之间的可能性为 {self.probability}"
        return f"保持第 {self.lo} 名的可能性为 {self.probability}"

    @property
    def clause(self) -> str:
        """The sentence's words: ``排名在`` + :attr:`label` (``排名保持…`` for a single rank)."""
        return f"排名在{self.label}" if self.hi > self.lo else f"排名{self.label}"


def interval_claim(row: pd.Series) -> IntervalClaim:
    """The :class:`IntervalClaim` of one row of the ``robustness`` table.

    >>> interval_claim(pd.Series({"rank": 11, "rank_lo": 8, "rank_hi": 12, "interval_share": 0.981})).label
    '第 8–12 名之间的可能性为 98%'
    """
    return IntervalClaim(int(row["rank"]), int(row["rank_lo"]), int(row["rank_hi"]), float(row["interval_share"]))


def uncertainty_sentence(row: pd.Series, varied: str) -> str:
    """``全县排名第 11 名；考虑…，排名在第 9–14 名之间的可能性为 90%，获评“好”的可能性为 72%。``
    The interval and its probability are :func:`interval_claim`'s, as the chart states them."""
    claim = interval_claim(row)
    return (f"全县排名第 {claim.rank} 名；考虑{varied}，{claim.clause}，"
            f"获评“{row['grade']}”的可能性为 {_pct(float(row['grade_prob']))}。")


def uncertainty_html(results: Results, school_id: str, year: int) -> str:
    """The sentence as a paragraph with ``data-rank-lo``, ``data-rank-hi``, ``data-grade-prob``
    attributes, or a note that no robustness analysis was run."""
    from evalkit.publish.markup import render  # the report markup (templates/html/robustness.html.j2)

    row = school_uncertainty(results, school_id, year)
    if row is None:
        return render("robustness.html.j2", row=None)
    shown = {"rank_lo": int(row["rank_lo"]), "rank_hi": int(row["rank_hi"]),
             "grade_prob": f"{float(row['grade_prob']):.4f}", "replications": int(row.get("replications", 0)),
             "sentence": uncertainty_sentence(row, varied_inputs(results))}
    return render("robustness.html.j2", row=shown)


def rank_intervals(results: Results, year: int) -> pd.DataFrame | None:
    """Every school's rank, median and interval, best first (``None`` when not computed)."""
    table = _table(results, "robustness", year)
    if table is None:
        return None
    out = table.sort_values(["rank", "school_id"]).reset_index(drop=True)
    out["rank_range"] = [f"{lo}–{hi}" if hi > lo else f"{lo}" for lo, hi in zip(out["rank_lo"], out["rank_hi"],
                                                                               strict=True)]
    return out


def uncertain_grades(results: Results, year: int, grade_order: list[str],
                     below: float = UNCERTAIN_BELOW) -> pd.DataFrame | None:
    """Schools whose published grade has probability below ``below``, with the most likely
    other grade and its probability (least certain first)."""
    table = _table(results, "robustness", year)
    if table is None:
        return None
    t = table[table["grade_prob"] < below].copy()
    probs = t[[f"prob_{g}" for g in grade_order]].to_numpy(dtype=float, copy=True)
    # integer positions even when no school is uncertain (an empty map gives floats, no index)
    own = t["grade"].map({g: k for k, g in enumerate(grade_order)}).to_numpy(dtype=np.int64)
    probs[range(len(t)), own] = -1
    best = probs.argmax(axis=1) if len(t) else []
    t["other_grade"] = [grade_order[k] for k in best]
    t["other_prob"] = probs.max(axis=1) if len(t) else []
    cols = ["school_name", "total", "rank", "grade", "grade_prob", "other_grade", "other_prob", "top_input"]
    return t.sort_values(["grade_prob", "rank"])[cols].reset_index(drop=True)


def influential_inputs(results: Results, year: int, n: int = 8) -> pd.DataFrame | None:
    """The uncertain inputs that move ranks most (first-order index, largest first)."""
    table = _table(results, "sensitivity", year)
    if table is None or table.empty:
        return None
    return table.sort_values("first_order", ascending=False).head(n).reset_index(drop=True)


def weight_nodes(results: Results, year: int) -> pd.DataFrame | None:
    """Per node of the tree (any depth) whose weights vary: the mean and largest rank shift when
    only that node's weights are perturbed (:mod:`evalkit.robustness.influence`), largest first."""
    table = _table(results, "weight_nodes", year)
    if table is None or table.empty:
        return None
    return table.sort_values("mean_rank_shift", ascending=False, kind="stable").reset_index(drop=True)


def weights_sentence(results: Results, year: int) -> str:
    """The node whose weights move ranks most, in one Chinese sentence ("" when not computed)."""
    from evalkit.robustness import RobustnessConfig
    from evalkit.robustness.influence import influence_sentence

    table = weight_nodes(results, year)
    if table is None:
        return ""
    meta = results.meta.get("robustness", {})
    config = RobustnessConfig(**{k: meta[k] for k in ("weights", "weight_spread") if k in meta})
    return influence_sentence(table, config)
