"""Matplotlib figures for the reports, one function per chart, each returning a Figure.

- :mod:`~evalkit.charts.figures` — the school and county reports' charts (re-exported here, so
  ``from evalkit import charts; charts.radar(...)`` works as it always has);
- :mod:`~evalkit.charts.uncertainty` — rank intervals, sensitivity, the audit's heat map;
- :mod:`~evalkit.charts.region` — one bar or box per county for the region summary;
- :mod:`~evalkit.charts.fonts` — the CJK font, the grey-safe palette, crisp output (set once).
"""

from __future__ import annotations

from evalkit.charts.figures import *  # noqa: F403 - the report charts, as evalkit.charts always offered them
from evalkit.charts.figures import __all__ as __all__
