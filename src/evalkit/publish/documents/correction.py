"""The 更正说明 of a corrected county-year, as a Word document and its PDF.

Made like the 通报 (:mod:`evalkit.publish.documents.notice`): the template
``templates/documents/correction.md.j2`` filled from the correction's record
(:mod:`evalkit.planner.correction`) — which notice it corrects (title, 文号, first issue date),
why, every input cell changed (school, indicator, from → to), every school whose total, grade or
rank changed (old → new, and whether only because another school's data changed), the reports
redone — then pandoc for the ``.docx`` and WeasyPrint for the PDF, in the layout of GB/T 9704.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import Any

import pandas as pd

from evalkit.publish.documents.compose import default_template, official_pdf_bytes, render_template
from evalkit.publish.documents.gongwen import official_parts
from evalkit.publish.documents.notice import notice_title

__all__ = ["correction_context", "correction_files", "correction_title"]


def correction_title(year: int, county: str) -> str:
    """``关于2024年度青岚县中小学校党建工作质量评价结果的更正说明``."""
    return f"关于{int(year)}年度{county}中小学校党建工作质量评价结果的更正说明"


def _text(value: Any, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def _short_why(row: dict[str, Any]) -> str:
    """The change table's 说明 in a few words, for the document's narrow column."""
    if row.get("本校数据有更正") == "是":
        return "本校数据更正"
    if "等次比例" in str(row.get("说明", "")):
        return "本校数据未变，受等次比例限制随他校更正变动"
    return "本校数据未变，随他校更正变动"


def correction_context(
    record: dict[str, Any],
    changed: pd.DataFrame,
    issuer: Any,
    *,
    wenhao: str = "",
    original_date: str = "",
    indicator_names: dict[str, str] | None = None,
    decimals: int = 1,
) -> dict[str, Any]:
    """The values the template sees (``changed``: the rows of the change table that moved)."""
    names = dict(zip(changed["学校编号"].astype(str), changed["学校名称"], strict=True)) if len(changed) else {}
    indicator_names = indicator_names or {}
    county = issuer.county if issuer is not None else ""
    cells = []
    for c in record["changed_cells"]:
        sid = str(c["school_id"])
        ind = str(c["indicator_id"])
        label = f"{indicator_names[ind]}（{ind}）" if ind in indicator_names else ind
        if c.get("item"):
            label += f"（{c['item']}）"
        if c.get("rater"):
            label += f"，评价人 {c['rater']}"
        old, new = _text(c.get("old")), _text(c.get("new"))
        if c.get("change") != "修改":
            old, new = (old, "（删除）") if c.get("change") == "删除" else ("（无）", new)
        if c.get("old") == c.get("new"):  # only the evidence changed
            old, new = _text(c.get("old_evidence")), _text(c.get("new_evidence"))
            label += "（佐证说明）"
        cells.append({"school_name": names.get(sid, sid), "indicator": label, "old": old, "new": new,
                      "change": c.get("change")})
    schools = [
        {
            "school_name": r["学校名称"],
            "old_total": _text(r["原总分"], decimals),
            "new_total": _text(r["新总分"], decimals),
            "old_grade": _text(r["原等次"]),
            "new_grade": _text(r["新等次"]),
            "old_rank": _text(r["原排名"]),
            "new_rank": _text(r["新排名"]),
            "why": _short_why(r),
        }
        for r in changed.to_dict("records")
    ]
    reports = [k for k in record.get("reports_redone", []) if k.startswith(("school_report", "school_trend"))]
    date = dt.date.fromisoformat(record["date"])
    parts = None
    if issuer is not None and getattr(issuer, "body", None):
        # its own 版头 and 版记, dated the day of the correction; no 文号 unless one is given
        parts = dataclasses.replace(official_parts(issuer, date), doc_number="", note="",
                                    issue_date=date, printed_on=date)
    return {
        "parts": parts,
        "year": int(record["year"]),
        "county": county,
        "body": issuer.body if issuer is not None else "",
        "title": correction_title(record["year"], county),
        "notice_title": notice_title(record["year"], county),
        "wenhao": wenhao,
        "original_date": dt.date.fromisoformat(original_date) if original_date else None,
        "date": date,
        "version": int(record["version"]),
        "reason": str(record["reason"]).rstrip("。．. "),
        "addressee": "各中小学校党组织",
        "cells": cells,
        "schools": schools,
        "n_schools_changed": len(schools),
        "n_reports": len(reports),
        "decimals": decimals,
    }


def correction_files(
    record: dict[str, Any],
    changed: pd.DataFrame,
    issuer: Any,
    *,
    pdf: bool = True,
    docx_template: str | os.PathLike[str] | None = None,
    wenhao: str = "",
    original_date: str = "",
    indicator_names: dict[str, str] | None = None,
    template: str | os.PathLike[str] | None = None,
) -> dict[str, bytes]:
    """The 更正说明's files in memory: ``{"docx": …, "pdf": …}``."""
    from evalkit.publish.pandoc import markdown_to_docx_bytes

    context = correction_context(record, changed, issuer, wenhao=wenhao, original_date=original_date,
                                 indicator_names=indicator_names)
    markdown = render_template(template or default_template("correction.md.j2"), context)
    out = {"docx": markdown_to_docx_bytes(markdown, template=docx_template)}
    if pdf:
        out["pdf"] = official_pdf_bytes(markdown, title=context["title"])
    return out
