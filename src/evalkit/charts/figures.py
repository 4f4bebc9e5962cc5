"""Matplotlib figures for the reports: one function per chart, each returning a Figure.

Figures are made with :class:`matplotlib.figure.Figure` directly, not through ``pyplot``, so
they are never registered in pyplot's global list: nothing to close, nothing leaks when a batch
renders hundreds of reports. Fonts, palette and sizes come from
:func:`evalkit.charts.fonts.setup_matplotlib` (called by every chart function; cheap after the first
call). Series differ by colour *and* by marker, line style or hatch, so a chart stays readable
when printed in grey. Titles, labels and legends are Chinese.

In a notebook, show a figure with :func:`show` (a PNG with the chart's name in the output's
metadata, so tests and tools can find it).

>>> from evalkit.analysis import example_results, area_comparison
>>> fig = radar(area_comparison(example_results(), "001", 2024), school_name="城关一小")
>>> fig.axes[0].get_title()
'各领域得分率'
>>> to_png(fig)[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

from evalkit.charts import cache, png
from evalkit.charts.fonts import PNG_COMPRESS_LEVEL, color, hatch, setup_matplotlib

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
    "show_chart",
    "to_png",
    "trend",
]

_MARKERS = ("o", "s", "^", "D", "v", "P")
_LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 1)))
_MUTED = "#888888"


def plain(text: object) -> str:
    """A label from data, safe to draw: control and format characters (a bell, a zero-width
    space, a bidi override) removed — no font has glyphs for them. ``$`` needs nothing: mathtext
    is off for every text (``text.parse_math`` in :func:`evalkit.charts.fonts.setup_matplotlib`).

    >>> plain("城关\x07一小$x^$")
    '城关一小$x^$'
    """
    return "".join(ch for ch in str(text) if unicodedata.category(ch) not in ("Cc", "Cf"))


def _figure(width: float = 6.4, height: float = 4.0, **kwargs: object) -> Figure:
    setup_matplotlib()
    return Figure(figsize=(width, height), **kwargs)  # type: ignore[arg-type]


def _legend_below(fig: Figure, ncols: int, fontsize: float = 8) -> None:
    """A legend centred below the plot in at most ``ncols`` columns: as many as fit in the
    figure's width, so a long school name moves entries onto another row instead of being
    clipped at the figure's edge.

    Measured at :data:`PRINT_DPI`, the resolution the reports draw the chart at, with the
    renderer of the figure's own Agg canvas: :func:`to_png` at that resolution draws with the
    same renderer, and the legend's text sizes measured here are not measured again."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if type(fig.canvas) is FigureCanvasAgg else FigureCanvasAgg(fig)
    old_dpi = fig.dpi
    fig.dpi = PRINT_DPI
    try:
        renderer = canvas.get_renderer()
        for n in range(ncols, 0, -1):
            legend = fig.legend(loc="outside lower center", ncols=n, fontsize=fontsize)
            width = legend.get_window_extent(renderer).width
            if width <= 0.96 * fig.bbox.width:
                return
            if n == 1:
                _wrap_legend(legend, renderer, width - 0.96 * fig.bbox.width)
                return
            legend.remove()
    finally:
        fig.dpi = old_dpi


def _wrap_legend(legend: object, renderer: object, excess: float) -> None:
    """Break each label of a one-column ``legend`` that is ``excess`` pixels too wide for the
    figure into lines of as many characters as fit (a school name longer than a narrow chart)."""
    texts = legend.get_texts()  # type: ignore[attr-defined]
    widest = max(t.get_window_extent(renderer).width for t in texts)
    room = widest - excess
    for text in texts:
        label = text.get_text()
        width = text.get_window_extent(renderer).width
        if width <= room or len(label) < 2:
            continue
        per_line = max(1, int(len(label) * room / width))
        text.set_text("\n".join(label[i : i + per_line] for i in range(0, len(label), per_line)))


def _pct_axis(ax: object, axis: str = "y") -> None:
    """Ticks of a 0–100 axis as whole percentages (at most 8 ticks, on whole numbers)."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    target = getattr(ax, f"{axis}axis")
    target.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10], integer=True))
    target.set_major_formatter(PercentFormatter(100, decimals=0))


def to_png(fig: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG bytes at ``dpi``: the pixels of matplotlib's ``savefig(format="png")``.

    The figure is drawn once, by Agg: :meth:`Figure.draw` runs the layout engine (constrained
    layout) and then draws every artist. ``savefig`` draws twice with a layout engine (a first,
    invisible draw only to run the layout before a second, real one), about a third more work
    for the same pixels. As with ``savefig``, the figure's face and edge are
    ``savefig.facecolor``/``savefig.edgecolor`` while drawing, and the figure's dpi is ``dpi``;
    both are restored afterwards, and so is the figure's canvas.

    A chart on its opaque face (the reports' charts: ``savefig.facecolor`` is white) is written
    as an 8-bit RGB PNG: the same pixels as matplotlib's own RGBA PNG, about a tenth fewer bytes,
    and no alpha channel that WeasyPrint would split off into a soft mask in every PDF. Any other
    figure keeps its alpha channel (RGBA). The pixels go from Agg's buffer to Pillow without
    NumPy copies (Pillow drops the alpha channel in one pass); the file is written by
    :func:`evalkit.charts.png.encode`: unfiltered scanlines (faster to write and smaller than
    Pillow's per-row filter choice, for charts) at zlib level :data:`PNG_COMPRESS_LEVEL`."""
    return png.encode(_draw_image(fig, dpi), dpi, PNG_COMPRESS_LEVEL)


def _draw_image(fig: Figure, dpi: float) -> PILImage:
    """The figure drawn once by Agg at ``dpi`` with the ``savefig.*`` face and edge colours: an
    8-bit Pillow image of the canvas's pixels, RGB when every pixel is opaque, else RGBA."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    old_canvas, old_dpi = fig.canvas, fig.dpi
    old_face, old_edge = fig.get_facecolor(), fig.get_edgecolor()
    # a plain Agg canvas (one of a GUI backend would repaint its window); savefig switches too
    canvas = old_canvas if type(old_canvas) is FigureCanvasAgg else FigureCanvasAgg(fig)
    try:
        fig.dpi = dpi
        face, edge = matplotlib.rcParams["savefig.facecolor"], matplotlib.rcParams["savefig.edgecolor"]
        if not (isinstance(face, str) and face == "auto"):
            fig.set_facecolor(face)
        if not (isinstance(edge, str) and edge == "auto"):
            fig.set_edgecolor(edge)
        canvas.draw()
        buffer = canvas.buffer_rgba()
        size = (buffer.shape[1], buffer.shape[0])
        rgba = Image.frombuffer("RGBA", size, buffer, "raw", "RGBA", 0, 1)  # no copy yet
        return rgba.convert("RGB") if rgba.getchannel("A").getextrema() == (255, 255) else rgba.copy()
    finally:
        fig.set_facecolor(old_face)
        fig.set_edgecolor(old_edge)
        fig.dpi = old_dpi
        if canvas is not old_canvas:
            fig.set_canvas(old_canvas)


PRINT_DPI = 200
"""Resolution of the charts in reports (HTML, PDF and Word show them at the figure's size): at
least 200 pixels per printed inch, also when Word shrinks a 6.4-inch chart to the 6.1-inch text
block of GB/T 9704."""


def show(fig: Figure, name: str = "") -> None:
    """Display ``fig`` in a notebook as a PNG at :data:`PRINT_DPI` (shown at the figure's size)
    whose output metadata has ``{"evalkit": {"chart": name}}``."""
    _display_png(to_png(fig, dpi=PRINT_DPI), fig.get_figwidth(), name)


def show_chart(name: str, draw: Callable[..., Figure], *args: object, **kwargs: object) -> None:
    """:func:`show` the figure ``draw(*args, **kwargs)`` — or, when this run drew the very same
    chart before (same function, same arguments, same matplotlib set-up), its PNG, byte for byte
    the same, from the run's chart folder (:mod:`evalkit.charts.cache`): the school report and
    the trend report of a school draw one trend chart once."""
    key = cache.chart_key(draw, args, kwargs, PRINT_DPI) if cache.cache_folder() is not None else None
    hit = cache.load(key) if key is not None else None
    if hit is not None:
        width, png = hit
    else:
        fig = draw(*args, **kwargs)
        width, png = fig.get_figwidth(), to_png(fig, dpi=PRINT_DPI)
        if key is not None:
            cache.store(key, width, png)
    _display_png(png, width, name)


def _display_png(png: bytes, width_inches: float, name: str) -> None:
    from IPython.display import Image, display

    display(Image(data=png, format="png", width=int(width_inches * 96)), metadata={"evalkit": {"chart": name}})


# --------------------------------------------------------------------------- one school


def radar(areas: pd.DataFrame, school_name: str = "本校") -> Figure:
    """Each area's share of its maximum, the school against the county mean (and the
    same-type mean when shown): the table of :func:`evalkit.analysis.area_comparison`."""
    fig = _figure(3.8, 3.3)
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    labels = [plain(n) for n in areas["area_name"]]
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False)
    closed = np.append(angles, angles[0])
    series = [(plain(school_name), areas["share"]), ("全县平均", areas["county_share"])]
    if areas["type_share"].notna().all():
        series.append(("同类学校平均", areas["type_share"]))
    for i, (label, values) in enumerate(series):
        v = np.append(values.to_numpy(dtype=float), values.iloc[0]) * 100
        ax.plot(closed, v, color=color(i), linestyle=_LINESTYLES[i], marker=_MARKERS[i], markersize=4,
                linewidth=2 if i == 0 else 1.4, label=label)
        if i == 0:
            ax.fill(closed, v, color=color(i), alpha=0.12)
    ax.set_xticks(angles, labels)
    ax.tick_params(axis="x", pad=6)
    # labels outside the circle, aligned away from it, so they never cross the lines
    for text, angle in zip(ax.get_xticklabels(), angles, strict=True):
        x, y = np.sin(angle), np.cos(angle)  # angle 0 at the top, clockwise
        text.set_horizontalalignment("left" if x > 0.1 else "right" if x < -0.1 else "center")
        text.set_verticalalignment("bottom" if y > 0.1 else "top" if y < -0.1 else "center")
    low = float(np.nanmin([np.nanmin(v.to_numpy(dtype=float)) for _, v in series])) * 100
    ax.set_ylim(max(0.0, np.floor(low / 10) * 10 - 10), 100)
    ax.set_rlabel_position(180 / len(labels))
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
    ax.tick_params(axis="y", labelsize=7, labelcolor=_MUTED)
    ax.set_title("各领域得分率")
    _legend_below(fig, len(series))
    return fig


def points_lost(lost: pd.DataFrame, top: int = 15) -> Figure:
    """Horizontal bars of the points lost per indicator (most first), hatched by area: the
    table of :func:`evalkit.analysis.points_lost`."""
    rows = lost.head(top).iloc[::-1]
    fig = _figure(6.4, 1.0 + 0.28 * max(len(rows), 1))
    ax = fig.add_subplot()
    if rows.empty:
        ax.text(0.5, 0.5, "各指标均得满分", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    area_order = list(dict.fromkeys(lost.sort_values("area_id", kind="stable")["area_name"]))  # stable colours
    for i, area in enumerate(area_order):
        pick = rows["area_name"] == area
        ax.barh(np.flatnonzero(pick.to_numpy()), rows.loc[pick, "lost"], color=color(i), hatch=hatch(i),
                edgecolor="white", label=area)
    ax.set_yticks(range(len(rows)), [f"{i} {n}" for i, n in zip(rows["indicator_id"], rows["indicator_name"],
                                                                 strict=True)])
    for y, v in enumerate(rows["lost"]):
        ax.text(v, y, f" {v:g}", va="center", fontsize=8)
    ax.set_xlabel("失分（分）")
    ax.set_title("各指标失分" + (f"（前 {top} 项）" if len(lost) > top else ""))
    ax.grid(axis="y", visible=False)
    # inside the axes wherever "best" puts it: it cannot move the axes, so constrained layout
    # need not place it (which would search the best place once more before the drawing does)
    ax.legend(loc="best", fontsize=8).set_in_layout(False)
    ax.margins(x=0.12)
    return fig


def trend(history: pd.DataFrame, school_name: str = "本校", rates: bool = False) -> Figure:
    """The school's total per year against the county mean (and the same-type mean when
    shown), each point labelled with its grade: the table of :func:`evalkit.analysis.school_trend`.
    ``rates``: the score rates instead (``rate``, ``county_rate``, ``type_rate``, in %), for years
    scored under different frameworks (:func:`evalkit.analysis.trend_notes`)."""
    fig = _figure(6.4, 3.6)
    ax = fig.add_subplot()
    years = history["year"].astype(int).to_numpy()
    own, county, typed = ("rate", "county_rate", "type_rate") if rates else ("total", "county_mean", "type_mean")
    series = [(plain(school_name), history[own]), ("全县平均", history[county])]
    if history[typed].notna().any():
        series.append(("同类学校平均", history[typed]))
    for i, (label, values) in enumerate(series):
        ax.plot(years, values, color=color(i), linestyle=_LINESTYLES[i], marker=_MARKERS[i],
                linewidth=2.2 if i == 0 else 1.4, label=label)
    for x, y, g in zip(years, history[own], history["grade"], strict=True):
        ax.annotate(f"{y:.1f}{'%' if rates else ''}（{g}）", (x, y), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=8)
    ax.set_xticks(years, [f"{y}年" for y in years])
    ax.set_ylabel("得分率（%）" if rates else "总分（分）")
    ax.set_title("得分率变化" if rates else "总分变化")
    ax.margins(x=0.15, y=0.25)
    _legend_below(fig, len(series))
    return fig


def area_trend(areas: pd.DataFrame) -> Figure:
    """Each area's share per year (one line per area): the table of
    :func:`evalkit.analysis.area_trend`."""
    fig = _figure(6.4, 3.8)
    ax = fig.add_subplot()
    for i, (name, grp) in enumerate(areas.groupby("area_name", sort=False)):
        ax.plot(grp["year"].astype(int), grp["share"] * 100, color=color(i), linestyle=_LINESTYLES[i],
                marker=_MARKERS[i], label=plain(name))
    years = sorted(areas["year"].astype(int).unique())
    ax.set_xticks(years, [f"{y}年" for y in years])
    ax.set_ylabel("得分率")
    _pct_axis(ax)
    ax.set_title("各领域得分率变化")
    ax.margins(x=0.1)
    fig.legend(loc="outside right center", fontsize=8)
    return fig


# --------------------------------------------------------------------------- the county


def grade_distribution(dist: pd.DataFrame) -> Figure:
    """Schools per grade, by score and final (after vetoes and quota): the table of
    :func:`evalkit.analysis.grade_distribution`."""
    fig = _figure(6.4, 3.4)
    ax = fig.add_subplot()
    x = np.arange(len(dist))
    for i, (col, label) in enumerate((("by_score", "按分数"), ("final", "最终（含否决与名额）"))):
        bars = ax.bar(x + (i - 0.5) * 0.38, dist[col], width=0.38, color=color(i), hatch=hatch(i),
                      edgecolor="white", label=label)
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(x, dist["grade"])
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("学校数（所）")
    ax.set_title("等次分布")
    ax.margins(y=0.15)
    ax.legend(fontsize=8)
    return fig


def area_distribution(shares: pd.DataFrame) -> Figure:
    """Box plot of each area's share across schools, with every school as a dot: the table of
    :func:`evalkit.analysis.area_shares`."""
    fig = _figure(6.4, 3.8)
    ax = fig.add_subplot()
    names = list(dict.fromkeys(shares["area_name"]))
    data = [shares.loc[shares["area_name"] == n, "share"].to_numpy(dtype=float) * 100 for n in names]
    ax.boxplot(data, widths=0.5, showfliers=False, patch_artist=True,
               boxprops={"facecolor": "#E8EEF5", "edgecolor": color(0)},
               medianprops={"color": color(0), "linewidth": 2}, whiskerprops={"color": color(0)},
               capprops={"color": color(0)})
    ax.set_xticks(range(1, len(names) + 1), names)
    jitter = np.random.default_rng(0)
    for i, values in enumerate(data, start=1):
        ax.scatter(i + jitter.uniform(-0.15, 0.15, len(values)), values, s=10, color=color(3), alpha=0.6,
                   zorder=3, linewidths=0)
    ax.set_ylabel("得分率")
    _pct_axis(ax)
    ax.set_title("各领域得分率分布（每点为一所学校）")
    return fig


def indicator_strip(shares: pd.DataFrame, school_id: str | None = None, title: str = "") -> Figure:
    """Each indicator's share across schools (one dot per school, the mean as a bar), the
    school ``school_id`` drawn as a large diamond: :func:`evalkit.analysis.indicator_shares`."""
    labels = list(dict.fromkeys(zip(shares["indicator_id"], shares["indicator_name"], strict=True)))
    fig = _figure(6.4, 1.2 + 0.36 * max(len(labels), 1))
    ax = fig.add_subplot()
    if not labels:
        ax.text(0.5, 0.5, "没有指标数据", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    jitter = np.random.default_rng(0)
    for y, (iid, _name) in enumerate(labels):
        rows = shares[shares["indicator_id"] == iid]
        v = rows["share"].to_numpy(dtype=float) * 100
        ax.scatter(v, y + jitter.uniform(-0.15, 0.15, len(v)), s=10, color=_MUTED, alpha=0.6, linewidths=0,
                   label="各校" if y == 0 else None)
        ax.plot([np.nanmean(v)] * 2, [y - 0.3, y + 0.3], color=color(3), linewidth=2,
                label="全县平均" if y == 0 else None)
        own = rows.loc[rows["school_id"] == school_id, "share"].to_numpy(dtype=float) * 100
        if own.size:
            ax.plot(own, [y], marker="D", markersize=8, color=color(0), linestyle="none",
                    label="所选学校" if y == 0 else None)
    ax.set_yticks(range(len(labels)), [plain(f"{i} {n}") for i, n in labels])
    ax.invert_yaxis()
    ax.set_xlabel("得分率")
    _pct_axis(ax, "x")
    ax.set_title(plain(title) or "各指标得分率分布")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8)
    return fig


def heatmap(matrix: pd.DataFrame) -> Figure:
    """School × area shares as a heat map with values: :func:`evalkit.analysis.area_matrix`."""
    from matplotlib import colormaps

    fig = _figure(6.4, 1.2 + 0.2 * len(matrix))
    ax = fig.add_subplot()
    values = matrix.to_numpy(dtype=float) * 100
    low = float(np.floor(np.nanmin(values) / 10) * 10) if values.size else 0.0
    im = ax.imshow(values, cmap=colormaps["Blues"], vmin=low, vmax=100, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), [plain(n) for n in matrix.columns])
    ax.set_yticks(range(matrix.shape[0]), [plain(n) for n in matrix.index], fontsize=7)
    ax.xaxis.tick_top()
    ax.grid(False)
    mid = (low + 100) / 2
    # the values lie inside their cells, so they cannot move the layout: left out of it
    # (constrained layout would measure each of the schools × areas texts twice per draw)
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=6.5,
                color="white" if v > mid else "black", in_layout=False)
    bar = fig.colorbar(im, ax=ax, shrink=0.5, pad=0.02)
    bar.set_label("得分率（%）")
    ax.set_title("各校各领域得分率（按排名）")
    return fig


def group_comparison(groups: pd.DataFrame, title: str = "按学校类型比较") -> Figure:
    """Mean total per group with the range (min–max) and the number of schools: the table of
    :func:`evalkit.analysis.group_comparison`."""
    rows = groups.iloc[::-1]
    fig = _figure(6.4, 1.0 + 0.32 * len(rows))
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    ax.hlines(y, rows["min_total"], rows["max_total"], color=_MUTED, linewidth=1.2, label="最低—最高")
    ax.plot(rows["mean_total"], y, "o", color=color(0), label="平均总分")
    ax.set_yticks(y, [f"{plain(g)}（{n}所）" for g, n in zip(rows["group"], rows["n"], strict=True)])
    for yy, v in zip(y, rows["mean_total"], strict=True):
        ax.annotate(f"{v:.1f}", (v, yy), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
    ax.set_xlabel("总分（分）")
    ax.set_title(plain(title))
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    return fig


def changes(up: pd.DataFrame, down: pd.DataFrame, basis: str = "total") -> Figure:
    """Diverging bars of the biggest rises and falls in total since last year: the tables of
    :func:`evalkit.analysis.biggest_changes`. ``basis`` (:func:`evalkit.analysis.comparison_basis`)
    names what changed when last year's framework was another: ``rate`` (得分率, percentage
    points) or ``common`` (共有指标得分)."""
    rows = pd.concat([down.iloc[::-1], up.iloc[::-1]]) if len(up) or len(down) else up
    fig = _figure(6.4, 1.0 + 0.3 * max(len(rows), 1))
    ax = fig.add_subplot()
    if rows.empty:
        ax.text(0.5, 0.5, "没有上年数据可比", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    rise = rows["change"].to_numpy() > 0
    y = np.arange(len(rows))
    ax.barh(y[rise], rows["change"][rise], color=color(0), label="提高")
    ax.barh(y[~rise], rows["change"][~rise], color=color(2), hatch=hatch(1), edgecolor="white", label="下降")
    ax.set_yticks(y, [plain(n) for n in rows["school_name"]])
    ax.axvline(0, color="black", linewidth=0.8)
    for yy, v in zip(y, rows["change"], strict=True):
        ax.text(v, yy, f" {v:+.1f} ", va="center", ha="left" if v > 0 else "right", fontsize=8)
    what, unit = {"rate": ("得分率", "百分点"), "common": ("共有指标得分", "分")}.get(basis, ("总分", "分"))
    ax.set_xlabel(f"{what}变化（{unit}）")
    ax.set_title(f"{what}变化最大的学校")
    ax.margins(x=0.2)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def reweight(moves: pd.DataFrame, highlight: Sequence[str] = ()) -> Figure:
    """Slope chart of ranks before and after re-weighting (one line per school), schools that
    moved drawn darker: the table of :func:`evalkit.analysis.reweight_ranking`. Schools in
    ``highlight`` (ids) are labelled."""
    fig = _figure(5.0, 1.2 + 0.16 * len(moves))
    ax = fig.add_subplot()
    labels = []
    for r in moves.itertuples():
        moved = r.rank_change != 0
        mark = r.school_id in highlight
        line = color(0 if r.rank_change > 0 else 2) if moved else "#BBBBBB"
        ax.plot([0, 1], [r.rank, r.new_rank], color=line, linewidth=2.2 if mark else 1.0, marker="o",
                markersize=3, zorder=3 if moved else 2)
        if mark or moved:
            labels.append((float(r.new_rank), f"{r.school_name}（{r.rank_change:+d}）", mark))
    # only schools that moved (and the highlighted one) are named; labels pushed apart so that
    # with fifty schools neighbours do not print over each other
    placed = -np.inf
    for rank, text, mark in sorted(labels):
        y = max(rank, placed + 0.9)
        placed = y
        if abs(y - rank) > 0.05:
            ax.plot([1.0, 1.03], [rank, y], color="#999999", linewidth=0.5)
        ax.text(1.04, y, text, va="center", fontsize=7, fontweight="bold" if mark else "normal")
    if labels:
        ax.set_ylim(0.3, max(placed, float(moves["rank"].max()), float(moves["new_rank"].max())) + 0.7)
    ax.invert_yaxis()
    ax.set_xticks([0, 1], ["现行权重", "调整后"])
    ax.set_xlim(-0.1, 1.9)
    ax.set_ylabel("县内排名")
    ax.grid(axis="x", visible=False)
    ax.set_title("调整领域权重后的排名变化")
    return fig
