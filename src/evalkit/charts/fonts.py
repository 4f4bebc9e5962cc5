"""Matplotlib set-up for Chinese print reports: the CJK font, a grey-safe palette, crisp output.

Call :func:`setup_matplotlib` once at the top of a report notebook (and in every chart function:
the second call costs a few microseconds). It

- finds *Noto Sans CJK SC* (Debian package ``fonts-noto-cjk``) through ``matplotlib.font_manager``
  and makes it the sans-serif font, so Chinese titles, labels and legends render (no tofu boxes);
- shows ``-`` as an ASCII hyphen-minus (``axes.unicode_minus = False``; the CJK font has no
  U+2212 glyph);
- sets :data:`PALETTE` as the colour cycle: Paul Tol's colour-blind-safe colours, ordered so that
  neighbouring series also differ in *lightness* and stay apart when printed in grey;
- renders figures at 150 dpi (crisp in A4 PDFs) with constrained layout (long Chinese labels are
  not clipped).

Bar and area charts should also use :func:`hatch` (``ax.bar(..., color=color(i), hatch=hatch(i))``)
so that series differ even on a black-and-white photocopy.

When no CJK font is installed, :class:`CJKFontNotFoundError` says how to install one, in Chinese
and English.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError

__all__ = [
    "CJK_FONT_FAMILY",
    "CJK_SERIF_FAMILY",
    "FONT_MISSING_MESSAGE",
    "HATCHES",
    "PALETTE",
    "CJKFontNotFoundError",
    "cjk_font_path",
    "color",
    "hatch",
    "setup_matplotlib",
    "warm_up",
]

CJK_FONT_FAMILY = "Noto Sans CJK SC"
"""The font family of charts and of the HTML/PDF body text."""

CJK_SERIF_FAMILY = "Noto Serif CJK SC"
"""The serif companion, named second in the report CSS."""

# Files shipping the family, in order of preference (Debian's collection first).
_FONT_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJK-Regular.otf")

FONT_MISSING_MESSAGE = (
    "未找到中文字体 Noto Sans CJK SC，请安装 fonts-noto-cjk：apt-get install fonts-noto-cjk "
    "(no CJK font found: install the Debian package fonts-noto-cjk, or run scripts/setup.sh)"
)

PALETTE: tuple[str, ...] = (
    "#004488",  # dark blue      L* 29
    "#DDAA33",  # ochre          L* 72
    "#BB5566",  # rose           L* 50
    "#1A1A1A",  # near black     L* 9
    "#EECC66",  # pale yellow    L* 83
    "#6699CC",  # light blue     L* 62
)
"""Series colours (Paul Tol's high- and medium-contrast schemes, colour-blind safe).

Ordered so that the first four differ pairwise by at least 15 in CIE L* (grey print) and all six
by at least 9.
"""

HATCHES: tuple[str, ...] = ("", "///", "...", "xxx", "\\\\\\", "ooo")
"""Hatch patterns paired with :data:`PALETTE` by index, for bars and areas."""


class CJKFontNotFoundError(EvalkitError):
    """No Noto Sans CJK SC font is installed (message in Chinese and English)."""

    def __init__(self, message: str = FONT_MISSING_MESSAGE) -> None:
        super().__init__(message)


def color(i: int) -> str:
    """The ``i``-th series colour (cycles through :data:`PALETTE`)."""
    return PALETTE[i % len(PALETTE)]


def hatch(i: int) -> str:
    """The ``i``-th hatch pattern (cycles through :data:`HATCHES`), ``""`` for the first series."""
    return HATCHES[i % len(HATCHES)]


def _find_in_font_manager() -> Path | None:
    from matplotlib import font_manager

    regular = [
        f
        for f in font_manager.fontManager.ttflist
        if f.name == CJK_FONT_FAMILY and f.style == "normal" and f.weight in (400, "normal", "regular")
    ]
    return Path(regular[0].fname) if regular else None


@functools.cache
def cjk_font_path() -> Path:
    """The file of the regular Noto Sans CJK SC face (e.g. ``…/NotoSansCJK-Regular.ttc``).

    Looks in matplotlib's font list first; when its cache predates the font's installation,
    scans the system font directories once and registers the file with matplotlib.
    Raises :class:`CJKFontNotFoundError` when the font is not installed.
    """
    found = _find_in_font_manager()
    if found is not None:
        return found
    from matplotlib import font_manager

    for fname in font_manager.findSystemFonts(fontext="ttf") + font_manager.findSystemFonts(fontext="otf"):
        if Path(fname).name in _FONT_FILES:
            font_manager.fontManager.addfont(fname)
    found = _find_in_font_manager()
    if found is None:
        raise CJKFontNotFoundError()
    return found


def _rc_settings() -> dict[str, Any]:
    from cycler import cycler

    return {
        "font.family": ["sans-serif"],
        "font.sans-serif": [CJK_FONT_FAMILY, "DejaVu Sans"],
        "font.size": 10.0,
        "axes.unicode_minus": False,
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "axes.titlesize": 12.0,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": "#D0D0D0",
        "grid.linewidth": 0.6,
        "legend.frameon": False,
        "hatch.linewidth": 0.8,
        "figure.figsize": [6.4, 4.0],
        "figure.dpi": 150.0,
        "figure.constrained_layout.use": True,
        "figure.facecolor": "white",
        "savefig.dpi": 150.0,
        "savefig.facecolor": "white",
        "svg.fonttype": "path",
        # data (a school named "$x^$") is never TeX: no mathtext parsing of any text
        "text.parse_math": False,
    }


PNG_COMPRESS_LEVEL = 3
"""zlib level of the charts' PNGs (:func:`evalkit.charts.figures.to_png`, unfiltered scanlines:
:mod:`evalkit.charts.png`): at level 3 the 18 report charts of three demo schools are 1,372 KB
in 162 ms of encoding, at level 1 1,433 KB in 176 ms, at level 6 1,216 KB in 277 ms
(docs/benchmarks.md)."""

_applied: dict[str, Any] | None = None


def setup_matplotlib() -> str:
    """Configure matplotlib for Chinese reports (idempotent); return the font family used.

    The first call looks the font up and sets the rcParams listed in this module's docstring; later
    calls only check that those rcParams are still in place (re-applying them if a notebook reset
    them with ``plt.rcdefaults()`` or a style). Raises :class:`CJKFontNotFoundError`.
    """
    global _applied
    import matplotlib

    if _applied is not None and all(matplotlib.rcParams[k] == v for k, v in _applied.items()):
        return CJK_FONT_FAMILY
    cjk_font_path()  # raises with installation advice when missing
    settings = _rc_settings()
    matplotlib.rcParams.update(settings)
    _applied = {k: matplotlib.rcParams[k] for k in settings}  # as validated by matplotlib
    return CJK_FONT_FAMILY


def warm_up() -> None:
    """Do once in this process what the first chart of every report would do again: apply
    :func:`setup_matplotlib` and draw a small chart with Chinese text through Agg at the reports'
    200 dpi, as a report's charts are drawn — polar and Cartesian axes, hatched bars, annotations
    and labels at the sizes the charts use (7–12 pt, the bold title) — and encode it as a PNG as
    :func:`~evalkit.charts.figures.to_png` does (matplotlib opens the CJK font's faces and keeps
    them, finds each font size once, imports what it imports on first use; Pillow converts to
    RGB). No file is written,
    nothing is kept but matplotlib's and Pillow's own caches. The kernel pool's template process
    calls it before it forks kernels (:mod:`evalkit.runtime.kernelfork`), so each kernel starts
    with them (docs/benchmarks.md). Raises :class:`CJKFontNotFoundError`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    from evalkit.charts import png

    setup_matplotlib()
    fig = Figure(figsize=(3.0, 1.5), dpi=200)
    polar = fig.add_subplot(1, 2, 1, projection="polar")
    polar.plot([0.0, 2.0, 4.0, 0.0], [0.5, 1.0, 0.8, 0.5], marker="o", label="本校")
    polar.fill([0.0, 2.0, 4.0], [0.5, 1.0, 0.8], alpha=0.12)
    polar.set_xticks([0.0, 2.0, 4.0], ["甲", "乙", "丙"])
    polar.tick_params(axis="y", labelsize=7)
    ax = fig.add_subplot(1, 2, 2)
    bars = ax.bar(["甲", "乙"], [1.0, 2.0], hatch=hatch(1), edgecolor="white", label="得分率")
    ax.bar_label(bars, fontsize=8)
    ax.annotate("第 1 名", (0, 1.0), xytext=(0, 8), textcoords="offset points", ha="center", fontsize=7.5,
                annotation_clip=False)
    ax.text(1, 1.0, " 1", va="center", fontsize=7)
    ax.set_xlabel("失分（分）", fontsize=8)
    ax.set_title("全县平均")
    ax.legend(fontsize=8, title="等次", title_fontsize=7)
    fig.legend(["得分率"], loc="outside lower center", fontsize=8)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    png.encode(rgb, 200, PNG_COMPRESS_LEVEL)
