"""The analysis functions, charts and explorer behind the report notebooks.

Hand-checked values come from the tiny example county of :mod:`evalkit.analysis.examples`
(points per indicator listed in its docstring); consistency checks run on the demo county.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image as PILImage

import evalkit
from evalkit import analysis, charts
from evalkit.analysis.examples import example_results
from evalkit.publish import present
from evalkit.publish.explore import Explorer


@pytest.fixture(scope="module")
def ex() -> evalkit.results.Results:
    return example_results()


@pytest.fixture(scope="module")
def demo() -> evalkit.results.Results:
    return evalkit.load_results(2024)


@pytest.fixture(scope="module")
def fw() -> evalkit.Framework:
    return evalkit.load_framework()


# --------------------------------------------------------------------------- one school


def test_headline_with_and_without_a_previous_year(ex) -> None:
    h = analysis.headline(ex, "002", 2024)
    assert (h.total, h.base, h.bonus, h.grade, h.rank, h.n_schools) == (85.0, 83.0, 2.0, "较好", 2, 3)
    assert (h.rank_in_type, h.n_in_type) == (2, 2)
    assert (h.prev_year, h.prev_total, h.prev_grade, h.prev_rank, h.change) == (2023, 70.0, "一般", 3, 15.0)
    first = analysis.headline(ex, "001", 2023)
    assert first.prev_year is None and first.change is None
    with pytest.raises(KeyError):
        analysis.headline(ex, "999", 2024)


def test_headline_matches_the_scored_row_for_every_demo_school(demo) -> None:
    for row in demo.schools[demo.schools["year"] == 2024].itertuples():
        h = analysis.headline(demo, row.school_id, 2024)
        assert (h.total, h.grade, h.rank, h.veto) == (row.total, row.grade, row.rank, row.veto)


def test_area_comparison_hand_checked(ex) -> None:
    a = analysis.area_comparison(ex, "003", 2024)
    assert a["area_id"].tolist() == ["A", "B"]
    assert a["points"].tolist() == [25.0, 37.0]
    assert a["county_mean"].tolist() == pytest.approx([121 / 3, 116 / 3])
    assert a["county_share"].tolist() == pytest.approx([121 / 150, 116 / 150])
    assert a["diff"].tolist() == pytest.approx([25 - 121 / 3, 37 - 116 / 3])
    # 003 is the only 初中 and 001/002 the only two 小学: no same-type mean is shown
    assert a["type_mean"].isna().all()
    assert analysis.area_comparison(ex, "002", 2024)["type_mean"].isna().all()


def test_same_type_mean_shown_from_three_schools(ex) -> None:
    schools = ex.schools.assign(school_type="小学")
    three = evalkit.results.Results(ex.indicators, ex.areas, schools, ex.bonus, ex.vetoes, ex.flags, ex.meta)
    a = analysis.area_comparison(three, "003", 2024)
    assert a["type_mean"].tolist() == pytest.approx(a["county_mean"].tolist())


def test_area_comparison_on_the_demo(demo) -> None:
    areas = demo.areas[demo.areas["year"] == 2024]
    a = analysis.area_comparison(demo, "020", 2024)  # a 小学: 24 of them
    expected = areas.groupby("area_id")["points"].mean()
    assert a["county_mean"].tolist() == pytest.approx(expected.loc[a["area_id"]].tolist())
    assert a["type_mean"].notna().all()
    assert analysis.area_comparison(demo, "001", 2024)["type_mean"].isna().all()  # 高中: 2 schools


def test_strengths_and_weaknesses_by_gap_relative_to_max(ex) -> None:
    strengths, weaknesses = analysis.strengths_weaknesses(ex, "003", 2024, n=3)
    assert strengths.empty  # 003 is below the mean everywhere in 2024
    assert weaknesses["indicator_id"].tolist() == ["A1", "A2", "B1"]
    assert weaknesses["gap"].tolist() == pytest.approx([-10 / 30, (10 - 46 / 3) / 20, (22 - 70 / 3) / 30])
    s, w = analysis.strengths_weaknesses(ex, "001", 2024, n=5)
    assert s["indicator_id"].tolist() == ["A1", "B1", "B2", "A2"]
    assert w.empty
    assert "suggestion" not in weaknesses.columns  # only with a framework


def test_weaknesses_carry_the_framework_suggestion(demo, fw) -> None:
    _, weak = analysis.strengths_weaknesses(demo, "019", 2024, fw, n=3)
    assert len(weak) == 3 and (weak["gap"] < 0).all()
    for row in weak.itertuples():
        assert row.suggestion == fw.indicator(row.indicator_id).suggestion != ""


def test_points_lost_and_details(ex) -> None:
    lost = analysis.points_lost(ex, "003", 2024)
    assert lost["indicator_id"].tolist() == ["A1", "A2", "B1", "B2"]
    assert lost["lost"].tolist() == [15.0, 10.0, 8.0, 5.0]
    assert analysis.points_lost(ex, "001", 2024)["indicator_id"].tolist() == ["A2", "B1", "B2"]
    assert analysis.veto_details(ex, "003", 2024)["veto_id"].tolist() == ["V1"]
    assert analysis.veto_details(ex, "002", 2024).empty
    assert analysis.bonus_details(ex, "002", 2024)["points"].tolist() == [2.0]
    assert len(analysis.indicator_table(ex, "001", 2024)) == 4


# --------------------------------------------------------------------------- the county


def test_grade_distribution(ex, demo, fw) -> None:
    g = analysis.grade_distribution(ex, 2024, ["好", "较好", "一般", "差"])
    assert g["by_score"].tolist() == [1, 1, 1, 0]
    assert g["final"].tolist() == [1, 1, 0, 1]
    d = analysis.grade_distribution(demo, 2024, fw.grade_order)
    year = demo.schools[demo.schools["year"] == 2024]
    assert d["final"].sum() == len(year) and d["share"].sum() == pytest.approx(1.0)
    assert dict(zip(d["grade"], d["final"], strict=True)) == {
        g: int((year["grade"] == g).sum()) for g in fw.grade_order
    }


def test_changes_and_biggest_changes(ex) -> None:
    c = analysis.changes(ex, 2024)
    assert c["school_id"].tolist() == ["002", "001", "003"]
    assert c["change"].tolist() == [15.0, 2.0, -13.0]
    assert c["rank_change"].tolist() == [1, 0, -1]
    up, down = analysis.biggest_changes(ex, 2024, n=1)
    assert up["school_id"].tolist() == ["002"] and down["school_id"].tolist() == ["003"]
    assert analysis.changes(ex, 2023).empty


def test_ranking_veto_schools_and_groups(ex, demo) -> None:
    n = int((demo.schools["year"] == 2024).sum())
    r = analysis.ranking(demo, 2024)
    assert len(r) == n and r["rank"].is_monotonic_increasing
    assert analysis.ranking(ex, 2024)["change"].tolist() == [2.0, 15.0, -13.0]
    v = analysis.veto_schools(ex, 2024)
    shown = v[["school_name", "veto_id", "grade_by_score", "grade"]].values.tolist()
    assert shown == [["石门中学", "V1", "一般", "差"]]
    g = analysis.group_comparison(ex, 2024, "school_type")
    assert g["group"].tolist() == ["小学", "初中"]
    assert g["n"].tolist() == [2, 1]
    assert g["mean_total"].tolist() == [88.5, 62.0]
    assert g["思想强基"].tolist() == pytest.approx([0.96, 0.5])
    towns = analysis.group_comparison(demo, 2024, "township")
    assert towns["n"].sum() == n


def test_systemic_weaknesses_hand_checked(ex, demo, fw) -> None:
    s = analysis.systemic_weaknesses(ex, 2024, n=4)
    assert s["indicator_id"].tolist() == ["A2", "B2", "B1", "A1"]
    assert s["mean_share"].tolist() == pytest.approx([46 / 60, 46 / 60, 70 / 90, 75 / 90])
    assert s.loc[0, "n_losing"] == 2 and s.loc[0, "full_share"] == pytest.approx(1 / 3)
    d = analysis.systemic_weaknesses(demo, 2024, fw, n=5)
    assert d["mean_share"].is_monotonic_increasing and (d["suggestion"] != "").all()


def test_area_tables(ex) -> None:
    m = analysis.area_matrix(ex, 2024)
    assert m.index.tolist() == ["城关一小", "城关二小", "石门中学"]
    assert m.columns.tolist() == ["思想强基", "夯基垒台"]
    assert m.loc["石门中学"].tolist() == [0.5, 0.74]
    summary = analysis.area_summary(ex, 2024)
    assert summary[["mean", "min", "max"]].values.tolist()[0] == pytest.approx([121 / 3, 25, 50])
    assert len(analysis.area_shares(ex, 2024)) == 6
    assert analysis.indicator_shares(ex, 2024, "B")["indicator_id"].unique().tolist() == ["B1", "B2"]


def test_intake_notes_in_english_or_chinese_headers(tmp_path) -> None:
    english = tmp_path / "en.csv"
    english.write_text("severity,kind,school_id,message,year\nwarning,implausible,003,值异常偏大,2024\n"
                       "error,duplicate,004,重复,2023\n", encoding="utf-8")
    notes = analysis.read_intake_notes(english, 2024)
    assert notes.columns.tolist() == ["严重程度", "类别", "说明"]
    assert notes.values.tolist() == [["警告", "数值异常偏大", "值异常偏大"]]
    assert len(analysis.read_intake_notes(english)) == 2
    chinese = tmp_path / "zh.csv"
    chinese.write_text("\ufeff严重程度,说明\n错误,缺少学校编号\n", encoding="utf-8")
    assert analysis.read_intake_notes(chinese, 2024).values.tolist() == [["错误", "缺少学校编号"]]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="说明"):
        analysis.read_intake_notes(bad)


def test_scoring_notes_name_the_school(ex) -> None:
    flags = pd.DataFrame([{"school_id": "002", "year": 2024, "indicator_id": "B2", "indicator_name": "党费缴纳",
                           "kind": "missing_zero", "message": "缺少数据，按 0 分计"}])
    r = evalkit.results.Results(ex.indicators, ex.areas, ex.schools, ex.bonus, ex.vetoes, flags, ex.meta)
    notes = analysis.scoring_notes(r, 2024)
    shown = notes[["school_name", "indicator_id", "message"]].values.tolist()
    assert shown == [["城关二小", "B2", "缺少数据，按 0 分计"]]
    assert analysis.scoring_notes(r, 2023).empty


# --------------------------------------------------------------------------- trends


def test_school_trend_and_history(ex) -> None:
    t = analysis.school_trend(ex, "003")
    assert t["year"].tolist() == [2023, 2024]
    assert t["total"].tolist() == [75.0, 62.0]
    assert t["grade"].tolist() == ["一般", "差"]
    assert t["county_mean"].tolist() == pytest.approx([235 / 3, 239 / 3])
    assert t["type_mean"].isna().all()
    assert analysis.has_history(ex, "003", 2024) and not analysis.has_history(ex, "003", 2023)
    a = analysis.area_trend(ex, "003")
    assert a[["year", "area_id", "share"]].values.tolist() == [[2023, "A", 0.7], [2023, "B", 0.8],
                                                                [2024, "A", 0.5], [2024, "B", 0.74]]


def test_persistent_weaknesses(ex, demo, fw) -> None:
    assert analysis.persistent_weaknesses(ex, "003")["indicator_id"].tolist() == ["A1"]
    assert sorted(analysis.persistent_weaknesses(ex, "003", min_years=1)["indicator_id"]) == ["A1", "A2", "B1", "B2"]
    assert analysis.persistent_weaknesses(evalkit.load_results(2022), "036").empty
    weak = analysis.persistent_weaknesses(demo, "036", fw, n=3)
    assert len(weak) == 3 and (weak["weak_years"] == 3).all()
    assert (weak["mean_share"] < weak["mean_county_share"]).all()


# --------------------------------------------------------------------------- what-if


def test_reweight_with_current_weights_changes_nothing(demo, fw) -> None:
    w = analysis.reweight_ranking(demo, 2024, analysis.area_weights(demo, 2024), fw)
    assert (w["new_total"] == w["total"]).all()
    assert (w["new_rank"] == w["rank"]).all()
    assert (w["new_grade"] == w["grade"]).all()  # bands, vetoes and quota as scoring did them


def test_reweight_hand_checked(ex) -> None:
    w = analysis.reweight_ranking(ex, 2024, {"A": 90, "B": 10})
    assert w["school_id"].tolist() == ["002", "001", "003"]
    assert w["new_total"].tolist() == [98.6, 92.0, 52.4]
    assert w["rank_change"].tolist() == [1, -1, 0]
    # relative weights are rescaled to the base points, names work as keys
    same = analysis.reweight_ranking(ex, 2024, {"思想强基": 9, "夯基垒台": 1})
    assert same["new_total"].tolist() == [98.6, 92.0, 52.4]


def test_reweight_grades_follow_vetoes_and_quota(demo, fw) -> None:
    w = analysis.reweight_ranking(demo, 2024, {"A": 100, "B": 0, "C": 0, "D": 0, "E": 0}, fw)
    vetoed = set(demo.vetoes.query("year == 2024")["school_id"])
    assert (w.loc[w["school_id"].isin(vetoed), "new_grade"] == "差").all()
    assert (w["new_grade"] == "好").sum() <= math.floor(0.3 * len(w))


def test_reweight_rejects_bad_weights(ex) -> None:
    with pytest.raises(KeyError):
        analysis.reweight_ranking(ex, 2024, {"Z": 1})
    with pytest.raises(ValueError):
        analysis.reweight_ranking(ex, 2024, {"A": -1})
    with pytest.raises(ValueError):
        analysis.reweight_ranking(ex, 2024, {"A": 0, "B": 0})


# --------------------------------------------------------------------------- presentation


def test_table_html_formats_and_escapes() -> None:
    frame = pd.DataFrame({"indicator_name": ["<b>x</b>"], "share": [0.755], "gap": [-0.125], "change": [2.0],
                          "points": [3.25], "type_mean": [np.nan], "rank": [3], "custom": [0.5]})
    html = present.table_html(frame, name="t", percent=["custom"], headers={"rank": "名次"})
    assert 'data-table="t"' in html and "&lt;b&gt;x&lt;/b&gt;" in html
    for text in ("<th>指标</th>", "<th>得分率</th>", "<th>名次</th>", "75.5%", "-12.5%", "+2.0", "3.2",
                 "<td>—</td>", "<td>3</td>", "50.0%"):
        assert text in html, text


def test_headline_html_markers_and_sentences(ex) -> None:
    veto = present.headline_html(analysis.headline(ex, "003", 2024))
    assert 'data-veto="1"' in veto and 'data-grade="差"' in veto and "一票否决（V1）" in veto
    assert "下降13.0分" in veto
    first = present.headline_html(analysis.headline(ex, "001", 2023))
    assert "首次参评" in first and 'data-total="90.0"' in first
    h = analysis.headline(ex, "001", 2024)
    heading = present.heading_html(present.school_title(h))
    assert heading == '<h1 class="ekr-heading">城关一小2024年度党建工作质量评价报告</h1>'
    info = present.info_html(h, "示例指标体系", "1.0")
    assert 'data-school-id="001"' in info and "小学" in info and "城关镇" in info and "版本1.0" in info
    footer = present.provenance_html(ex.meta, "示例指标体系")
    assert "数据指纹：0000000000000000" in footer and f'data-evalkit-version="{evalkit.__version__}"' in footer



def test_report_markup_escapes_hostile_names_and_has_no_inline_styles(ex) -> None:
    """School names are hostile input: every block prints them as text (templates/html/, autoescape)."""
    import dataclasses
    import html as _html
    from html.parser import HTMLParser

    from evalkit.publish import official

    name = '<script>alert("x")</script> A&B \'小学\''
    h = dataclasses.replace(analysis.headline(ex, "003", 2024), school_name=name, school_type=name,
                            township=name, veto_ids=name)
    issuer = {"county": name, "body": name, "date": "2024-12-20", "doc_number": name, "contact": name}
    blocks = [present.headline_html(h, no_history=name), present.info_html(h, name, name),
              present.heading_html(present.school_title(h)), present.note_html(name, name),
              present.table_html(pd.DataFrame({"school_name": [name], name: [name]}), name=name, compact=True),
              present.county_info_html(2024, 3, name, name), present.provenance_html(ex.meta, name),
              official.title_block_html(name, issuer), official.signature_html(issuer)]

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.attrs: list[tuple[str, str | None]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            self.attrs += attrs

    for block in blocks:
        assert "<script" not in block and "&lt;script&gt;" in block, block
        parsed = Tags()
        parsed.feed(block)
        assert "script" not in parsed.tags and all(k != "style" for k, _ in parsed.attrs), block
        assert name in _html.unescape(block)
    assert 'data-veto-ids="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; A&amp;B &#39;小学&#39;"' in blocks[0]
    assert 'class="ekr-table ekr-compact"' in blocks[4]

def test_provenance_times_are_china_standard_time_and_meta_stays_utc(ex) -> None:
    now = datetime(2026, 11, 29, 12, 2, 41, tzinfo=UTC)
    footer = present.provenance_html(ex.meta, "示例指标体系", now=now)
    assert "评分时间：2024-12-01 08:00" in footer and "报告生成时间：2026-11-29 20:02" in footer
    assert "+00:00" not in footer
    assert ex.meta["created"] == "2024-12-01T00:00:00+00:00"


def test_report_inputs_refuses_scores_of_another_framework(ex, tmp_path) -> None:
    folder = ex.save(tmp_path / "scores")
    with pytest.raises(ValueError, match="指标体系"):
        analysis.report_inputs(2024, scores=str(folder))
    assert analysis.parse_paths(" a.csv , ,b.csv") == ["a.csv", "b.csv"] and analysis.parse_paths("") is None


# --------------------------------------------------------------------------- charts


def test_every_chart_is_a_figure_outside_pyplot(demo, fw) -> None:
    before = plt.get_fignums()
    figures = {
        "各领域得分率": charts.radar(analysis.area_comparison(demo, "020", 2024), "本校"),
        "各指标失分": charts.points_lost(analysis.points_lost(demo, "020", 2024)),
        "总分变化": charts.trend(analysis.school_trend(demo, "020")),
        "各领域得分率变化": charts.area_trend(analysis.area_trend(demo, "020")),
        "等次分布": charts.grade_distribution(analysis.grade_distribution(demo, 2024, fw.grade_order)),
        "各领域得分率分布（每点为一所学校）": charts.area_distribution(analysis.area_shares(demo, 2024)),
        "各校各领域得分率（按排名）": charts.heatmap(analysis.area_matrix(demo, 2024)),
        "按学校类型比较": charts.group_comparison(analysis.group_comparison(demo, 2024)),
        "总分变化最大的学校": charts.changes(*analysis.biggest_changes(demo, 2024)),
        "调整领域权重后的排名变化": charts.reweight(analysis.reweight_ranking(demo, 2024, {"C": 40})),
        "各指标得分率分布": charts.indicator_strip(analysis.indicator_shares(demo, 2024, "A"), "020"),
    }
    for title, fig in figures.items():
        assert isinstance(fig, Figure)
        assert fig.axes[0].get_title() == title
        assert charts.to_png(fig).startswith(b"\x89PNG")
    assert plt.get_fignums() == before
    assert plt.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC"


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGBA"))


def _savefig_png(fig: Figure, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def test_chart_png_is_rgb_with_the_pixels_of_matplotlibs_own_png(demo) -> None:
    # to_png writes an opaque chart as 8-bit RGB: the same pixels (alpha 255 everywhere) as
    # matplotlib's RGBA PNG of the same chart, drawn from the same data into a second figure
    lost = analysis.points_lost(demo, "020", 2024)
    ours = charts.to_png(charts.points_lost(lost), dpi=charts.PRINT_DPI)
    theirs = _savefig_png(charts.points_lost(lost), dpi=charts.PRINT_DPI)
    image = PILImage.open(io.BytesIO(ours))
    assert image.mode == "RGB" and PILImage.open(io.BytesIO(theirs)).mode == "RGBA"
    assert round(image.info["dpi"][0]) == charts.PRINT_DPI
    assert image.width == round(charts.points_lost(lost).get_figwidth() * charts.PRINT_DPI)
    assert np.array_equal(_pixels(ours), _pixels(theirs))
    assert len(ours) < len(theirs)


def test_chart_png_keeps_transparency_when_there_is_some() -> None:
    def figure() -> Figure:
        fig = Figure(figsize=(2, 1))
        fig.add_subplot().plot([0, 1], [1, 0])
        return fig

    # each PNG from a figure of its own: a second draw of the same figure may re-run constrained
    # layout from the first one's positions and move a line by a pixel
    with plt.rc_context({"savefig.facecolor": "none"}):  # the reports' set-up saves on white
        png = charts.to_png(figure(), dpi=100)
        theirs = _savefig_png(figure(), dpi=100)
    assert PILImage.open(io.BytesIO(png)).mode == "RGBA"
    assert np.array_equal(_pixels(png), _pixels(theirs))
    assert _pixels(png)[0, 0, 3] == 0  # the transparent face stays transparent


def test_chart_png_leaves_the_figure_as_it_was(ex) -> None:
    # to_png draws at its dpi on a white face on an Agg canvas of its own, as savefig does, and
    # puts the figure's dpi, face colour and canvas back (a notebook may show the figure again)
    fig = charts.radar(analysis.area_comparison(ex, "001", 2024), "城关一小")
    fig.set_facecolor("#ABCDEF")
    canvas, dpi = fig.canvas, fig.dpi
    png = charts.to_png(fig, dpi=120)
    assert fig.canvas is canvas and fig.dpi == dpi
    assert fig.get_facecolor() == (0xAB / 255, 0xCD / 255, 0xEF / 255, 1.0)
    image = PILImage.open(io.BytesIO(png))
    assert image.size == (round(3.8 * 120), round(3.3 * 120))  # the radar is 3.8 × 3.3 inches
    assert image.getpixel((0, 0)) == (255, 255, 255)  # savefig.facecolor, not the figure's own


def test_charts_with_nothing_to_show(ex) -> None:
    empty = analysis.points_lost(ex, "001", 2024).iloc[0:0]
    assert charts.points_lost(empty).axes[0].texts[0].get_text() == "各指标均得满分"
    up, down = analysis.biggest_changes(ex, 2023)
    assert charts.changes(up, down).axes[0].texts[0].get_text() == "没有上年数据可比"


def test_radar_shows_the_type_mean_only_when_available(ex) -> None:
    fig = charts.radar(analysis.area_comparison(ex, "001", 2024), "城关一小")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["城关一小", "全县平均"]


# --------------------------------------------------------------------------- explorer


def test_explorer_follows_the_widgets(ex, fw) -> None:
    explorer = Explorer(ex, year=2024, school_id="002")
    assert 'data-school-id="002"' in explorer.school_html.value
    explorer.school.value = "003"
    assert 'data-grade="差"' in explorer.school_html.value
    explorer.area.value = "B"
    assert "组织设置" in explorer.area_html.value and "理论学习" not in explorer.area_html.value
    before = explorer.whatif_html.value
    explorer.sliders["A"].value = 90
    explorer.sliders["B"].value = 10
    assert explorer.whatif_html.value != before and "98.6" in explorer.whatif_html.value
    explorer.reset.click()
    assert explorer.sliders["A"].value == 50 and explorer.whatif_html.value == before
    explorer.year.value = 2023
    assert 'data-year="2023"' in explorer.school_html.value
    assert bytes(explorer.radar.value).startswith(b"\x89PNG")
    assert bytes(explorer.whatif_chart.value).startswith(b"\x89PNG")


def test_blocks_bring_their_stylesheet_in_jupyterlab_but_not_in_a_report_run(monkeypatch) -> None:
    """In JupyterLab no report template supplies blocks.css, so a block carries it (the veto stays
    red, the headline big); evalkit run's kernels have the variable set and get the bare block."""
    from evalkit.publish import markup

    monkeypatch.delenv(markup.STYLESHEET_PROVIDED, raising=False)
    lab = present.note_html("注意", kind="demo")
    assert lab.startswith('<style class="ekr-style">') and ".ekr-veto" in lab and ".ekr-note" in lab
    monkeypatch.setenv(markup.STYLESHEET_PROVIDED, "1")
    run = present.note_html("注意", kind="demo")
    assert run.startswith("<p") and "<style" not in run and lab.endswith(run)
