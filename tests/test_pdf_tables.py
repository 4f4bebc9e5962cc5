"""The report tables' column widths worked out in Python (evalkit.publish.pdf_tables), checked by
hand-computed widths and against real PDFs read back with pypdf.

Advance widths: Noto Sans CJK SC (NotoSansCJK-Regular.ttc face 2): digits 555, "." 278, "%" 921
per 1000 em; Chinese characters 1000. Layout rule: CSS 2.1 §17.5.2.2 as WeasyPrint's
``auto_table_layout`` implements it (min-content widths plus the space left in proportion to
max − min)."""

from __future__ import annotations

import re
from importlib.resources import files
from io import BytesIO

import pandas as pd
import pytest
from pypdf import PdfReader

from evalkit.publish import pdf_tables
from evalkit.publish.pdf_tables import column_widths, fix_widths, text_width
from evalkit.publish.present import table_html
from evalkit.publish.render import html_to_pdf_bytes

CELL = 2 * 6 + 0.75 + 0.5  # padding 8px (6pt) each side, one 1px border, the slack


def test_text_width_uses_the_fonts_advances() -> None:
    assert text_width("94.4%") == pytest.approx((555 + 555 + 278 + 555 + 921) / 1000)
    assert text_width("编号") == 2.0
    assert text_width("  得分  率 ") == pytest.approx(3 + 0.224)  # spaces collapsed and trimmed
    assert text_width("0", bold=True) == pytest.approx(0.590)


def test_line_break_pieces_keep_punctuation_with_its_character() -> None:
    assert pdf_tables._pieces("得分（满分2分）") == ["得", "分", "（满", "分", "2", "分）"]
    assert pdf_tables._pieces("ICC 95%下限") == ["ICC", "95%", "下", "限"]
    # quotation marks stick to both neighbours, as Pango breaks them (WeasyPrint 70's min-content
    # width of 德育“333”机制落实 is 5.665 em: 育“333”机)
    assert pdf_tables._pieces("德育“333”机制") == ["德", "育“333”机", "制"]


def test_a_narrow_table_is_as_wide_as_its_cells_on_one_line() -> None:
    width, cols = column_widths(["领域", "得分"], [["思想强基", "19.0"], ["清廉教育", "8.5"]])
    # 领域: 4 Chinese characters at 9.5pt; 得分: the bold header (2 em) is wider than "19.0" (1.943 em)
    assert cols == pytest.approx([4 * 9.5 + CELL, 2 * 9.5 + CELL])
    assert width == pytest.approx(sum(cols))


def test_a_wide_table_fills_the_text_width_in_proportion_to_max_minus_min() -> None:
    long1, long2 = "一二三四五六七八九十", "一二三四五六七八九十" * 2
    width, cols = column_widths(["甲", "乙"], [[long1, long2]], available=100.0)
    lo, hi1, hi2 = 9.5 + CELL, 10 * 9.5 + CELL, 20 * 9.5 + CELL  # 22.75, 108.25, 203.25
    share = (100 - 2 * lo) / (hi1 + hi2 - 2 * lo)  # 54.5 / 266
    assert width == 100.0
    assert cols == pytest.approx([lo + (hi1 - lo) * share, lo + (hi2 - lo) * share])
    assert cols == pytest.approx([40.268, 59.732], abs=1e-3)


def test_compact_tables_keep_cells_on_one_line_and_impossible_tables_are_left_alone() -> None:
    width, cols = column_widths(["学校"], [["一二三四五六七八九十"]], compact=True, available=50.0)
    assert cols == pytest.approx([10 * 8.5 + CELL]) and width == pytest.approx(cols[0])
    assert column_widths(["甲", "乙", "丙"], [["一", "二", "三"]], available=40.0) is None
    assert column_widths(["甲"], [["一", "二"]]) is None  # a row with another number of cells


def test_this_machine_has_the_measured_font() -> None:
    # the other tests of real PDFs compare with WeasyPrint's own layout: meaningful only here
    assert pdf_tables.fonts_measured()


def test_fix_widths_adds_a_colgroup_only_to_plain_text_report_tables() -> None:
    frame = pd.DataFrame({"indicator_name": ["理论学习"], "share": [0.5]})
    fixed = fix_widths(table_html(frame, name="demo"))
    assert 'style="table-layout:fixed;width:' in fixed and fixed.count("<col ") == 2
    assert 'data-table="demo"' in fixed and "<td>理论学习</td>" in fixed and "<td>50.0%</td>" in fixed
    marked = ('<table class="ekr-table"><thead><tr><th>甲</th></tr></thead>'
              '<tbody><tr><td><b>x</b></td></tr></tbody></table>')
    other = '<table class="dataframe"><tr><th>甲</th></tr></table>'
    assert fix_widths(marked) == marked and fix_widths(other) == other


def test_the_constants_are_those_of_the_stylesheets() -> None:
    folder = files("evalkit") / "templates" / "evalkit_report"
    report = (folder / "report.css").read_text(encoding="utf-8")
    blocks = (folder / "blocks.css").read_text(encoding="utf-8")
    pdf = (folder / "pdf.css").read_text(encoding="utf-8")
    assert re.search(r"\ntable \{[^}]*font-size: 9\.5pt", report)
    assert "th, td { border: 1px solid var(--ek-rule); padding: 3px 8px;" in report
    assert ".ekr-table.ekr-compact { font-size: 8.5pt; white-space: nowrap; }" in blocks
    # pdf.css is a user stylesheet (write_pdf's stylesheets=): report.css's @page margin wins
    assert "@page { size: A4; margin: 20mm 17mm; }" in report and "margin: 20mm 18mm 20mm 18mm;" in pdf
    assert pdf_tables.TEXT_WIDTH_PT == pytest.approx((210 - 2 * 17) / 25.4 * 72 - 0.75)


def _page(body: str) -> str:
    css = (files("evalkit") / "templates" / "evalkit_report" / "report.css").read_text(encoding="utf-8")
    css += (files("evalkit") / "templates" / "evalkit_report" / "blocks.css").read_text(encoding="utf-8")
    return f'<!DOCTYPE html><html lang="zh"><head><style>{css}</style></head><body><main>{body}</main></body></html>'


LONG = "建立“四节”年度活动安排，确保每项节庆活动全员参与，并按季度向党支部报告落实情况与存在问题。" * 2


def _fragments(pdf: bytes) -> list[tuple[float, float, str]]:
    """(x, y, text) of every piece of text on the first page, as pypdf reads it back."""
    found: list[tuple[float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5], text.strip()))

    PdfReader(BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return found


def test_a_long_cell_wraps_inside_its_column_in_a_real_pdf() -> None:
    frame = pd.DataFrame({"indicator_id": ["E4"], "indicator_name": ["科技艺术体育读书节"],
                          "points": [3.0], "suggestion": [LONG]})
    html = _page(table_html(frame, name="weaknesses"))
    pdf = html_to_pdf_bytes(html, header_left="测试")
    cols = [float(w) for w in re.findall(r'<col style="width:([\d.]+)pt">', fix_widths(html))]
    assert len(cols) == 4 and sum(cols) == pytest.approx(pdf_tables.TEXT_WIDTH_PT, abs=0.05)
    left = 17 / 25.4 * 72  # the page's left margin: the table fills the text width from there
    start = left + sum(cols[:3])
    pieces = [(x, y, t) for x, y, t in _fragments(pdf) if t and t[0] in LONG and len(t) > 3]
    lines = {round(y) for _, y, _ in pieces}
    assert len(lines) >= 3  # the suggestion wraps onto several lines ...
    assert all(start < x < start + cols[3] for x, _, _ in pieces)  # ... each starting in its column
    text = re.sub(r"\s+", "", PdfReader(BytesIO(pdf)).pages[0].extract_text())
    assert LONG in text  # every character is there: nothing clipped


def test_pages_hold_the_same_text_as_with_weasyprints_automatic_layout() -> None:
    """A report-like page of tables (narrow, wide, compact, many rows) laid out by WeasyPrint as
    it was (automatic layout) and with the widths of fix_widths: the same pages, each with the
    same text (line for line, as pypdf reads it back)."""
    from weasyprint import HTML

    areas = pd.DataFrame({"area_name": ["思想强基", "夯基垒台"], "max_points": [20.0, 25.0],
                          "points": [19.0, 21.9], "share": [0.95, 0.876]})
    ranking = pd.DataFrame({"rank": range(1, 41), "school_name": [f"青岚县第{i}中心小学" for i in range(1, 41)],
                            "total": [99.0 - i * 0.7 for i in range(40)], "grade": ["较好"] * 40})
    weak = pd.DataFrame({"indicator_id": [f"C{i}" for i in range(1, 13)],
                         "indicator_name": ["党组织领导的校长负责制落实"] * 12,
                         "value_text": ["4位评分人评定"] * 12, "explanation": [LONG[:70]] * 12,
                         "points": [3.7] * 12, "max_points": [4.0] * 12})
    body = (table_html(areas, name="areas") + table_html(ranking, name="ranking", compact=True)
            + table_html(weak, name="indicators-C"))
    html = _page(body)

    def pages(doc: str) -> list[str]:
        return [p.extract_text() for p in PdfReader(BytesIO(HTML(string=doc).write_pdf())).pages]

    auto, fixed = pages(html), pages(fix_widths(html))
    assert fix_widths(html).count("table-layout:fixed") == 3
    assert len(auto) == len(fixed) >= 2
    assert [re.sub(r"\s+", "", p) for p in fixed] == [re.sub(r"\s+", "", p) for p in auto]
