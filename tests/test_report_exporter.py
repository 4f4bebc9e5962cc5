"""The reports' HTML without nbconvert's BeautifulSoup pass (evalkit.publish.report_exporter), and
output folders compared element by element (evalkit.planner.compare), whatever the order of an
element's attributes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from conftest import DemoRun
from evalkit.planner.compare import compare, markers
from evalkit.publish import render

RESOURCES = {"evalkit": {"title": "001 青岚中学 2024 年度报告", "header_html": ""},
             "metadata": {"name": "report", "path": ""}}


def _tree(html: str) -> list[tuple[str, dict[str, object]] | str]:
    """What a parser builds from ``html``: every element with its attributes (a class as the
    list of its names) and every text that is not only white space, in document order."""
    out: list[tuple[str, dict[str, object]] | str] = []
    for node in BeautifulSoup(html, "html.parser").descendants:
        if getattr(node, "name", None):
            out.append((node.name, dict(node.attrs)))
        elif str(node).strip() and type(node).__name__ in ("NavigableString", "Doctype"):
            out.append(str(node).strip())
    return out


def test_report_html_is_the_same_document_as_nbconvert_makes_with_the_template_s_own_text(
    demo_run: DemoRun,
) -> None:
    nb = nbformat.read(demo_run.report("001", "ipynb"), as_version=4)
    ours, _ = render._build_exporter().from_notebook_node(nb, resources=dict(RESOURCES))
    stock, _ = render._build_exporter(HTMLExporter).from_notebook_node(nb, resources=dict(RESOURCES))
    # the same elements, attributes and text: only nbconvert's rewriting of the page differs
    assert _tree(ours) == _tree(stock)
    assert len(_tree(ours)) > 500
    # ... which is gone: the headline's markers in the template's order, not sorted by name
    headline = re.search(r'<div class="ekr-headline"[^>]*>', ours)
    assert headline is not None
    names = re.findall(r"(data-[\w-]+)=", headline.group(0))
    assert names[:2] == ["data-school-id", "data-year"] and names != sorted(names)
    assert ours != stock


def _report_html(demo_run: DemoRun) -> str:
    """School 001's report as ``evalkit run`` writes its HTML (the shared run makes no HTML)."""
    nb = nbformat.read(demo_run.report("001", "ipynb"), as_version=4)
    return render.notebook_to_html(nb, title=RESOURCES["evalkit"]["title"])  # type: ignore[index]


def test_every_chart_keeps_its_chinese_alt_text_without_nbconvert_s_filler(demo_run: DemoRun) -> None:
    """nbconvert's pass gave images without one an English alt text; the template gives each its own."""
    html = _report_html(demo_run)
    images = re.findall(r"<img\b[^>]*>", html)
    assert len(images) == 4  # rank interval, radar, points lost, trend
    assert all(re.search(r'\balt="图表"', img) for img in images)
    assert "No description has been provided" not in html


def test_compare_reads_an_element_s_attributes_in_any_order(demo_run: DemoRun, tmp_path: Path) -> None:
    """A year published before this change (attributes sorted by nbconvert's pass) against the
    same year made now: 一致. A changed value is still a difference, named with its file."""
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(demo_run.year, a)
    shutil.copytree(demo_run.year, b)
    rel = demo_run.report("001", "ipynb").relative_to(demo_run.year).with_suffix(".html")
    html = _report_html(demo_run)
    (a / rel).write_text(html, encoding="utf-8")
    report = b / rel
    resorted = str(BeautifulSoup(html, "html.parser"))  # as nbconvert's pass wrote the pages
    assert resorted != html
    report.write_text(resorted, encoding="utf-8")
    assert markers(a / rel) == markers(report)
    assert compare(a, b) == []
    report.write_text(resorted.replace('data-total="', 'data-total="1', 1), encoding="utf-8")
    found = compare(a, b)
    assert len(found) == 1 and str(rel) in found[0] and "data-total" in found[0]
