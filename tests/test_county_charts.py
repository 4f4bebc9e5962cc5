"""The county summary's heat map (evalkit.charts.figures.heatmap): its cell values are left out
of the constrained layout, which is only a saving if it draws the same chart."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

import evalkit
from evalkit import analysis, charts


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_heatmap_values_out_of_the_layout_draw_the_same_chart() -> None:
    """The demo county (48 schools × 5 areas, 240 values): the heat map as made, and the same
    figure with every value put back into the layout, are the same pixels at the reports' dpi;
    every value is still drawn, white on the darker half of the scale."""
    matrix = analysis.area_matrix(evalkit.load_results(2024), 2024)
    made, measured = charts.heatmap(matrix), charts.heatmap(matrix)
    texts = measured.axes[0].texts
    assert len(texts) == matrix.size == 240
    assert not any(t.get_in_layout() for t in made.axes[0].texts)
    for t in texts:
        t.set_in_layout(True)
    assert np.array_equal(_pixels(charts.to_png(made, dpi=charts.figures.PRINT_DPI)),
                          _pixels(charts.to_png(measured, dpi=charts.figures.PRINT_DPI)))
    values = matrix.to_numpy(dtype=float) * 100
    assert [t.get_text() for t in texts] == [f"{v:.0f}" for v in values.ravel()]
    mid = (np.floor(values.min() / 10) * 10 + 100) / 2
    assert [t.get_color() == "white" for t in texts] == (values.ravel() > mid).tolist()
