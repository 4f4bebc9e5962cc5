"""Turning what evaluators write into canonical values, saying what was done.

Each parser returns a :class:`Parsed`: the canonical value (see the Observations contract in
``docs/architecture.md``), the list of normalisation steps in Chinese (empty when the cell was
already canonical), or a problem (kind, Chinese detail, what was expected).

>>> parse_value("１７次", "count", unit="次").value
17.0
>>> parse_value("１７次", "count", unit="次").actions
('全角转半角', '去掉单位“次”')
>>> parse_value("85%", "ratio").value, parse_value(85, "ratio").value
(0.85, 0.85)
>>> parse_value("较好", "rating").value, parse_value("省级", "level").value
('B', 'province')
>>> parse_value("十七", "count", unit="次").problem[0]
'wrong_type'
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from evalkit.io.sheets import UncomputedFormula, nfkc
from evalkit.textfmt import ITEM_NAMES, LEVEL_NAMES, RATING_NAMES, SOURCE_NAMES, num

RATIO_DIGITS = 10  # ratios are rounded to 10 decimals after dividing a percentage by 100

YES = {"是", "有", "y", "yes", "✓", "√", "✔", "☑", "对", "true", "1"}
NO = {"否", "无", "没有", "n", "no", "✗", "×", "✘", "x", "☒", "错", "false", "0"}
RATING_LABELS = {
    **{k: k for k in RATING_NAMES},
    **{v: k for k, v in RATING_NAMES.items()},
    "较差": "D",
}
LEVEL_LABELS = {
    **{k: k for k in LEVEL_NAMES},
    **{v: k for k, v in LEVEL_NAMES.items()},
    "国家": "national",
    "全国": "national",
    "省": "province",
    "市": "city",
    "县": "county",
    "区级": "county",
    "县区级": "county",
    "没有": "none",
    "否": "none",
}
ITEM_LABELS = {
    **{k: k for k in ITEM_NAMES},
    **{v: k for k, v in ITEM_NAMES.items()},
    "省": "province",
    "市": "city",
}
SOURCE_LABELS = {
    **{k: k for k in SOURCE_NAMES},
    **{v: k for k, v in SOURCE_NAMES.items()},
    "自查": "self",
    "核查": "inspection",
    "检查": "inspection",
    "督查": "inspection",
    "考核": "inspection",
    "民主测评": "survey",
    "满意度测评": "survey",
    "问卷": "survey",
}
PLACEHOLDERS = {"/", "-", "—", "——", "--", "－", "…", "n/a", "na"}
COMMON_UNITS = ("课时", "人次", "次", "个", "人", "项", "篇", "分", "场", "节", "所", "名", "门", "期")
TYPE_WORDS = {
    "count": "次数（如 17）",
    "number": "数字",
    "score": "分数（如 92.5）",
    "ratio": "百分数（如 85 或 85%）",
    "yesno": "是 或 否",
    "rating": "好、较好、一般、差（或 A、B、C、D）",
    "level": "国家级、省级、市级、县级 或 无",
}
RATIO_READINGS = {
    "sign": "written with a % sign (85%)",
    "format": "a number in a cell with a percent format (a fraction)",
    "zero": "0 (the same either way)",
    "fraction": "a bare number between 0 and 1 (0.92: a fraction, or 0.92%?)",
    "one": "a bare 1 (100% or 1%?)",
    "percent": "a bare number above 1 (85: 85%)",
}
_NUMBER = re.compile(
    r"^([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+|[+-]?(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+)$"
)
"""A number as written: ``17``, ``-3.5``, ``.5``, ``1,234.5``, or in e-notation as pandas and
Python write floats (``9.2e-06``, ``1E3``)."""
_E_NOTATION = re.compile(r"[eE]")


@dataclass(frozen=True)
class Parsed:
    """A parsed cell: ``value`` (canonical, ``None`` if empty), the ``actions`` taken, or a
    ``problem`` = (kind, Chinese detail, expected). ``reading``: for a ratio, how the number
    was written (:data:`RATIO_READINGS`); the bare readings are decided per column later
    (:mod:`evalkit.intake.ratios`)."""

    value: Any = None
    actions: tuple[str, ...] = ()
    problem: tuple[str, str, str] | None = None
    reading: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def canonical_text(value: Any) -> str:
    """A canonical value as it is shown in the normalisation table (``0.85``, ``A``, ``17``)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return num(value, 10)
    return str(value)


def shown(raw: Any) -> str:
    """A raw cell value as the evaluator wrote it, for messages (``17.0`` → ``17``)."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.strftime("%Y-%m-%d")
    return str(raw)


def _prepare(raw: Any) -> tuple[str, list[str]]:
    """Text of a cell after stripping spaces and NFKC, with the actions taken."""
    text = str(raw)
    actions: list[str] = []
    stripped = text.strip()
    if stripped != text:
        actions.append("去掉首尾空格")
    folded = nfkc(stripped)
    if folded != stripped:
        actions.append("全角转半角")
    return folded.strip(), actions


def _problem(kind: str, detail: str, data_type: str) -> Parsed:
    return Parsed(problem=(kind, detail, TYPE_WORDS.get(data_type, data_type)))


def parse_value(
    raw: Any,
    data_type: str,
    *,
    unit: str = "",
    number_format: str = "General",
    levels: Collection[str] | None = None,
    upper: float | None = None,
) -> Parsed:
    """Parse a cell for an indicator of ``data_type``.

    ``levels``: the levels a ``level`` indicator accepts (others are out of range);
    ``upper``: the largest valid number for ``score`` (e.g. 100 for a survey score).
    ``number_format`` is the XLSX number format (a ``%`` format means the number is already a
    fraction).
    """
    if raw is None:
        return Parsed()
    if isinstance(raw, UncomputedFormula):
        return _problem(
            "wrong_type",
            f"是公式“{raw}”，但文件中没有保存计算结果；请用 Excel 打开并保存后再提交，或直接填写数值",
            data_type,
        )
    if isinstance(raw, dt.datetime | dt.date | dt.time):
        return _problem(
            "wrong_type",
            f"的值“{shown(raw)}”被 Excel 识别成了日期，应填写{TYPE_WORDS.get(data_type, data_type)}",
            data_type,
        )
    if isinstance(raw, bool):
        if data_type == "yesno":
            return Parsed(1.0 if raw else 0.0, ("逻辑值转为 1/0",))
        return _problem("wrong_type", f"的值“{shown(raw)}”是逻辑值，应填写{TYPE_WORDS[data_type]}", data_type)
    if isinstance(raw, int | float):
        if isinstance(raw, float) and math.isnan(raw):
            return Parsed()
        return _from_number(float(raw), [], data_type, percent="%" in number_format, upper=upper)
    text, actions = _prepare(raw)
    if not text:
        return Parsed(None, ("只有空格，按未填处理",))
    if text.lower() in PLACEHOLDERS:
        return Parsed(None, (*actions, f"“{text}”按未填处理"))
    if data_type == "yesno":
        return _yesno(text, actions)
    if data_type == "rating":
        return _label(text, actions, RATING_LABELS, "rating", "评定等级", None)
    if data_type == "level":
        return _label(text, actions, LEVEL_LABELS, "level", "级别", levels)
    return _numeric_text(text, actions, data_type, unit, upper)


def _numeric_text(text: str, actions: list[str], data_type: str, unit: str, upper: float | None) -> Parsed:
    original = text
    if data_type == "count" and text in ("无", "没有"):
        return Parsed(0.0, (*actions, f"“{text}”按 0 计"))
    units = tuple(u for u in (unit, *COMMON_UNITS) if u and u != "%")
    for u in units:
        if text.endswith(u) and _NUMBER.match(text[: -len(u)].strip()):
            text = text[: -len(u)].strip()
            actions.append(f"去掉单位“{u}”")
            break
    percent = False
    if text.endswith("%"):
        if data_type != "ratio":
            return _problem(
                "wrong_type",
                f"的值“{original}”是百分数，应填写{TYPE_WORDS[data_type]}",
                data_type,
            )
        text, percent = text[:-1].strip(), True
    if not _NUMBER.match(text):
        return _problem(
            "wrong_type",
            f"的值“{original}”不是数字，应填写{TYPE_WORDS.get(data_type, '数字')}",
            data_type,
        )
    if "," in text:
        actions.append("去掉千分位逗号")
    number = float(text.replace(",", ""))
    if not math.isfinite(number):  # 1e400
        return _problem(
            "out_of_range",
            f"的值“{original}”超出可表示的数值范围，应填写{TYPE_WORDS.get(data_type, '数字')}",
            data_type,
        )
    if _E_NOTATION.search(text):
        actions.append(f"科学计数法换算（{text} → {num(number, 10)}）")
    return _from_number(number, actions, data_type, percent=False, upper=upper, percent_sign=percent)


def _from_number(
    number: float,
    actions: list[str],
    data_type: str,
    *,
    percent: bool,
    upper: float | None,
    percent_sign: bool = False,
) -> Parsed:
    shown_number = num(number, 10)
    if data_type == "ratio":
        reading = _ratio_reading(number, percent=percent, percent_sign=percent_sign)
        if percent_sign:
            value = round(number / 100, RATIO_DIGITS)
            actions.append(f"百分数换算为小数（{shown_number}% → {canonical_text(value)}）")
        elif percent or number <= 1:
            value = number
        else:
            value = round(number / 100, RATIO_DIGITS)
            actions.append(f"按百分数理解（{shown_number} → {canonical_text(value)}）")
        if value < 0:
            return _problem("out_of_range", f"的值 {shown_number} 为负数，比率应在 0–100% 之间", "ratio")
        if value > 1 + 1e-12:
            return _problem(
                "out_of_range",
                f"的值 {shown_number}{'%' if percent_sign else ''} 超过 100%，比率应在 0–100% 之间",
                "ratio",
            )
        return Parsed(value, tuple(actions), reading=reading)
    if data_type == "yesno":
        if number in (0.0, 1.0):
            return Parsed(number, tuple(actions))
        return _problem(
            "out_of_range", f"的值 {shown_number} 不是“是/否”，应填写 是 或 否（或 1、0）", "yesno"
        )
    if data_type in ("rating", "level"):
        return _problem("wrong_type", f"的值 {shown_number} 是数字，应填写{TYPE_WORDS[data_type]}", data_type)
    if data_type in ("count", "score") and number < 0:
        word = "次数" if data_type == "count" else "分数"
        return _problem("out_of_range", f"的值 {shown_number} 为负数，{word}不能小于 0", data_type)
    if data_type == "count" and not number.is_integer():
        return _problem("wrong_type", f"的值 {shown_number} 不是整数，应填写次数（如 17）", "count")
    if upper is not None and number > upper:
        return Parsed(
            problem=(
                "out_of_range",
                f"的值 {shown_number} 超过满分 {num(upper)}，应在 0–{num(upper)} 之间",
                f"0–{num(upper)}",
            )
        )
    return Parsed(number, tuple(actions))


def _ratio_reading(number: float, *, percent: bool, percent_sign: bool) -> str:
    """Which of :data:`RATIO_READINGS` a ratio cell is."""
    if percent_sign:
        return "sign"
    if percent:
        return "format"
    if number == 0:
        return "zero"
    if number == 1:
        return "one"
    return "fraction" if number < 1 else "percent"


def _yesno(text: str, actions: list[str]) -> Parsed:
    key = text.lower()
    if key in YES:
        return Parsed(1.0, (*actions, f"“{text}”记为 1（是）") if key != "1" else tuple(actions))
    if key in NO:
        return Parsed(0.0, (*actions, f"“{text}”记为 0（否）") if key != "0" else tuple(actions))
    if _NUMBER.match(text):
        return _from_number(float(text.replace(",", "")), actions, "yesno", percent=False, upper=None)
    return _problem("wrong_type", f"的值“{text}”不是“是/否”，应填写 是 或 否", "yesno")


def _label(
    text: str,
    actions: list[str],
    labels: dict[str, str],
    data_type: str,
    word: str,
    allowed: Collection[str] | None,
) -> Parsed:
    key = text if text in labels else text.upper() if text.upper() in labels else text.lower()
    if key not in labels:
        if _NUMBER.match(text):
            return _problem("wrong_type", f"的值“{text}”是数字，应填写{TYPE_WORDS[data_type]}", data_type)
        return _problem(
            "out_of_range", f"的值“{text}”不是有效的{word}，应填写{TYPE_WORDS[data_type]}", data_type
        )
    value = labels[key]
    if allowed is not None and value not in allowed:
        names = "、".join(LEVEL_NAMES[v] for v in LEVEL_NAMES if v in allowed)
        return Parsed(
            problem=(
                "out_of_range",
                f"的值“{text}”不在计分的级别之内，只能填写 {names}（其他级别请填“无”）",
                names,
            )
        )
    if text != value:
        names = RATING_NAMES if data_type == "rating" else LEVEL_NAMES
        actions = [*actions, f"“{text}”记为 {value}（{names.get(value, value)}）"]
    return Parsed(value, tuple(actions))


def parse_item(raw: Any, allowed: Collection[str]) -> Parsed:
    """A sub-item (``警示`` → ``warning``); ``allowed`` empty means the indicator has none."""
    if raw is None or not str(raw).strip():
        if allowed:
            names = "、".join(ITEM_NAMES.get(a, a) for a in allowed)
            return Parsed(problem=("invalid_item", f"须注明子项（{names}），每个子项单独一行或一列", names))
        return Parsed("")
    text, actions = _prepare(raw)
    key = ITEM_LABELS.get(text, ITEM_LABELS.get(text.lower(), text))
    if not allowed:
        return Parsed(problem=("invalid_item", f"不分子项，子项“{text}”应留空", "（空）"))
    if key not in allowed:
        names = "、".join(ITEM_NAMES.get(a, a) for a in allowed)
        return Parsed(problem=("invalid_item", f"的子项“{text}”不正确，应为 {names}", names))
    if key != text:
        actions.append(f"“{text}”记为 {key}")
    return Parsed(key, tuple(actions))


def parse_source(raw: Any, allowed: Collection[str]) -> Parsed:
    """A source (``自评`` → ``self``, ``实地核查`` → ``inspection``), one of ``allowed``."""
    text, actions = _prepare(raw if raw is not None else "")
    key = SOURCE_LABELS.get(text, SOURCE_LABELS.get(text.lower()))
    names = "、".join(SOURCE_NAMES.get(a, a) for a in allowed)
    if not text:
        return Parsed(problem=("missing_source", f"缺少来源，应为 {names}", names))
    if key is None or key not in allowed:
        return Parsed(problem=("unknown_source", f"来源“{text}”不正确，应为 {names}", names))
    if key != text:
        actions.append(f"“{text}”记为 {key}")
    return Parsed(key, tuple(actions))


def parse_year(raw: Any) -> Parsed:
    """A year: ``2024``, ``"2024"``, ``"2024年"``, ``2024.0`` → ``2024``."""
    if raw is None:
        return Parsed()
    if isinstance(raw, bool) or isinstance(raw, dt.datetime | dt.date):
        return Parsed(problem=("wrong_type", f"年度“{shown(raw)}”不是年份", "四位年份，如 2024"))
    if isinstance(raw, int | float):
        if float(raw).is_integer() and 1900 < raw < 2200:
            return Parsed(int(raw))
        return Parsed(problem=("wrong_type", f"年度“{shown(raw)}”不是年份", "四位年份，如 2024"))
    text, actions = _prepare(raw)
    if not text:
        return Parsed()
    if text.endswith(("年度", "年")):
        text = text.removesuffix("度").removesuffix("年").strip()
        actions.append("去掉“年”字")
    if re.fullmatch(r"\d{4}(\.0+)?", text):
        return Parsed(int(float(text)), tuple(actions))
    return Parsed(problem=("wrong_type", f"年度“{nfkc(str(raw)).strip()}”不是年份", "四位年份，如 2024"))
