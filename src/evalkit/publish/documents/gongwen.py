"""The parts of a 公文 (GB/T 9704-2012) that every county document shares, as values.

A document template lays them out with the macros of ``templates/documents/gongwen.md.j2``
(``{% import "gongwen.md.j2" as gw %}``): ``gw.banhead(parts)`` (版头: the 发文机关标志 in red,
the 发文字号 centred under it, the red separator line), ``gw.attachments_note(parts, names)``
(附件说明), ``gw.signature(parts)`` (发文机关署名 and 成文日期 with room for the seal, then the
附注), ``gw.attachment(number, title, count)`` (an 附件 starting a new page, "附件" top left),
``gw.banji(parts)`` (版记: 抄送, 印发机关 and 印发日期 between a thick and thin rules at the foot of
the last page). Each macro writes a raw ``openxml`` block for the Word file and a raw ``html``
block for the PDF (pandoc keeps each in its own format only), so a document needs no code of its
own to take them: the notice uses them all, the publicity list its 落款, a correction notice the
same set.

Rules followed (GB/T 9704-2012): 发文字号 as 机关代字 + 〔year〕 + serial + 号, hexagonal brackets,
no "第", no leading zeros (``青教体发〔2024〕12号``); 成文日期 and 印发日期 in Arabic numerals
(``2024年12月20日``); 抄送 organs separated by full-width commas and closed by a full stop.

>>> normalise_doc_number("青教体发[2024]012号")
'青教体发〔2024〕12号'
>>> normalise_doc_number("青教体发（2024）第3号")
'青教体发〔2024〕3号'
>>> cc_text(["县委教育工委", "县纪委监委派驻纪检监察组"])
'抄送：县委教育工委，县纪委监委派驻纪检监察组。'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from evalkit.publish.documents.facts import chinese_date

__all__ = [
    "TEXT_WIDTH_PT",
    "OfficialParts",
    "cc_text",
    "masthead_size",
    "normalise_doc_number",
    "official_parts",
]

TEXT_WIDTH_PT = 156 / 25.4 * 72
"""The text block's width (156 mm) in points: the red line's and the 版记's width."""

_BRACKETED_YEAR = re.compile(r"\s*[\[［(（【〔<〈]\s*(\d{4})\s*[\]］)）】〕>〉]\s*(?:第\s*)?0*(\d+)\s*号?\s*$")


def normalise_doc_number(text: str | None) -> str:
    """The 发文字号 as GB/T 9704 writes it: the year in 〔〕 whatever brackets were typed, no
    "第", no leading zeros in the serial number, closed by 号. Text of another shape is kept
    as written (stripped)."""
    text = (text or "").strip()
    m = _BRACKETED_YEAR.search(text)
    if not m:
        return text
    return f"{text[: m.start()].strip()}〔{m.group(1)}〕{int(m.group(2))}号"


def cc_text(organs: list[str]) -> str:
    """The 版记's 抄送 line: ``抄送：甲，乙。`` (empty without organs)."""
    names = [o.strip().rstrip("，,。") for o in organs if o and o.strip()]
    return f"抄送：{'，'.join(names)}。" if names else ""


def masthead_size(masthead: str) -> float:
    """The 发文机关标志's size in points: 30 pt (between size 1 and 小初), smaller for a long
    name so that it fits the 156 mm text block on one line (at most 0.9 of its width)."""
    return float(max(16, min(30, int(TEXT_WIDTH_PT * 0.9 / max(1, len(masthead))))))


@dataclass(frozen=True)
class OfficialParts:
    """What the 版头, 落款 and 版记 of one document print (texts ready to print)."""

    masthead: str
    doc_number: str
    body: str
    issue_date: dt.date
    printed_by: str
    printed_on: dt.date
    cc: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def masthead_pt(self) -> float:
        return masthead_size(self.masthead)

    @property
    def masthead_half_points(self) -> int:
        """Word's ``w:sz`` of the 标志 (half points)."""
        return round(self.masthead_pt * 2)

    @property
    def date_text(self) -> str:
        return chinese_date(self.issue_date)

    @property
    def printed_text(self) -> str:
        """``2024年12月20日印发``."""
        return f"{chinese_date(self.printed_on)}印发"

    @property
    def cc_text(self) -> str:
        return cc_text(self.cc)


def official_parts(issuer: Any, today: dt.date | None = None) -> OfficialParts:
    """The parts of the run file's ``issuer`` block (see :class:`evalkit.planner.runfile.Issuer`):
    defaults 标志 = body + "文件", 印发机关 = body, 印发日期 = 成文日期 = the issue date."""
    issued = issuer.issue_date(today)
    body = issuer.body.strip()
    return OfficialParts(
        masthead=(getattr(issuer, "masthead", None) or f"{body}文件").strip(),
        doc_number=normalise_doc_number(issuer.doc_number),
        body=body,
        issue_date=issued,
        printed_by=(getattr(issuer, "printed_by", None) or body).strip(),
        printed_on=getattr(issuer, "printed_on", None) or issued,
        cc=list(getattr(issuer, "cc", None) or []),
        note=(getattr(issuer, "note", None) or "").strip(),
    )
