"""Charts of the region summary: one bar or box per county (tables of
:mod:`evalkit.analysis.region`). Same fonts, colours and hatches as :mod:`evalkit.charts.figures`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from evalkit.analysis.region import Region
from evalkit.charts.figures import _figure, _legend_below
from evalkit.charts.fonts import color, hatch


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``colour``: ``0.2126 R + 0.7152 G + 0.0722 B`` of the
    linearised channels (``c/12.92`` up to 0.04045, else ``((c + 0.055)/1.055)^2.4``).

    >>> round(relative_luminance("#004488"), 3), round(relative_luminance("#FFFFFF"), 3)
    (0.059, 1.0)
    """
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def label_colour(background: str) -> str:
    """White or black, whichever contrasts more with ``background`` (WCAG contrast ratio
    ``(L1 + 0.05)/(L2 + 0.05)``): white on dark blue and near black, black on ochre and rose.

    >>> label_colour("#004488"), label_colour("#1A1A1A"), label_colour("#DDAA33"), label_colour("#BB5566")
    ('white', 'white', 'black', 'black')
    """
    lum = relative_luminance(background)
    return "white" if (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) else "black"


def grade_shares(shares: pd.DataFrame, grade_order: list[str]) -> Figure:
    """Stacked horizontal bars: each county's share of schools per grade (the table of
    :func:`evalkit.analysis.region.grade_shares`), the first county on top."""
    fig = _figure(6.8, 0.45 * len(shares) + 1.6, layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    for i, grade in enumerate(grade_order):
        values = shares[grade].to_numpy(dtype=float) * 100
        bars = ax.barh(y, values, left=left, color=color(i), hatch=hatch(i), edgecolor="white", label=grade)
        # the label in the colour that contrasts with the bar, on a patch of the bar's colour that
        # hides the hatch behind the digits
        for text in ax.bar_label(bars, labels=[f"{v:.0f}%" if v >= 6 else "" for v in values],
                                 label_type="center", fontsize=7):
            text.set_color(label_colour(color(i)))
            text.set_bbox({"facecolor": color(i), "edgecolor": "none", "boxstyle": "square,pad=0.3"})
        left += values
    ax.set_yticks(y, [f"{c}（{n}所）" for c, n in zip(shares["county"], shares["n"], strict=True)], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("学校占比（%）")
    ax.set_title("各县等次构成")
    _legend_below(fig, len(grade_order))
    return fig


def score_boxes(region: Region, year: int) -> Figure:
    """Box plot of the total score per county (every school a dot), the first county on top."""
    table = region.schools(year)
    names = list(region.counties)
    fig = _figure(6.8, 0.45 * len(names) + 1.4, layout="constrained")
    ax = fig.add_subplot()
    data = [table.loc[table["county"] == c, "total"].to_numpy(dtype=float) for c in names]
    positions = np.arange(len(names))[::-1]
    ax.boxplot(data, positions=positions, vert=False, widths=0.6, showfliers=False,
               medianprops={"color": color(1)}, boxprops={"color": color(0)})
    rng = np.random.default_rng(0)
    for pos, values in zip(positions, data, strict=True):
        ax.scatter(values, pos + rng.uniform(-0.18, 0.18, len(values)), s=6, color=color(0), alpha=0.5)
    ax.set_yticks(positions, names, fontsize=8)
    ax.set_xlabel("总分")
    ax.set_title("各县学校总分分布")
    return fig
