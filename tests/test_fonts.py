"""Matplotlib set-up for Chinese reports (evalkit.charts.fonts)."""

from __future__ import annotations

import io
import itertools
import warnings

import matplotlib
import pytest
from matplotlib.colors import to_rgb

from evalkit.charts import fonts


def _lightness(hex_color: str) -> float:
    """CIE L* of an sRGB colour: how light it prints in grey."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(hex_color)]
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return 116 * y ** (1 / 3) - 16 if y > 0.008856 else 903.3 * y


@pytest.fixture
def rc():
    with matplotlib.rc_context():  # leave matplotlib as other tests found it
        yield matplotlib.rcParams


def test_font_is_found() -> None:
    path = fonts.cjk_font_path()
    assert path.exists() and "NotoSansCJK" in path.name


def test_setup_configures_chinese_and_print(rc) -> None:
    assert fonts.setup_matplotlib() == "Noto Sans CJK SC"
    assert rc["font.sans-serif"][0] == "Noto Sans CJK SC" and rc["font.family"] == ["sans-serif"]
    assert rc["axes.unicode_minus"] is False
    assert rc["figure.dpi"] >= 150 and rc["savefig.dpi"] >= 150
    assert rc["axes.prop_cycle"].by_key()["color"] == list(fonts.PALETTE)


def test_chinese_text_renders_without_missing_glyphs(rc) -> None:
    fonts.setup_matplotlib()
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.bar(["党的建设", "思想政治"], [18.5, -2.0], color=fonts.color(0), hatch=fonts.hatch(1))
    ax.set_title("各领域得分（满分 100）")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would fail here
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def test_setup_is_idempotent_cheap_and_self_healing(rc) -> None:
    fonts.setup_matplotlib()
    applied = fonts._applied
    for _ in range(3):
        fonts.setup_matplotlib()
    assert fonts._applied is applied  # later calls only compared the settings: nothing re-applied
    matplotlib.rcdefaults()  # a notebook resets matplotlib ...
    fonts.setup_matplotlib()  # ... the next call puts the settings back
    assert rc["font.sans-serif"][0] == "Noto Sans CJK SC" and rc["axes.unicode_minus"] is False


def test_palette_stays_apart_in_grey_print() -> None:
    light = [_lightness(c) for c in fonts.PALETTE]
    assert min(abs(a - b) for a, b in itertools.combinations(light[:4], 2)) >= 15
    assert min(abs(a - b) for a, b in itertools.combinations(light, 2)) >= 9
    assert len(set(fonts.HATCHES)) == len(fonts.HATCHES) and fonts.hatch(0) == ""
    assert fonts.color(len(fonts.PALETTE)) == fonts.PALETTE[0]


def test_missing_font_message_says_how_to_install() -> None:
    message = str(fonts.CJKFontNotFoundError())
    assert "未找到中文字体 Noto Sans CJK SC" in message and "apt-get install fonts-noto-cjk" in message


def test_warm_up_sets_the_report_charts_up_and_opens_the_cjk_font(rc) -> None:
    from matplotlib import font_manager

    matplotlib.rcdefaults()
    fonts.warm_up()
    assert rc["font.sans-serif"][0] == "Noto Sans CJK SC" and rc["savefig.dpi"] == 150.0
    # the face a chart's Chinese text is drawn with is open already: asking for it is a cache hit
    # (matplotlib's private FreeType cache, the thing warm_up is for)
    before = font_manager._get_font.cache_info().misses
    face = font_manager.get_font(font_manager.fontManager._find_fonts_by_props(font_manager.FontProperties()))
    assert face.family_name == "Noto Sans CJK SC"
    assert font_manager._get_font.cache_info().misses == before


def test_template_warms_charts_only_when_it_imports_them(rc) -> None:
    from evalkit.runtime.kernelfork import PRELOAD, warm_charts

    matplotlib.rcdefaults()
    warm_charts(("numpy",))  # a template without evalkit's charts touches nothing
    assert rc["font.sans-serif"][0] != "Noto Sans CJK SC"
    warm_charts(PRELOAD)
    assert "evalkit.charts.fonts" in PRELOAD and rc["font.sans-serif"][0] == "Noto Sans CJK SC"


def test_the_kernel_template_compiles_the_report_blocks_templates() -> None:
    # warm_charts in a template that imports the report blocks compiles every templates/html/*.j2
    # once, so a forked kernel finds them in the environment's cache and compiles none itself
    from importlib.resources import files

    from evalkit.publish import markup
    from evalkit.runtime.kernelfork import PRELOAD, warm_charts

    env = markup.environment()
    env.cache.clear()
    shipped = sorted(p.name for p in (files("evalkit") / "templates" / "html").iterdir() if p.name.endswith(".j2"))
    assert "headline.html.j2" in shipped
    warm_charts(("numpy",))
    assert len(env.cache) == 0  # a template without the report blocks compiles nothing
    warm_charts(PRELOAD)
    assert sorted(key[1] for key in env.cache.keys()) == shipped
