"""Indicator scoring rules, found by name from a framework file.

Every rule is a class registered in :data:`RULES` with

- ``Params``: a pydantic model of the rule's parameters (a framework file is checked against it);
- ``score(values, max_points, params, higher_is_better)``: a pure, vectorised function from a
  Series of canonical values (see ``docs/architecture.md``) to a Series of points. A missing
  value gives missing points (the engine applies the indicator's missing-data policy);
- ``explain(case, params)``: one Chinese sentence saying how the points came about. The engine
  calls it once per distinct (indicator, value, points), never once per school.

Rules whose ``item_weights`` names a parameter score a weighted total over kinds: the engine
first collapses the rows of one school × indicator × source × rater to ``Σ weight[item] × value``.
Rules with ``population = True`` (z-score, percentile) are computed within a year, over all
schools.

>>> import pandas as pd
>>> r = get_rule("shortfall_deduction")
>>> r.score(pd.Series([12.0, 10.0, 0.0]), 4.0, r.Params(target=12, per_missing=0.5)).tolist()
[4.0, 3.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evalkit.framework import methods
from evalkit.textfmt import ITEM_NAMES, LEVEL_NAMES, num, pct

__all__ = ["RULES", "Case", "Rule", "get_rule", "rule_names"]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Case:
    """One distinct situation to explain: an indicator, a value and the points it earned."""

    name: str
    unit: str
    data_type: str
    value: Any
    value_text: str
    points: float
    max_points: float
    decimals: int = 2

    def amount(self, x: float) -> str:
        """A threshold in the indicator's own terms: ``12次`` or ``90%``."""
        return pct(x) if self.data_type == "ratio" else f"{num(x)}{self.unit}"

    @property
    def got(self) -> str:
        if self.points >= self.max_points - 1e-9:
            return f"得满分 {num(self.max_points)} 分"
        return f"得 {num(self.points, self.decimals)} 分（满分 {num(self.max_points)} 分）"


def _numeric(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def _clip(points: pd.Series, max_points: float) -> pd.Series:
    return points.clip(lower=0.0, upper=max_points)


class Rule:
    """Base class: subclasses set ``name``, ``Params``, ``score`` and ``explain``."""

    name: ClassVar[str]
    title: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = _Params
    labels: ClassVar[bool] = False
    population: ClassVar[bool] = False
    item_weights: ClassVar[str | None] = None

    @staticmethod
    def score(
        values: pd.Series, max_points: float, params: Any, higher_is_better: bool = True
    ) -> pd.Series:
        raise NotImplementedError

    @staticmethod
    def explain(case: Case, params: Any) -> str:
        raise NotImplementedError


RULES: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to :data:`RULES` under its ``name``."""
    if cls.name in RULES:
        raise ValueError(f"rule {cls.name!r} registered twice")
    RULES[cls.name] = cls
    return cls


def get_rule(name: str) -> type[Rule]:
    """The rule registered under ``name``; ``KeyError`` naming the known rules otherwise."""
    try:
        return RULES[name]
    except KeyError:
        raise KeyError(f"unknown rule {name!r}; known rules: {', '.join(sorted(RULES))}") from None


def rule_names() -> list[str]:
    return sorted(RULES)


# ---------------------------------------------------------------------------------------------
# Rubric rules
# ---------------------------------------------------------------------------------------------


@register
class Met(Rule):
    """Met / not met: ``points = max`` if the value is yes (≥ 0.5), else ``unmet_points``."""

    name = "met"
    title = "达标得分"

    class Params(_Params):
        unmet_points: float = 0.0

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        v = _numeric(values)
        return pd.Series(np.where(v >= 0.5, max_points, params.unmet_points), index=v.index).where(
            v.notna()
        )

    @staticmethod
    def explain(case, params):
        if case.points >= case.max_points - 1e-9:
            return f"{case.name}已落实，得满分 {num(case.max_points)} 分"
        return f"{case.name}未落实，{case.got}"


@register
class CountToTarget(Rule):
    """Count to target, pro rata and capped: ``points = max × min(value / target, 1)``."""

    name = "count_to_target"
    title = "按目标比例得分"

    class Params(_Params):
        target: float = Field(gt=0)

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return _clip(max_points * _numeric(values) / params.target, max_points)

    @staticmethod
    def explain(case, params):
        if case.value >= params.target:
            return f"{case.name} {case.value_text}，达到 {case.amount(params.target)} 要求，{case.got}"
        return (
            f"{case.name} {case.value_text}，未达到 {case.amount(params.target)} 要求，"
            f"按比例{case.got}"
        )


@register
class ShortfallDeduction(Rule):
    """Shortfall deduction: ``points = max(0, max − per_missing × max(0, target − value))``."""

    name = "shortfall_deduction"
    title = "缺项扣分"

    class Params(_Params):
        target: float = Field(gt=0)
        per_missing: float = Field(gt=0)

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        short = (params.target - _numeric(values)).clip(lower=0.0)
        return _clip(max_points - params.per_missing * short, max_points)

    @staticmethod
    def explain(case, params):
        if case.value >= params.target:
            return f"{case.name} {case.value_text}，达到 {case.amount(params.target)} 要求，{case.got}"
        short = params.target - case.value
        return (
            f"{case.name} {case.value_text}，比要求的 {case.amount(params.target)} 少 "
            f"{case.amount(short)}，每少 1{case.unit} 扣 {num(params.per_missing)} 分，{case.got}"
        )


@register
class RateThreshold(Rule):
    """Rate with threshold: full marks at or above ``threshold``; below it
    ``points = max(0, max − per_point × 100 × (threshold − value))`` (per percentage point)."""

    name = "rate_threshold"
    title = "比率达标扣分"

    class Params(_Params):
        threshold: float = Field(gt=0, le=1)
        per_point: float = Field(gt=0)

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        gap_points = ((params.threshold - _numeric(values)) * 100.0).clip(lower=0.0)
        return _clip(max_points - params.per_point * gap_points, max_points)

    @staticmethod
    def explain(case, params):
        if case.value >= params.threshold - 1e-12:
            return f"{case.name} {case.value_text}，达到 {pct(params.threshold)} 要求，{case.got}"
        gap = (params.threshold - case.value) * 100.0
        return (
            f"{case.name} {case.value_text}，低于 {pct(params.threshold)} 要求 {num(gap, 1)} 个百分点，"
            f"每个百分点扣 {num(params.per_point)} 分，{case.got}"
        )


@register
class Deduction(Rule):
    """Per-occurrence deduction, floor at zero (扣完为止):
    ``points = max(0, max − Σ_k weight_k × n_k)``; without ``weights`` every occurrence costs
    ``per_occurrence``."""

    name = "deduction"
    title = "逐次扣分"
    item_weights = "weights"

    class Params(_Params):
        per_occurrence: float = Field(default=1.0, gt=0)
        weights: dict[str, float] | None = None

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        per = 1.0 if params.weights else params.per_occurrence
        return _clip(max_points - per * _numeric(values).clip(lower=0.0), max_points)

    @staticmethod
    def explain(case, params):
        if case.value <= 0:
            return f"{case.name}：未发现问题，{case.got}"
        if params.weights:
            rates = "、".join(f"{ITEM_NAMES.get(k, k)}每次扣 {num(w)} 分" for k, w in params.weights.items())
            return f"{case.name}：{case.value_text}（{rates}），扣完为止，{case.got}"
        return (
            f"{case.name} {case.value_text}，每次扣 {num(params.per_occurrence)} 分，扣完为止，{case.got}"
        )


@register
class PointsPerOccurrence(Rule):
    """Points per occurrence, capped at the item's max:
    ``points = min(max, Σ_k weight_k × n_k)``; without ``weights`` each occurrence earns
    ``points_each``."""

    name = "points_per_occurrence"
    title = "逐项计分"
    item_weights = "weights"

    class Params(_Params):
        points_each: float = Field(default=1.0, gt=0)
        weights: dict[str, float] | None = None

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        each = 1.0 if params.weights else params.points_each
        return _clip(each * _numeric(values), max_points)

    @staticmethod
    def explain(case, params):
        if case.value <= 0:
            return f"{case.name}：无，不得分（满分 {num(case.max_points)} 分）"
        if params.weights:
            rates = "、".join(f"{ITEM_NAMES.get(k, k)}每项 {num(w)} 分" for k, w in params.weights.items())
        else:
            rates = f"每{case.unit or '项'} {num(params.points_each)} 分"
        return f"{case.name}：{case.value_text}（{rates}，最高 {num(case.max_points)} 分），{case.got}"


class _Band(_Params):
    min: float
    points: float = Field(ge=0)


@register
class Bands(Rule):
    """Banded (step) scoring: ``points = min(max, points_b)`` for the highest band ``b`` whose
    ``min`` ≤ value (0 below the lowest band). Bands are listed in ascending ``min``."""

    name = "bands"
    title = "分档计分"

    class Params(_Params):
        bands: list[_Band] = Field(min_length=1)

        @field_validator("bands")
        @classmethod
        def _ascending(cls, bands: list[_Band]) -> list[_Band]:
            mins = [b.min for b in bands]
            if mins != sorted(mins) or len(set(mins)) != len(mins):
                raise ValueError("bands must be listed in strictly ascending min")
            return bands

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        v = _numeric(values)
        edges = np.array([b.min for b in params.bands])
        pts = np.array([0.0] + [b.points for b in params.bands])
        idx = np.searchsorted(edges, v.to_numpy(), side="right")
        return _clip(pd.Series(pts[idx], index=v.index), max_points).where(v.notna())

    @staticmethod
    def explain(case, params):
        band = None
        for b in params.bands:
            if case.value >= b.min:
                band = b
        if band is None:
            return (
                f"{case.name} {case.value_text}，未达到最低档 {case.amount(params.bands[0].min)}，"
                f"{case.got}"
            )
        return f"{case.name} {case.value_text}，达到“{case.amount(band.min)}及以上”档，{case.got}"


DEFAULT_RATING_SCALE = {
    "A": 1.0, "B": 0.75, "C": 0.5, "D": 0.0, "好": 1.0, "较好": 0.75, "一般": 0.5, "差": 0.0,
}


@register
class Rating(Rule):
    """Ordinal rating: ``points = max × scale[rating]``; the default scale is
    A/好 = 100%, B/较好 = 75%, C/一般 = 50%, D/差 = 0%."""

    name = "rating"
    title = "等级评定"
    labels = True

    class Params(_Params):
        scale: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_RATING_SCALE))

        @field_validator("scale")
        @classmethod
        def _shares(cls, scale: dict[str, float]) -> dict[str, float]:
            bad = [k for k, s in scale.items() if not 0.0 <= s <= 1.0]
            if bad:
                raise ValueError(f"scale shares must lie in 0–1 (not {', '.join(bad)})")
            return scale

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        share = values.map(params.scale).astype(float)
        return max_points * share

    @staticmethod
    def explain(case, params):
        label = str(case.value)
        if label in params.scale:
            return f"{case.name}评定为“{case.value_text}”，按 {pct(params.scale[label], 0)} 计，{case.got}"
        # several raters averaged: the value is the mean share
        return f"{case.name}：{case.value_text}，{case.got}"


@register
class LevelPoints(Rule):
    """Level of an honour: ``points = min(max, levels[level])``
    (e.g. province 2, city 1.5, county 1, none 0). A known level that ``levels`` does not list
    takes the points of the nearest listed level below it (0 when there is none): with
    ``{province: 2, city: 1}`` a national honour earns 2, a county one 0."""

    name = "level_points"
    title = "荣誉级别计分"
    labels = True

    class Params(_Params):
        levels: dict[str, float] = Field(min_length=1)

        @field_validator("levels")
        @classmethod
        def _known(cls, levels: dict[str, float]) -> dict[str, float]:
            unknown = [k for k in levels if k not in LEVEL_NAMES]
            if unknown:
                raise ValueError(
                    f"unknown level(s) {', '.join(unknown)}; use {', '.join(LEVEL_NAMES)}"
                )
            return levels

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        table: dict[str, float] = {}
        carry = 0.0
        for level in reversed(LEVEL_NAMES):  # none → county → city → province → national
            carry = params.levels.get(level, carry)
            table[level] = carry
        return _clip(values.map(table).astype(float), max_points)

    @staticmethod
    def explain(case, params):
        if case.points <= 0:
            return f"{case.name}：{case.value_text}，不得分（满分 {num(case.max_points)} 分）"
        return f"{case.name}：{case.value_text}，{case.got}"


@register
class SurveyScaled(Rule):
    """Survey score scaled to max: ``points = max × clip(value / scale_max, 0, 1)``."""

    name = "survey_scaled"
    title = "测评折算"

    class Params(_Params):
        scale_max: float = Field(default=100.0, gt=0)

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return _clip(max_points * _numeric(values) / params.scale_max, max_points)

    @staticmethod
    def explain(case, params):
        return (
            f"{case.name} {num(case.value, 1)} 分（满分 {num(params.scale_max)}），"
            f"折算{case.got}"
        )


@register
class RatioTimesMax(Rule):
    """Ratio × max: ``points = max × clip(value, 0, 1)`` for a ratio in 0–1."""

    name = "ratio_times_max"
    title = "比率折算"

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return _clip(max_points * _numeric(values), max_points)

    @staticmethod
    def explain(case, params):
        if case.value >= 1.0:
            return f"{case.name} {case.value_text}，{case.got}"
        return f"{case.name} {case.value_text}，按比例{case.got}"


@register
class Direct(Rule):
    """Points given directly: ``points = clip(value, 0, max)`` (already-scored inputs)."""

    name = "direct"
    title = "直接计分"

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return _clip(_numeric(values), max_points)

    @staticmethod
    def explain(case, params):
        return f"{case.name}：评定 {num(case.value)} 分，{case.got}"


# ---------------------------------------------------------------------------------------------
# Composite-indicator normalisations (see evalkit.framework.methods)
# ---------------------------------------------------------------------------------------------


@register
class MinMax(Rule):
    """Min-max against fixed goalposts:
    ``points = max × clip((f(x) − f(lower)) / (f(upper) − f(lower)), 0, 1)``, ``f = ln`` when
    ``log`` (for incomes), identity otherwise; reversed for lower-is-better indicators."""

    name = "minmax"
    title = "目标值标准化"

    class Params(_Params):
        lower: float
        upper: float
        log: bool = False
        cap: bool = True

        @model_validator(mode="after")
        def _goalposts(self) -> MinMax.Params:
            if not self.upper > self.lower:
                raise ValueError("upper must be greater than lower")
            if self.log and self.lower <= 0:
                raise ValueError("with log, lower must be positive")
            return self

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return max_points * methods.minmax(
            values, params.lower, params.upper, log=params.log, cap=params.cap,
            higher_is_better=higher_is_better,
        )

    @staticmethod
    def explain(case, params):
        how = "取对数后" if params.log else ""
        return (
            f"{case.name} {case.value_text}，{how}按目标值 {num(params.lower)}–{num(params.upper)} "
            f"标准化，{case.got}"
        )


@register
class ZScore(Rule):
    """Z-score within the year: ``points = max × (x − mean) / sd`` (unbounded)."""

    name = "zscore"
    title = "标准分"
    population = True

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return max_points * methods.zscore(values, higher_is_better=higher_is_better)

    @staticmethod
    def explain(case, params):
        return f"{case.name} {case.value_text}，标准分折算得 {num(case.points, 3)}"


@register
class Percentile(Rule):
    """Percentile rank within the year: ``points = max × (rank − 1) / (n − 1)``."""

    name = "percentile"
    title = "百分位"
    population = True

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return max_points * methods.percentile_rank(values, higher_is_better=higher_is_better)

    @staticmethod
    def explain(case, params):
        return f"{case.name} {case.value_text}，按全县百分位{case.got}"


@register
class DistanceToTarget(Rule):
    """Distance to target: ``points = max × clip(x / target, 0, 1)`` (``target / x`` when lower
    is better)."""

    name = "distance_to_target"
    title = "距目标距离"

    class Params(_Params):
        target: float = Field(gt=0)
        cap: bool = True

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return max_points * methods.distance_to_target(
            values, params.target, higher_is_better=higher_is_better, cap=params.cap
        )

    @staticmethod
    def explain(case, params):
        return f"{case.name} {case.value_text}，目标 {case.amount(params.target)}，{case.got}"


@register
class DataPipeline(Rule):
    """Points from the indicator's ``pipeline`` (impute, treat, normalise over the year's data;
    :mod:`evalkit.scoring.pipeline`): ``points = max × normalise(treat(impute(x)))``, the
    normalised value in 0–1. Per observation the value is carried as is; the
    indicator's points and sentence are set once every school's combined value is known."""

    name = "pipeline"
    title = "数据标准化"

    @staticmethod
    def score(values, max_points, params, higher_is_better=True):
        return _numeric(values)

    @staticmethod
    def explain(case, params):
        return f"{case.name} {case.value_text}，按数据处理步骤计分"


def validate_params(name: str, params: Mapping[str, Any]) -> BaseModel:
    """Parse ``params`` with the rule's ``Params`` model (raises pydantic ``ValidationError``)."""
    return get_rule(name).Params.model_validate(dict(params))
