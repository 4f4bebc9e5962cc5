"""Keep-together rules of the report PDFs (``templates/evalkit_report/pdf.css``): the closing
block (the rule ``---`` and the provenance lines) never stands alone on the last page; the last
table rows come with it. Laid out by the real WeasyPrint with the report's stylesheets, in the
nesting the report template writes (each block inside its notebook cell's divs)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from evalkit.publish.markup import block_stylesheet
from evalkit.publish.render import html_to_pdf_bytes


def _cell(html: str) -> str:
    return (f'<div class="jp-Cell"><div class="jp-Cell-outputWrapper"><div class="jp-OutputArea">'
            f'<div class="jp-OutputArea-child"><div class="jp-RenderedHTML">{html}</div></div></div></div></div>')


def _report(rows: int) -> bytes:
    table = "".join(f"<tr><td>第{i}行</td><td>{i}</td></tr>" for i in range(1, rows + 1))
    body = (_cell("<h2>六、分布形态与异常学校</h2>")
            + _cell(f'<table class="ekr-table"><thead><tr><th>学校</th><th>总分</th></tr></thead>'
                    f"<tbody>{table}</tbody></table>")
            + '<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedMarkdown"><hr/></div></div>'
            + _cell('<div class="ekr-provenance">指标体系：示例（版本2024.1）<br>evalkit 版本：0.1.0</div>'))
    head = f'<head><meta charset="utf-8">{block_stylesheet()}</head>'
    html = f'<!DOCTYPE html><html lang="zh">{head}<body><main>{body}</main></body></html>'
    return html_to_pdf_bytes(html, header_left="指标体系审计")


def _pages(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def test_provenance_never_alone_on_the_last_page() -> None:
    first = _pages(_report(80))[0]
    fit = max(int(n) for n in re.findall(r"第(\d+)行", first))  # rows the first page holds
    for rows in range(fit - 2, fit + 2):  # where the two lines would fall alone onto page 2
        pages = _pages(_report(rows))
        assert "指标体系：示例" in pages[-1]
        assert re.search(rf"第{rows}行", pages[-1]) and re.search(rf"第{rows - 1}行", pages[-1]), (rows, pages[-1])
