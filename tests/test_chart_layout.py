"""SettledLayout (evalkit.charts.layout): matplotlib's constrained layout, its second pass run
only when it could move something; the positions are matplotlib's own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib import _constrained_layout
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

import evalkit
from evalkit import analysis, charts
from evalkit.charts.figures import _draw_image
from evalkit.charts.layout import SettledLayout


@pytest.fixture(scope="module")
def demo() -> evalkit.results.Results:
    return evalkit.load_results(2024)


@pytest.fixture
def passes(monkeypatch) -> list[int]:
    """How many times the layout measured the decorations (the real function, counted)."""
    calls: list[int] = []
    real = _constrained_layout.make_layout_margins

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_constrained_layout, "make_layout_margins", counted)
    return calls


def _positions(fig: Figure) -> list[tuple[float, ...]]:
    _draw_image(fig, charts.PRINT_DPI)
    return [tuple(ax.get_position().bounds) for ax in fig.axes]


def _two_pass(fig: Figure) -> Figure:
    fig.set_layout_engine(ConstrainedLayoutEngine())
    return fig


@pytest.mark.parametrize("school", ["017", "036", "045"])
def test_the_report_charts_are_placed_as_by_matplotlibs_two_passes(demo, school, passes) -> None:
    h = analysis.headline(demo, school, 2024)
    makers = [
        lambda: charts.points_lost(analysis.points_lost(demo, school, 2024)),
        lambda: charts.trend(analysis.school_trend(demo, school), h.school_name),
        lambda: charts.area_trend(analysis.area_trend(demo, school)),
    ]
    for make in makers:
        settled = make()
        assert isinstance(settled.get_layout_engine(), SettledLayout)
        passes.clear()
        ours = _positions(settled)
        assert len(passes) == 1  # the second pass skipped
        theirs = _positions(_two_pass(make()))
        assert np.allclose(ours, theirs, rtol=0, atol=1e-9)  # equal but for float rounding


def _figure_with(labels: list[str], xmax: float) -> Figure:
    fig = Figure(figsize=(4.0, 2.0))
    fig.set_layout_engine(SettledLayout())
    ax = fig.add_subplot()
    ax.barh(range(len(labels)), np.linspace(1, xmax, len(labels)))
    ax.set_yticks(range(len(labels)), labels)
    return fig


def test_other_ticks_at_the_new_size_take_the_second_pass(passes) -> None:
    # long labels take half the width: the automatic x locator fits fewer ticks after the first pass
    long = ["第一项指标名称相当长的一条", "第二项", "第三项"]
    fig = _figure_with(long, 9.7)
    before = list(fig.axes[0].xaxis.get_majorticklocs())
    ours = _positions(fig)
    assert list(fig.axes[0].xaxis.get_majorticklocs()) != before
    assert len(passes) == 2
    passes.clear()
    assert ours == _positions(_two_pass(_figure_with(long, 9.7)))  # matplotlib's own passes: the same


def test_a_text_outside_the_axes_takes_the_second_pass(passes) -> None:
    fig = Figure(figsize=(4.0, 2.0))
    fig.set_layout_engine(SettledLayout())
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.text(1.0, 1.0, "高出坐标区的标注", va="bottom")  # at the data's corner, above the axes
    _positions(fig)
    assert len(passes) == 2


def test_polar_axes_take_both_passes(demo, passes) -> None:
    fig = charts.radar(analysis.area_comparison(demo, "017", 2024), "城关一小")
    fig.set_layout_engine(SettledLayout())
    _positions(fig)
    assert len(passes) == 2


def test_a_long_indicator_name_stays_inside_the_figure(demo) -> None:
    lost = analysis.points_lost(demo, "017", 2024).copy()
    name = "党组织书记抓基层党建工作述职评议考核结果运用情况及整改落实情况"  # 30 characters
    lost.loc[lost.index[0], "indicator_name"] = name
    fig = charts.points_lost(lost)
    fig.dpi = charts.PRINT_DPI  # drawn as to_png draws it
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    labels = [t for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert any(name in t.get_text() for t in labels)
    for text in [*labels, fig.axes[0].title, fig.axes[0].xaxis.label]:
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, text


def test_empty_points_lost_still_draws(demo) -> None:
    empty = analysis.points_lost(demo, "001", 2024).iloc[0:0]
    assert isinstance(empty, pd.DataFrame)
    assert charts.to_png(charts.points_lost(empty), dpi=100).startswith(b"\x89PNG")
