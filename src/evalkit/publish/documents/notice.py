"""The county's notice of results (通报), as a Word document and its PDF, in the form of a 公文.

Drafted in the formal register from the year's results (:mod:`evalkit.publish.documents.facts`) through
the template ``templates/documents/notice.md.j2`` (or the bureau's copy, ``notice.template`` in
the run file), in the order of GB/T 9704-2012 (parts: :mod:`evalkit.publish.documents.gongwen`):
the 版头 (发文机关标志 ``issuer.masthead`` in red, the 发文字号 ``issuer.doc_number`` centred, the
red line); the title "关于2024年度青岚县中小学校党建工作质量评价结果的通报"; the addressee line
(``notice.addressee``, default 各中小学校党组织); the basis and process, the overall picture
(participation, grade distribution, mean and its change from last year), the schools by grade,
the main problems (the indicators most schools lose points on, with counts), the rectification
requirements with the deadline ``notice.rectify_by``; the 附件说明; the issuer's 署名 and
成文日期 (``issuer.date``, default the day of the run) and the 附注 (``issuer.note``); the 附件
on a page of its own (the table of schools by grade, totals only with ``notice.show_scores``);
the 版记 (``issuer.cc``, ``issuer.printed_by``, ``issuer.printed_on``) at the foot of the last page.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from evalkit.publish.documents.compose import default_template, official_pdf_bytes, render_template
from evalkit.publish.documents.facts import CountyFacts, correction_context
from evalkit.publish.documents.gongwen import official_parts
from evalkit.publish.documents.publicity import publicity_rows

__all__ = ["NOTICE_STEM", "attachment_title", "notice_context", "notice_markdown", "notice_title"]

NOTICE_STEM = "通报"
"""File stem of the notice: ``county/通报_<year>.docx``."""


def notice_title(year: int, county: str) -> str:
    """``关于2024年度青岚县中小学校党建工作质量评价结果的通报``."""
    return f"关于{int(year)}年度{county}中小学校党建工作质量评价结果的通报"


def attachment_title(year: int, county: str) -> str:
    """The 附件's title (and its name in the 附件说明): ``2024年度青岚县中小学校党建工作质量评价结果``."""
    return f"{int(year)}年度{county}中小学校党建工作质量评价结果"


def notice_context(
    facts: CountyFacts, issuer: Any, notice: Any, today: dt.date | None = None, correction: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The values the notice template sees (``issuer``/``notice``: the run file's blocks)."""
    parts = official_parts(issuer, today)
    show_scores = bool(getattr(notice, "show_scores", False))
    return {
        "year": facts.year,
        "county": issuer.county,
        "body": issuer.body,
        "parts": parts,
        "doc_number": parts.doc_number,
        "contact": issuer.contact or "",
        "issue_date": issuer.issue_date(today),
        "addressee": notice.addressee,
        "rectify_by": notice.rectify_by,
        "facts": facts,
        "title": notice_title(facts.year, issuer.county) + ("（更正）" if correction else ""),
        "correction": correction_context(correction),
        "attachment_title": attachment_title(facts.year, issuer.county),
        "show_scores": show_scores,
        "rows": publicity_rows(facts, show_scores),
    }


def notice_markdown(
    facts: CountyFacts, issuer: Any, notice: Any, today: dt.date | None = None, correction: dict[str, Any] | None = None
) -> str:
    """The notice as pandoc Markdown (the template filled in)."""
    template: str | os.PathLike[str] = notice.template or default_template("notice.md.j2")
    return render_template(template, notice_context(facts, issuer, notice, today, correction))


def notice_files(
    facts: CountyFacts,
    issuer: Any,
    notice: Any,
    *,
    pdf: bool = True,
    docx_template: str | os.PathLike[str] | None = None,
    today: dt.date | None = None,
    correction: dict[str, Any] | None = None,
) -> dict[str, bytes]:
    """The notice's files in memory: ``{"docx": …, "pdf": …}`` (``pdf`` only when asked)."""
    from evalkit.publish.pandoc import markdown_to_docx_bytes

    markdown = notice_markdown(facts, issuer, notice, today, correction)
    out = {"docx": markdown_to_docx_bytes(markdown, template=docx_template)}
    if pdf:
        out["pdf"] = official_pdf_bytes(markdown, title=notice_title(facts.year, issuer.county))
    return out


def notice_paths(folder: str | os.PathLike[str], year: int) -> dict[str, Path]:
    """Where the notice goes: ``<folder>/通报_<year>.{docx,pdf}``."""
    return {fmt: Path(folder) / f"{NOTICE_STEM}_{int(year)}.{fmt}" for fmt in ("docx", "pdf")}
