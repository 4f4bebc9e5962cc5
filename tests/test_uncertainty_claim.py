"""The school report's robustness sentence and its chart state one interval and one probability.

The issue (23) saw the sentence give "a 98 % chance of ranks 8–12" while the chart under it called
the same ranks a "90% 区间": the ranks are the 5% and 95% quantiles of the simulated ranks, but
ranks are whole numbers, so the share of replications inside them (``interval_share``) is at
least 90% and here 98%. Both now come from :func:`evalkit.analysis.uncertainty.interval_claim`.
"""

from __future__ import annotations

import re

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg

from evalkit.analysis.uncertainty import interval_claim, uncertainty_sentence
from evalkit.charts.uncertainty import rank_interval

VARIED = "指标权重（±20%）、评分人差异"


def _row(rank: int, lo: int, hi: int, share: float) -> pd.Series:
    return pd.Series({"rank": rank, "rank_lo": lo, "rank_hi": hi, "interval_share": share, "median_rank": rank,
                      "grade": "好", "grade_prob": 0.9995, "n_schools": 48})


def _chart_texts(row: pd.Series) -> list[str]:
    return [t.get_text() for t in rank_interval(row).axes[0].texts]


def _stated(text: str) -> tuple[int, int, str]:
    """(lo, hi, probability) as a reader finds them in ``text``."""
    m = re.search(r"第 (\d+)–(\d+) 名之间的可能性为 (\S+?%)", text)
    assert m, text
    return int(m[1]), int(m[2]), m[3]


def test_the_sentence_and_the_chart_state_the_same_ranks_and_probability() -> None:
    row = _row(11, 8, 12, 0.981)  # the school of the issue: 98.1% of replications within ranks 8–12
    sentence = uncertainty_sentence(row, VARIED)
    label = interval_claim(row).label
    assert label in _chart_texts(row)
    assert _stated(sentence) == _stated(label) == (8, 12, "98%")
    assert not any("90%" in t for t in _chart_texts(row))  # the nominal level is not claimed as the probability
    assert sentence == ("全县排名第 11 名；考虑指标权重（±20%）、评分人差异，排名在第 8–12 名之间的可能性为 98%，"
                        "获评“好”的可能性为 >99%。")


def test_a_single_rank_is_stated_alike_in_both() -> None:
    row = _row(1, 1, 1, 1.0)
    assert "排名保持第 1 名的可能性为 100%" in uncertainty_sentence(row, VARIED)
    assert "保持第 1 名的可能性为 100%" in _chart_texts(row)


def test_the_label_stays_inside_the_figure_at_either_end() -> None:
    for row in (_row(1, 1, 4, 0.95), _row(48, 44, 48, 0.92)):
        fig = rank_interval(row)
        renderer = FigureCanvasAgg(fig).get_renderer()
        width = fig.bbox.width
        label = next(t for t in fig.axes[0].texts if "可能性" in t.get_text())
        box = label.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= width, (box.x0, box.x1, width)
