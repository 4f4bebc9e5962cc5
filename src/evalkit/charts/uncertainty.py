"""Charts of how sure a rank is, and of the framework audit (figures as in :mod:`evalkit.charts.figures`).

- :func:`rank_interval` — one school: the county's ranks as a line, the school's 5–95% interval
  as a band and its published rank as a dot (under the headline of a school report);
- :func:`rank_intervals` — every school's interval (the county summary; like COINr's plot);
- :func:`sensitivity` — the share of rank variance each uncertain input explains;
- :func:`correlation_heatmap` — indicator correlations, |r| > 0.9 and negative pairs within an
  area outlined (the framework audit).

>>> import pandas as pd
>>> row = pd.Series({"rank": 11, "rank_lo": 9, "rank_hi": 14, "median_rank": 11, "n_schools": 48,
...                  "interval_share": 0.93})
>>> bool(rank_interval(row).axes[0].get_xlim()[1] > 48)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evalkit.analysis.uncertainty import interval_claim
from evalkit.charts.figures import _figure, show
from evalkit.charts.fonts import color

__all__ = ["correlation_heatmap", "rank_interval", "rank_intervals", "sensitivity", "show"]

NAMED_LIMIT = 60
"""Up to this many schools the county plot names every school; beyond, schools are points."""


def rank_interval(row: pd.Series) -> Figure:
    """A one-line chart: ranks 1…N (1 = best, on the left), the 5–95% interval as a band, the
    published rank as a dot: one row of the ``robustness`` table. The band's label is
    :func:`evalkit.analysis.uncertainty.interval_claim`'s, the words of the report's sentence
    (the same ranks and the same probability)."""
    n = int(row["n_schools"])
    fig = _figure(6.4, 0.9)
    fig.set_layout_engine("none")  # axes placed by hand, labels outside them
    ax = fig.add_axes((0.1, 0.3, 0.8, 0.45))
    ax.plot([1, n], [0, 0], color="#bbbbbb", linewidth=2, solid_capstyle="round")
    claim = interval_claim(row)
    lo, hi, rank = claim.lo, claim.hi, claim.rank
    ax.plot([lo, hi], [0, 0], color=color(0), linewidth=9, alpha=0.45, solid_capstyle="butt")
    ax.plot([rank], [0], marker="o", markersize=8, color=color(0), markeredgecolor="white")
    ax.annotate(f"第 {rank} 名", (rank, 0), xytext=(0, 9), textcoords="offset points", ha="center", fontsize=8)
    # under the band; near either end the label runs inward from the band's edge, not off the figure
    at, ha = ((lo, "left") if (lo + hi) / 2 < n / 3 else (hi, "right") if (lo + hi) / 2 > 2 * n / 3
              else ((lo + hi) / 2, "center"))
    ax.annotate(claim.label, (at, 0), xytext=(0, -16), textcoords="offset points",
                ha=ha, fontsize=7.5, color="#444444", annotation_clip=False)
    ax.annotate("第 1 名", (1, 0), xytext=(-8, 0), textcoords="offset points", ha="right", va="center", fontsize=7,
                color="#666666", annotation_clip=False)
    ax.annotate(f"第 {n} 名", (n, 0), xytext=(8, 0), textcoords="offset points", ha="left", va="center",
                fontsize=7, color="#666666", annotation_clip=False)
    ax.set_xlim(0.5, n + 0.5)
    ax.set_ylim(-1, 1)
    ax.set_axis_off()
    return fig


def rank_intervals(table: pd.DataFrame, grade_order: list[str] | None = None) -> Figure:
    """Every school's published rank (dot) and 5–95% interval (bar), best first, coloured by
    grade: the ``robustness`` table. Up to :data:`NAMED_LIMIT` schools are named on the y axis;
    larger counties are drawn as points along the published rank."""
    t = table.sort_values(["rank", "school_id"]).reset_index(drop=True)
    grades = grade_order or list(dict.fromkeys(t["grade"]))
    named = len(t) <= NAMED_LIMIT
    if named:
        fig = _figure(6.4, 1.0 + 0.16 * len(t))
        ax = fig.add_subplot()
        y = np.arange(len(t))
        for k, g in enumerate(grades):
            at = (t["grade"] == g).to_numpy()
            if not at.any():
                continue
            ax.hlines(y[at], t["rank_lo"][at], t["rank_hi"][at], color=color(k), linewidth=3.5, alpha=0.55)
            ax.plot(t["rank"][at], y[at], "o", color=color(k), markersize=3.5, label=f"“{g}”")
        ax.set_yticks(y, t["school_name"].astype(str), fontsize=6.5)
        ax.invert_yaxis()
        ax.set_xlabel("全县排名（1 为最好；线段为 5%–95% 区间，含至少 90% 的模拟排名）", fontsize=8)
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
    else:
        fig = _figure(6.4, 3.6)
        ax = fig.add_subplot()
        for k, g in enumerate(grades):
            at = (t["grade"] == g).to_numpy()
            if not at.any():
                continue
            ax.vlines(t["rank"][at], t["rank_lo"][at], t["rank_hi"][at], color=color(k), linewidth=0.6, alpha=0.5)
            ax.plot(t["rank"][at], t["rank"][at], ".", color=color(k), markersize=1.5, label=f"“{g}”")
        ax.set_xlabel("公布的排名")
        ax.set_ylabel("模拟排名（5%–95%）")
        ax.invert_yaxis()
    # the best schools are at the top left and the worst at the bottom right: the top right is free
    ax.legend(fontsize=7, loc="upper right", title="等次", title_fontsize=7)
    fig.set_layout_engine("constrained")
    return fig


def sensitivity(sens: pd.DataFrame, top: int = 8) -> Figure:
    """Horizontal bars: each input's first-order index (share of rank variance it explains
    alone), largest first: the ``sensitivity`` table."""
    s = sens.head(top).iloc[::-1]
    fig = _figure(6.4, 0.8 + 0.32 * max(1, len(s)))
    ax = fig.add_subplot()
    ax.barh(s["input_label"].astype(str), s["first_order"] * 100, color=color(0))
    for k, v in enumerate(s["first_order"] * 100):
        ax.text(v + 0.5, k, f"{v:.0f}%", va="center", fontsize=7.5)
    ax.set_xlim(0, max(10.0, float((s["first_order"] * 100).max() if len(s) else 0) * 1.15))
    ax.set_xlabel("单独解释的排名波动比例（一阶敏感度指数，%）", fontsize=8)
    ax.tick_params(axis="y", labelsize=7.5)
    fig.set_layout_engine("constrained")
    return fig


def correlation_heatmap(corr: pd.DataFrame, flagged: pd.DataFrame | None = None) -> Figure:
    """Indicator × indicator Pearson's r (−1 blue … +1 red; blank where an indicator does not
    vary); the pairs in ``flagged`` (``indicator_a``, ``indicator_b``) outlined in black."""
    from matplotlib import colormaps
    from matplotlib.patches import Rectangle

    n = len(corr)
    fig = _figure(6.4, 6.0)
    ax = fig.add_subplot()
    im = ax.imshow(corr.to_numpy(dtype=float), cmap=colormaps["RdBu_r"], vmin=-1, vmax=1)
    ax.set_xticks(range(n), corr.columns, fontsize=5.5, rotation=90)
    ax.set_yticks(range(n), corr.index, fontsize=5.5)
    ax.grid(False)
    if flagged is not None:
        pos = {c: k for k, c in enumerate(corr.columns)}
        for r in flagged.itertuples():
            a, b = pos.get(r.indicator_a), pos.get(r.indicator_b)
            if a is None or b is None:
                continue
            for x, y in ((a, b), (b, a)):
                ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.2))
    bar = fig.colorbar(im, ax=ax, shrink=0.6, pad=0.02)
    bar.set_label("相关系数 r")
    ax.set_title("指标之间的相关系数（黑框：高度相关或同领域负相关）", fontsize=9)
    fig.set_layout_engine("constrained")
    return fig
