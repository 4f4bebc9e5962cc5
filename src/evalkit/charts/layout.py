"""Constrained layout that stops after one pass when a second one could not move anything.

Matplotlib's constrained layout measures every decoration of the axes (tick labels, axis
labels, titles, legends, texts) around their position before the layout, places the axes, and
does it all a second time, "because decorations change size after the first re-position (i.e.
x/yticklabels get larger/smaller)". The measuring is most of the layout's cost, and a chart's
drawing measures the same decorations again. For a rectilinear chart the second pass can only
change something when, at the new size, an axis has other ticks or other tick labels (an
automatic locator fits more or fewer ticks into a longer axis), or when a text placed in data
coordinates sticks out of the axes (its overhang grows with the axes). :class:`SettledLayout`
runs the first pass, checks exactly those two things, and runs the second pass (matplotlib's
own) only when one of them holds; otherwise the second pass would measure the same sizes and
find the same positions. Polar axes, colour bars and nested layouts always get both passes.

Measured on the demo's 48 schools (docs/benchmarks.md): the points-lost, trend and
area-trend charts lay out the same (the same pixels, area trend of one school but a few edge
pixels of a sub-pixel shift) for 0.01–0.02 s less each. Built on matplotlib's private
``_constrained_layout`` functions, as its own engine is; when they are not there or not as
expected, the engine does what matplotlib's does.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

__all__ = ["SettledLayout"]


def _ticks(fig: Figure) -> list[tuple[Any, ...]] | None:
    """Each axis' major tick locations and labels, as the layout sees them now; ``None`` when a
    figure part is not a plain rectilinear axes (then both passes run)."""
    out: list[tuple[Any, ...]] = []
    for ax in fig.axes:
        if ax.name != "rectilinear" or ax.child_axes or getattr(ax, "_colorbar", None) is not None:
            return None
        for axis in (ax.xaxis, ax.yaxis):
            locs = tuple(float(v) for v in axis.get_majorticklocs())
            labels = tuple(axis.major.formatter.format_ticks(list(locs)))
            out.append((locs, labels, tuple(float(v) for v in axis.get_view_interval())))
    return out


def _texts_inside(fig: Figure, renderer: Any) -> bool:
    """Whether every text placed on an axes (annotations, ``ax.text``) and every legend inside
    an axes that takes part in the layout lies within its axes."""
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        artists = [t for t in ax.texts if t.get_visible() and t.get_in_layout()]
        legend = ax.get_legend()
        if legend is not None and legend.get_visible() and legend.get_in_layout():
            artists.append(legend)
        for artist in artists:
            extent = artist.get_window_extent(renderer)
            if not (box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1):
                return False
    return True


class SettledLayout(ConstrainedLayoutEngine):
    """:class:`matplotlib.layout_engine.ConstrainedLayoutEngine` (the same parameters, from the
    rcParams) whose second pass is skipped when it could not change the layout (see the
    module)."""

    def execute(self, fig: Figure) -> Any:
        try:
            from matplotlib import _constrained_layout as cl

            steps = (cl.make_layoutgrids, cl.make_layout_margins, cl.make_margin_suptitles,
                     cl.match_submerged_margins, cl.check_no_collapsed_axes, cl.reposition_axes,
                     cl.reset_margins)
        except (ImportError, AttributeError):
            return super().execute(fig)
        before = _ticks(fig)
        if before is None or self._compress or fig.subfigs or fig._suptitle or fig._supxlabel or fig._supylabel:
            return super().execute(fig)
        make_layoutgrids, make_margins, make_suptitles, match, not_collapsed, reposition, reset = steps
        width, height = fig.get_size_inches()
        pads = {"w_pad": self._params["w_pad"] / width, "h_pad": self._params["h_pad"] / height}
        spaces = {"wspace": self._params["wspace"], "hspace": self._params["hspace"]}
        renderer = fig._get_renderer()
        grids = make_layoutgrids(fig, None, rect=self._params["rect"])
        if not grids["hasgrids"]:
            return super().execute(fig)
        for npass in (1, 2):
            make_margins(grids, fig, renderer, **pads, **spaces)
            make_suptitles(grids, fig, renderer, **pads)
            match(grids, fig)
            grids[fig].update_variables()
            if not not_collapsed(grids, fig):
                reset(grids, fig)
                return super().execute(fig)  # matplotlib warns and leaves the axes
            reposition(grids, fig, renderer, **pads, **spaces)
            reset(grids, fig)
            if npass == 1 and _ticks(fig) == before and _texts_inside(fig, renderer):
                break
        return grids
