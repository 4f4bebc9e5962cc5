"""Column headers: the aliases of the long format and the grammar of wide indicator headers.

Long format columns (Chinese or English headers, case and spaces ignored): 学校编号/school_id,
学校名称/school_name (optional, checked against the registry), 年度/year, 指标编号/indicator_id,
子项/item, 来源/source, 评分人/rater, 值/value (also 评分), 佐证材料/evidence.

A wide indicator header is ``<id> [<name>][：<item>][（<unit>）][【<source>】][ 佐证材料]``:

>>> h = parse_indicator_header("C5 师德警示与违规：警示（次）")
>>> (h.indicator_id, h.item, h.evidence)
('C5', '警示', False)
>>> format_value_header("C9", "教职工民主测评", unit="分", source="survey")
'C9 教职工民主测评（分）【测评】'
>>> parse_indicator_header(format_evidence_header("A1", "理论学习中心组学习")).evidence
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from evalkit.io.sheets import header_key, nfkc
from evalkit.textfmt import ITEM_NAMES, SOURCE_NAMES

EVIDENCE_WORD = "佐证材料"

_LONG_ALIASES: dict[str, tuple[str, ...]] = {
    "school_id": ("学校编号", "学校代码", "school"),
    "school_name": ("学校名称", "学校", "校名"),
    "year": ("年度", "年份", "评价年度"),
    "indicator_id": ("指标编号", "指标代码", "指标", "indicator"),
    "item": ("子项", "类别", "分项"),
    "source": ("来源", "评价来源", "数据来源"),
    "rater": ("评分人", "核查人", "评分人员", "核查人员"),
    "value": ("值", "数值", "填报值", "评分"),
    "evidence": ("佐证材料", "佐证", "evidence_note"),
}
LONG_COLUMNS: dict[str, str] = {
    header_key(alias): col for col, aliases in _LONG_ALIASES.items() for alias in (col, *aliases)
}
CHINESE_HEADERS = {col: aliases[0] for col, aliases in _LONG_ALIASES.items()}
WIDE_ROW_COLUMNS = ("school_id", "school_name", "year", "source", "rater")

_ID = re.compile(r"^(?P<id>[A-Za-z][A-Za-z0-9_.-]*)(?P<rest>.*)$")
_LOOKS_LIKE_ID = re.compile(r"^[A-Za-z]{1,3}\d+[A-Za-z0-9_.-]*$")
_ITEM = re.compile(r":\s*(?P<item>[^()\[\]【】:]+?)\s*(?=[(\[【]|佐证|$)")
_TAG = re.compile(r"[【\[](?P<tag>[^】\]]+)[】\]]")
_UNIT = re.compile(r"\((?P<unit>[^)]*)\)")


def long_column(header: Any) -> str | None:
    """The Observations column a long-format header stands for, or ``None``."""
    return LONG_COLUMNS.get(header_key(header))


@dataclass(frozen=True)
class IndicatorHeader:
    """A parsed wide header: indicator id (as written), item and source tag as written
    (``""`` if none), whether it is an evidence column, and whether the id looked like one."""

    indicator_id: str
    item: str = ""
    source: str = ""
    evidence: bool = False
    by_name: bool = False


def parse_indicator_header(header: Any, names: dict[str, str] | None = None) -> IndicatorHeader | None:
    """Parse a wide header; ``names`` (indicator name → id) lets a header without an id match
    by the indicator's Chinese name. ``None`` if the header names no indicator."""
    if header is None:
        return None
    text = nfkc(str(header)).strip()
    if not text:
        return None
    m = _ID.match(text)
    indicator_id, rest, by_name = "", text, False
    if m and _LOOKS_LIKE_ID.match(m.group("id").rstrip("._-")):
        indicator_id, rest = m.group("id").rstrip("._-"), m.group("rest")
    elif m and names is not None and m.group("id") in names.values():
        indicator_id, rest = m.group("id"), m.group("rest")
    elif names:
        bare = _UNIT.sub("", _TAG.sub("", text)).replace(EVIDENCE_WORD, "")
        bare = bare.split(":")[0].strip()
        folded = {nfkc(n).strip(): i for n, i in names.items()}
        if bare in folded:
            indicator_id, by_name = folded[bare], True
    if not indicator_id:
        return None
    item = _ITEM.search(rest)
    tag = _TAG.search(rest)
    return IndicatorHeader(
        indicator_id=indicator_id,
        item=item.group("item").strip() if item else "",
        source=tag.group("tag").strip() if tag else "",
        evidence=EVIDENCE_WORD in rest or rest.strip().endswith("佐证"),
        by_name=by_name,
    )


def _item_part(item: str) -> str:
    return f"：{ITEM_NAMES.get(item, item)}" if item else ""


def format_value_header(
    indicator_id: str, name: str, *, item: str = "", unit: str = "", source: str = ""
) -> str:
    """The header of a value column: ``C5 师德警示与违规：警示（次）``; ``source`` adds a tag
    (``【测评】``) for a column whose values belong to that source whatever the workbook's."""
    out = f"{indicator_id} {name}{_item_part(item)}"
    if unit:
        out += f"（{unit}）"
    if source:
        out += f"【{SOURCE_NAMES.get(source, source)}】"
    return out


def format_evidence_header(indicator_id: str, name: str, *, item: str = "", source: str = "") -> str:
    """The header of an evidence column: ``A1 理论学习中心组学习 佐证材料``."""
    tag = f"【{SOURCE_NAMES.get(source, source)}】" if source else ""
    return f"{indicator_id} {name}{_item_part(item)}{tag} {EVIDENCE_WORD}"
