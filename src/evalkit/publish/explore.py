"""An interactive explorer for JupyterLab (``notebooks/explore.ipynb``), built from ipywidgets.

Three tabs:

- **学校** — pick a year and a school: headline, areas against the county, radar chart;
- **领域** — pick an area: the school's indicators of that area and each indicator's
  distribution across the county, the school highlighted;
- **权重模拟** — one slider per area (its points): the county ranking re-computed with
  :func:`evalkit.analysis.reweight_ranking`, with the schools that move.

Everything is rendered into ``HTML`` and ``Image`` widgets (no ``Output`` widget), so the
explorer works — and can be tested — without a running kernel:

>>> from evalkit.analysis import example_results
>>> ex = Explorer(example_results())
>>> ex.school.value = "003"
>>> 'data-grade="差"' in ex.school_html.value
True
>>> ex.sliders["A"].value = 90
>>> ex.sliders["B"].value = 10
>>> 'data-table="whatif"' in ex.whatif_html.value
True
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from evalkit import analysis, charts
from evalkit.framework import Framework
from evalkit.publish import present
from evalkit.results import Results

__all__ = ["Explorer"]

TABLE_CSS = (
    "<style>.ekr-table{border-collapse:collapse;margin:0.4em 0;font-size:12px}"
    ".ekr-table th,.ekr-table td{border:1px solid #bfbfbf;padding:2px 8px}"
    ".ekr-table thead th{background:#eceff3;text-align:center}"
    ".ekr-table tbody tr:nth-child(even) td{background:#f6f7f8}"
    ".ekr-table.ekr-compact{white-space:nowrap}"
    ".ekr-big{font-size:15pt;margin:0.3em 0}.ekr-veto{color:#a01c1c;font-weight:700}</style>"
)
"""Borders for the explorer's tables (JupyterLab's own styles show tables without them) and the
headline's large total and red veto sentence (the report stylesheet's ``.ekr-big``, ``.ekr-veto``)."""


class Explorer:
    """The widgets and their wiring; display :attr:`widget`. ``year`` and ``school_id`` are
    the initial choices (default: the latest year, the first school)."""

    def __init__(
        self, results: Results, framework: Framework | None = None, *, year: int | None = None,
        school_id: str = "",
    ) -> None:
        self.results = results
        self.framework = framework
        years = results.years
        start = int(year) if year is not None and int(year) in years else years[-1]
        self.year = w.Dropdown(options=years, value=start, description="年度")
        self.school = w.Dropdown(description="学校", layout=w.Layout(width="22em"))
        self.area = w.Dropdown(description="领域")
        self.school_html = w.HTML()
        self.radar = w.Image(format="png", layout=w.Layout(max_width="520px"))
        self.area_html = w.HTML()
        self.area_chart = w.Image(format="png", layout=w.Layout(max_width="640px"))
        self.sliders: dict[str, w.FloatSlider] = {}
        self.reset = w.Button(description="恢复现行权重", icon="undo")
        self.whatif_html = w.HTML()
        self.whatif_chart = w.Image(format="png", layout=w.Layout(max_width="520px"))
        self._quiet = False
        self._fill_choices(str(school_id))
        self.year.observe(self._on_year, names="value")
        self.school.observe(lambda _c: self._refresh(school=True, area=True), names="value")
        self.area.observe(lambda _c: self._refresh(area=True), names="value")
        self.reset.on_click(lambda _b: self._reset_weights())
        self._refresh(school=True, area=True, whatif=True)

    # -- layout ------------------------------------------------------------------------------
    @property
    def widget(self) -> w.Widget:
        """The explorer: selectors on top, three tabs below."""
        school_tab = w.VBox([self.school_html, self.radar])
        area_tab = w.VBox([self.area, self.area_html, self.area_chart])
        whatif_tab = w.VBox([
            w.HTML("<p>拖动滑块调整各领域分值（按比例折算为基础分总分），查看县内排名变化。</p>"),
            *self.sliders.values(), self.reset, self.whatif_chart, self.whatif_html,
        ])
        tabs = w.Tab(children=[school_tab, area_tab, whatif_tab])
        for i, title in enumerate(("学校", "领域", "权重模拟")):
            tabs.set_title(i, title)
        return w.VBox([w.HBox([self.year, self.school]), tabs])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- choices -----------------------------------------------------------------------------
    def _fill_choices(self, wanted: str = "") -> None:
        year = int(self.year.value)
        s = self.results.schools
        s = s[s["year"] == year].sort_values("school_id")
        current = wanted or self.school.value
        self._quiet = True
        self.school.options = [(f"{r.school_id} {r.school_name}", r.school_id) for r in s.itertuples()]
        self.school.value = current if current in set(s["school_id"]) else s["school_id"].iloc[0]
        a = self.results.areas
        areas = a[a["year"] == year].drop_duplicates("area_id")
        if not self.area.options:
            self.area.options = [(r.area_name, r.area_id) for r in areas.itertuples()]
            self.area.value = areas["area_id"].iloc[0]
        for area_id, points in analysis.area_weights(self.results, year).items():
            if area_id not in self.sliders:
                name = areas.loc[areas["area_id"] == area_id, "area_name"].iloc[0]
                slider = w.FloatSlider(value=points, min=0, max=max(50.0, 2 * points), step=1,
                                       description=name, continuous_update=False)
                slider.observe(lambda _c: self._refresh(whatif=True), names="value")
                self.sliders[area_id] = slider
        self._quiet = False

    def _on_year(self, _change: Any) -> None:
        self._fill_choices()
        self._refresh(school=True, area=True, whatif=True)

    def _reset_weights(self) -> None:
        self._quiet = True
        for area_id, points in analysis.area_weights(self.results, int(self.year.value)).items():
            self.sliders[area_id].value = points
        self._quiet = False
        self._refresh(whatif=True)

    # -- panels ------------------------------------------------------------------------------
    def _refresh(self, school: bool = False, area: bool = False, whatif: bool = False) -> None:
        if self._quiet:
            return
        r, year, sid = self.results, int(self.year.value), str(self.school.value)
        if school:
            h = analysis.headline(r, sid, year)
            areas = analysis.area_comparison(r, sid, year)
            cols = ["area_name", "max_points", "points", "share", "county_mean", "type_mean", "diff"]
            self.school_html.value = (TABLE_CSS + present.headline_html(h)
                                      + present.table_html(areas, name="areas", columns=cols))
            self.radar.value = charts.to_png(charts.radar(areas, h.school_name), dpi=96)
        if area:
            area_id = str(self.area.value)
            table = analysis.indicator_table(r, sid, year)
            ids = set(analysis.indicator_shares(r, year, area_id)["indicator_id"])
            table = table[table["indicator_id"].isin(ids)]
            self.area_html.value = TABLE_CSS + present.table_html(table, name="area-indicators")
            shares = analysis.indicator_shares(r, year, area_id)
            self.area_chart.value = charts.to_png(charts.indicator_strip(shares, sid), dpi=96)
        if whatif:
            weights = {a: s.value for a, s in self.sliders.items()}
            moves = analysis.reweight_ranking(r, year, weights, self.framework)
            cols = [c for c in ("new_rank", "school_name", "school_type", "total", "new_total", "rank",
                                "rank_change", "grade", "new_grade") if c in moves.columns]
            current = {"total": "现行总分", "rank": "现行排名", "grade": "现行等次"}
            self.whatif_html.value = TABLE_CSS + present.table_html(moves, name="whatif", columns=cols,
                                                                    headers=current)
            self.whatif_chart.value = charts.to_png(charts.reweight(moves, highlight=[sid]), dpi=96)
