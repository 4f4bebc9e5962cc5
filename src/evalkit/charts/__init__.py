"""Matplotlib figures for the reports, one function per chart, each returning a Figure.

- :mod:`~evalkit.charts.figures` — the school and county reports' charts (re-exported here, so
  ``from evalkit import charts; charts.radar(...)`` works as it always has);
- :mod:`~evalkit.charts.uncertainty` — rank intervals, sensitivity, the audit's heat map;
- :mod:`~evalkit.charts.region` — one bar or box per county for the region summary;
- :mod:`~evalkit.charts.fonts` — the CJK font, the grey-safe palette, crisp output (set once).
"""

from __future__ import annotations

from evalkit.charts.figures import (
    PRINT_DPI,
    area_distribution,
    area_trend,
    changes,
    grade_distribution,
    group_comparison,
    heatmap,
    indicator_strip,
    plain,
    points_lost,
    radar,
    reweight,
    show,
    to_png,
    trend,
)

__all__ = [
    "PRINT_DPI",
    "area_distribution",
    "area_trend",
    "changes",
    "grade_distribution",
    "group_comparison",
    "heatmap",
    "indicator_strip",
    "plain",
    "points_lost",
    "radar",
    "reweight",
    "show",
    "to_png",
    "trend",
]
