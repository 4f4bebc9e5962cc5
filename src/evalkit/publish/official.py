"""What makes a report an official document: who issues it, its title, and the 落款.

A report notebook receives the run file's ``issuer`` block as a plain dict parameter
(``{"county": "青岚县", "body": "青岚县教育体育局", "date": "2024-12-20", …}``, ``{}`` when the run
file has none); :func:`issuer_info` turns it into an :class:`IssuerInfo`. The functions here
give the title and the meta lines under it (the batch runner's title block uses the same ones)
and the HTML of the 落款 on the last page. They keep the issuer as data, so other renderers
(e.g. Word) can lay it out their own way. The HTML is in Jinja templates (``templates/html/``,
see :mod:`evalkit.publish.markup`), styled by the report stylesheet.

GB/T 9704-2012 conventions followed: the issuing body and the date (Arabic numerals,
``2026年12月1日``) at the end, right-aligned, with room above them for the seal.

>>> info = issuer_info({"county": "桐溪县", "body": "桐溪县教育体育局", "date": "2026-12-01"})
>>> chinese_date(info.date)
'2026年12月1日'
>>> county_title(2026, info)
'桐溪县2026年度中小学校党建工作质量评价汇总'
>>> county_title(2026, None)
'2026年度全县中小学校党建工作质量评价汇总'
>>> title_meta(issuer_info({"county": "桐溪县", "body": "桐溪县教育体育局", "doc_number": "桐教体〔2026〕9号"}))
['桐溪县教育体育局', '桐教体〔2026〕9号']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from evalkit.publish.markup import render

__all__ = [
    "IssuerInfo",
    "chinese_date",
    "county_label",
    "county_title",
    "issuer_info",
    "issuer_parameter",
    "report_title",
    "signature_html",
    "title_block_html",
    "title_meta",
]


@dataclass(frozen=True)
class IssuerInfo:
    """Who issues the reports (see the run file's ``issuer`` block)."""

    county: str
    body: str
    date: dt.date | None = None
    doc_number: str = ""
    contact: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def issuer_info(value: Mapping[str, Any] | IssuerInfo | None) -> IssuerInfo | None:
    """The notebook parameter ``issuer`` (a dict, or any object with the same attributes) as an
    :class:`IssuerInfo`; ``None`` for ``{}``/``None`` or when county or body is empty."""
    if value is None or isinstance(value, IssuerInfo):
        return value
    get = value.get if isinstance(value, Mapping) else lambda k, d=None: getattr(value, k, d)
    county, body = str(get("county") or "").strip(), str(get("body") or "").strip()
    if not county or not body:
        return None
    return IssuerInfo(
        county=county,
        body=body,
        date=_date(get("date")),
        doc_number=str(get("doc_number") or "").strip(),
        contact=str(get("contact") or "").strip(),
    )


def issuer_parameter(issuer: Any, today: dt.date | None = None) -> dict[str, str]:
    """The ``issuer`` notebook parameter for a run file's issuer block (``{}`` without one):
    plain strings only, the date resolved (``today`` when the block names none)."""
    info = issuer_info(issuer)
    if info is None:
        return {}
    when = info.date or today or dt.date.today()
    out = {"county": info.county, "body": info.body, "date": when.isoformat()}
    if info.doc_number:
        out["doc_number"] = info.doc_number
    if info.contact:
        out["contact"] = info.contact
    return out


def chinese_date(value: dt.date | str | None) -> str:
    """``2026年12月1日`` (Arabic numerals, no leading zeros, as GB/T 9704 writes dates); today
    when ``value`` is empty."""
    d = _date(value) or dt.date.today()
    return f"{d.year}年{d.month}月{d.day}日"


def county_label(issuer: IssuerInfo | None) -> str:
    """The county's name, or ``全县`` without an issuer."""
    return issuer.county if issuer is not None else "全县"


def county_title(year: int, issuer: IssuerInfo | None) -> str:
    """The county summary's title, with the county's name when it is known."""
    if issuer is None:
        return f"{int(year)}年度全县中小学校党建工作质量评价汇总"
    return f"{issuer.county}{int(year)}年度中小学校党建工作质量评价汇总"


def report_title(kind: str, year: int, school_name: str = "", issuer: IssuerInfo | None = None,
                 first_year: int | None = None) -> str:
    """The title of a report of ``kind`` (``school_report``, ``school_trend``, ``county_summary``)."""
    if kind == "county_summary":
        return county_title(year, issuer)
    if kind == "school_trend":
        span = f"（{first_year}—{int(year)}年）" if first_year is not None else ""
        return f"{school_name}党建工作质量历年趋势{span}"
    return f"{school_name}{int(year)}年度党建工作质量评价报告"


def title_meta(issuer: IssuerInfo | None) -> list[str]:
    """The lines under a title: the issuing body and the 文号 (none without an issuer)."""
    if issuer is None:
        return []
    return [issuer.body] + ([issuer.doc_number] if issuer.doc_number else [])


def title_block_html(title: str, issuer: IssuerInfo | Mapping[str, Any] | None) -> str:
    """A report's ``<h1>`` and, with an issuer, the issuing body and 文号 under it
    (``data-issuer-body``). Report notebooks show it in the cell tagged ``title`` (removed when
    rendered: :mod:`evalkit.publish.render` lays out the same title block from the batch job)."""
    info = issuer_info(issuer)
    return render("title_block.html.j2", title=title, body=info.body if info is not None else None,
                  lines=title_meta(info))


def signature_html(issuer: IssuerInfo | Mapping[str, Any] | None, today: dt.date | None = None) -> str:
    """The 落款 of a report's last page: the contact for questions (when given), then the
    issuing body over the date, right-aligned (four characters from the right margin), with
    about two lines above them for the seal, which is stamped over the body and the date
    (``data-issuer-body``, ``data-issue-date``). Empty without an issuer."""
    info = issuer_info(issuer)
    if info is None:
        return ""
    when = info.date or today or dt.date.today()
    return render("signature.html.j2", body=info.body, date_iso=when.isoformat(), date_text=chinese_date(when),
                  contact=info.contact)
