"""Formatting numbers for Chinese report sentences.

Rules: integers print without decimals (``4.0`` → ``"4"``), other numbers with at most two
decimals and no trailing zeros (``3.50`` → ``"3.5"``); ratios print as percentages
(``0.855`` → ``"85.5%"``). Missing values print as ``"—"``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MISSING_TEXT = "—"

LEVEL_NAMES = {
    "national": "国家级",
    "province": "省级",
    "city": "市级",
    "county": "县级",
    "none": "无",
}
RATING_NAMES = {"A": "好", "B": "较好", "C": "一般", "D": "差"}
ITEM_NAMES = {**LEVEL_NAMES, "warning": "警示", "violation": "违规"}
SOURCE_NAMES = {"self": "自评", "inspection": "实地核查", "survey": "测评"}


def is_missing(x: object) -> bool:
    """True for ``None`` and float NaN (and pandas NA)."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN and pd.NA
    except TypeError:
        return True


def round_half_up(x, decimals: int = 0):  # type: ignore[no-untyped-def]
    """Round half away from zero (四舍五入), for scalars, arrays and Series.

    ``round_half_up(3.65, 1) == 3.7`` although 3.65 is stored as 3.6499…: a tolerance of 1e-9
    in the scaled value absorbs binary representation error (``round`` would give 3.6).
    """
    factor = 10.0**decimals
    if isinstance(x, float | int) and math.isfinite(abs(float(x)) * factor):  # one number: plain floats
        return math.copysign(math.floor(abs(float(x)) * factor + 0.5 + 1e-9) / factor, x) + 0.0
    scaled = np.abs(np.asarray(x, dtype=float)) * factor
    out = np.sign(np.asarray(x, dtype=float)) * np.floor(scaled + 0.5 + 1e-9) / factor
    out = out + 0.0  # no negative zero
    if isinstance(x, pd.Series):
        return pd.Series(out, index=x.index, name=x.name)
    return float(out) if np.ndim(out) == 0 else out


def num(x: object, decimals: int = 2) -> str:
    """A number as a short string: no trailing zeros, at most ``decimals`` decimals
    (rounded half up)."""
    if is_missing(x):
        return MISSING_TEXT
    v = float(x)  # type: ignore[arg-type]
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    text = f"{round_half_up(v, decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def num_series(values: pd.Series, decimals: int = 2) -> pd.Series:
    """Vectorised :func:`num` over a Series of floats (missing → ``"—"``)."""
    rounded = round_half_up(np.asarray(values, dtype=float), decimals)
    codes, distinct = pd.factorize(rounded)  # each distinct number is written once; NaN → -1
    table = np.array([*(num(v, decimals) for v in distinct), MISSING_TEXT], dtype=object)
    index = values.index if isinstance(values, pd.Series) else None
    return pd.Series(table[codes], index=index, dtype=object, copy=False)


def pct(x: object, decimals: int = 1) -> str:
    """A ratio in 0–1 as a percentage: ``0.855`` → ``"85.5%"``."""
    if is_missing(x):
        return MISSING_TEXT
    return f"{num(float(x) * 100, decimals)}%"  # type: ignore[arg-type]


def value_text(value: object, data_type: str, unit: str = "") -> str:
    """A canonical observation value as an evaluator reads it, by data type.

    ``count`` 17 → ``"17次"`` (with the unit), ``ratio`` 0.85 → ``"85%"``, ``yesno`` 1 → ``"是"``,
    ``rating`` ``"B"`` → ``"较好"`` (the word a reader knows; the code A–D stays in the data),
    ``level`` ``"city"`` → ``"市级"``.
    """
    if is_missing(value):
        return MISSING_TEXT
    if data_type == "ratio":
        return pct(value)
    if data_type == "yesno":
        return "是" if float(value) >= 0.5 else "否"  # type: ignore[arg-type]
    if data_type == "rating":
        label = str(value)
        return RATING_NAMES.get(label, label)
    if data_type == "level":
        return LEVEL_NAMES.get(str(value), str(value))
    if isinstance(value, str):
        return value
    return f"{num(value)}{unit}"
