"""The legend below a chart (charts.figures._legend_below), now measured at the reports' 200 dpi
on the figure's own canvas: a long school name still fits inside the figure, the figure's dpi is
left as it was, and the drawing reuses the renderer that measured it."""

from __future__ import annotations

import evalkit
from evalkit import analysis, charts


def _inside(fig) -> None:
    """Drawn at the reports' resolution (as to_png draws it), every legend's text is inside the
    figure (none clipped at its edge)."""
    fig.dpi = charts.PRINT_DPI
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    texts = [t for legend in fig.legends for t in legend.get_texts()]
    assert texts
    for text in texts:
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, box


def test_a_long_school_name_moves_entries_onto_more_rows_inside_the_figure() -> None:
    demo = evalkit.load_results(2024)
    history = analysis.school_trend(demo, "017")
    long_name = "青岚县城关镇第一中心小学教育集团东校区（含附属幼儿园）九年一贯制实验学校"  # 37 characters
    short = charts.trend(history, "城关一小")
    long = charts.trend(history, long_name)
    assert short.legends[0]._ncols == 3  # three entries side by side
    assert long.legends[0]._ncols < 3  # the long name takes a row of its own
    assert short.dpi == long.dpi == 150.0  # the figure's dpi (rcParams figure.dpi) left as it was
    _inside(long)
    _inside(short)
    radar = charts.radar(analysis.area_comparison(demo, "017", 2024), long_name)
    assert radar.legends[0]._ncols < 3
    _inside(radar)


def test_the_drawing_reuses_the_renderer_that_measured_the_legend() -> None:
    demo = evalkit.load_results(2024)
    fig = charts.trend(analysis.school_trend(demo, "017"), "城关一小")
    measured = fig.canvas.renderer  # the canvas's last renderer: made at PRINT_DPI by _legend_below
    assert measured.dpi == charts.PRINT_DPI
    fig.dpi = charts.PRINT_DPI  # as to_png sets it while drawing
    assert fig.canvas.get_renderer() is measured
