"""The publicity list of proposed grades (公示名单): a Word document (and PDF) and an ``.xlsx``.

Only what is meant for the public: each school's name and proposed grade, in grade order then
school id, numbered; its total only when the run file says ``publicity: {show_scores: true}``.
The period runs from ``publicity.start`` (default: the issue date) to ``publicity.end``
(default: the last of ``publicity.days`` working days, 5 unless set, counted on the calendar of
statutory holidays and 调休 workdays in :mod:`evalkit.publish.documents.workdays`; a period
reaching a year that calendar does not hold yet is refused: give ``end`` then). Objections go to ``publicity.contact``
(default: ``issuer.contact``). The text is the template ``templates/documents/publicity.md.j2``
(or the bureau's copy, ``publicity.template``). The workbook holds plain values only (no
formulas), one sheet, the header row repeated on every printed page.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.publish.documents.compose import default_template, official_pdf_bytes, render_template
from evalkit.publish.documents.facts import CountyFacts, chinese_date, correction_context
from evalkit.publish.documents.gongwen import official_parts
from evalkit.publish.documents.workdays import add_working_days
from evalkit.textfmt import cjk_tight

__all__ = [
    "PUBLICITY_STEM",
    "PublicityPeriod",
    "publicity_context",
    "publicity_markdown",
    "publicity_period",
    "publicity_rows",
    "publicity_title",
    "publicity_xlsx_bytes",
]

PUBLICITY_STEM = "公示名单"
"""File stem of the list: ``county/公示名单_<year>.{docx,xlsx}``."""


@dataclass(frozen=True)
class PublicityPeriod:
    """First and last day of the publicity; ``days``: working days when computed, else ``None``."""

    start: dt.date
    end: dt.date
    days: int | None


def publicity_title(year: int, county: str) -> str:
    """``关于2024年度青岚县中小学校党建工作质量评价结果的公示``."""
    return f"关于{int(year)}年度{county}中小学校党建工作质量评价结果的公示"


def publicity_period(issuer: Any, publicity: Any, today: dt.date | None = None) -> PublicityPeriod:
    """The period of the run file's ``publicity`` block (see the module docstring)."""
    start = publicity.start or issuer.issue_date(today)
    if publicity.end:
        return PublicityPeriod(start, publicity.end, None)
    return PublicityPeriod(start, add_working_days(start, publicity.days), publicity.days)


def publicity_rows(facts: CountyFacts, show_scores: bool) -> list[dict[str, Any]]:
    """``number, school_name, grade`` per school (and ``total`` only with ``show_scores``)."""
    rows = []
    for number, school in enumerate(facts.schools, start=1):
        row: dict[str, Any] = {"number": number, "school_name": school.school_name, "grade": school.grade}
        if show_scores:
            row["total"] = round(school.total, facts.decimals)
        rows.append(row)
    return rows


def publicity_context(
    facts: CountyFacts,
    issuer: Any,
    publicity: Any,
    today: dt.date | None = None,
    correction: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The values the publicity template sees (no score unless ``show_scores``)."""
    period = publicity_period(issuer, publicity, today)
    return {
        "year": facts.year,
        "county": issuer.county,
        "body": issuer.body,
        "doc_number": issuer.doc_number or "",
        "issue_date": issuer.issue_date(today),
        "parts": official_parts(issuer, today),
        "start": period.start,
        "end": period.end,
        "days": period.days,
        "contact": publicity.contact or issuer.contact or "",
        "show_scores": bool(publicity.show_scores),
        "facts": facts,
        "rows": publicity_rows(facts, bool(publicity.show_scores)),
        "title": publicity_title(facts.year, issuer.county) + ("（更正）" if correction else ""),
        "correction": correction_context(correction),
    }


def publicity_markdown(
    facts: CountyFacts,
    issuer: Any,
    publicity: Any,
    today: dt.date | None = None,
    correction: dict[str, Any] | None = None,
) -> str:
    """The publicity list as pandoc Markdown (the template filled in)."""
    template: str | os.PathLike[str] = publicity.template or default_template("publicity.md.j2")
    return render_template(template, publicity_context(facts, issuer, publicity, today, correction))


def publicity_xlsx_bytes(context: dict[str, Any]) -> bytes:
    """The list as a workbook: title, period, where objections go, the table, the 落款."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    show = context["show_scores"]
    header = ["序号", "学校", *(["总分"] if show else []), "拟定等次"]
    width = len(header)
    wb = Workbook()
    ws = wb.active
    ws.title = "公示名单"
    body_font = Font(name="仿宋_GB2312", size=12)
    ws.append([context["title"]])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].font = Font(name="方正小标宋简体", size=16)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 48
    days = f"（{context['days']}个工作日）" if context["days"] else ""
    lines = [f"公示时间：{chinese_date(context['start'])}至{chinese_date(context['end'])}{days}"]
    lines.append(
        f"如有异议，请以书面形式实名向{context['body']}反映"
        + (f"，联系方式：{context['contact']}" if context["contact"] else "")
    )
    for line in lines:
        ws.append([cjk_tight(line)])
        r = ws.max_row
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        ws.cell(r, 1).font = body_font
        ws.cell(r, 1).alignment = Alignment(wrap_text=True, vertical="center")
        ws.row_dimensions[r].height = 32
    ws.append([])
    ws.append(header)
    head_row = ws.max_row
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c in range(1, width + 1):
        cell = ws.cell(head_row, c)
        cell.font = Font(name="黑体", size=12)
        cell.fill = PatternFill("solid", fgColor="EDEDED")
        cell.alignment = Alignment(horizontal="center")
        cell.border = box
    for row in context["rows"]:
        values = [row["number"], row["school_name"], *([row["total"]] if show else []), row["grade"]]
        ws.append(values)
        r = ws.max_row
        for c in range(1, width + 1):
            cell = ws.cell(r, c)
            cell.font = body_font
            cell.border = box
            cell.alignment = Alignment(horizontal="left" if c == 2 else "center")
        if show:
            ws.cell(r, 3).number_format = "0." + "0" * context["facts"].decimals if context["facts"].decimals else "0"
    ws.append([])
    for text in (context["body"], chinese_date(context["issue_date"])):
        ws.append([text])
        r = ws.max_row
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        ws.cell(r, 1).font = body_font
        ws.cell(r, 1).alignment = Alignment(horizontal="right")
    widths = {"序号": 8, "学校": 36, "总分": 10, "拟定等次": 12}
    for c, name in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(head_row, c).column_letter].width = widths[name]
    ws.freeze_panes = ws.cell(head_row + 1, 1)
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    from evalkit.io.xlsx_writer import workbook_bytes

    return workbook_bytes(wb)  # school names as text, never formulas; reproducible bytes


def publicity_files(
    facts: CountyFacts,
    issuer: Any,
    publicity: Any,
    *,
    pdf: bool = False,
    docx_template: str | os.PathLike[str] | None = None,
    today: dt.date | None = None,
    correction: dict[str, Any] | None = None,
) -> dict[str, bytes]:
    """The list's files in memory: ``{"docx": …, "xlsx": …, "pdf": …}`` (``pdf`` when asked)."""
    from evalkit.publish.pandoc import markdown_to_docx_bytes

    context = publicity_context(facts, issuer, publicity, today, correction)
    template: str | os.PathLike[str] = publicity.template or default_template("publicity.md.j2")
    markdown = render_template(template, context)
    out = {
        "docx": markdown_to_docx_bytes(markdown, template=docx_template),
        "xlsx": publicity_xlsx_bytes(context),
    }
    if pdf:
        out["pdf"] = official_pdf_bytes(markdown, title=context["title"])
    return out


def publicity_paths(folder: str | os.PathLike[str], year: int) -> dict[str, Path]:
    """Where the list goes: ``<folder>/公示名单_<year>.{docx,xlsx,pdf}``."""
    return {fmt: Path(folder) / f"{PUBLICITY_STEM}_{int(year)}.{fmt}" for fmt in ("docx", "xlsx", "pdf")}
