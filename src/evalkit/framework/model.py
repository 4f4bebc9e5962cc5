"""The indicator framework: a versioned YAML file of areas → indicators → scoring rules, as a
pydantic model (the format, with a complete example: ``docs/framework-format.md``).

Loading and the checks beyond the model are in :mod:`evalkit.framework.load`: every problem at
once, each with its YAML path (and line), e.g.
``areas[1].indicators[3].rule.params.target: 应为数字 / expected a number``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from evalkit.framework import rules

DataType = Literal["count", "ratio", "yesno", "rating", "level", "score", "number"]
MissingPolicy = Literal["zero_flag", "reweight", "error"]
Direction = Literal["higher_better", "lower_better"]
AggregateMethod = Literal["sum", "weighted_mean", "geometric_mean", "topsis", "fuzzy"]
WeightingMethod = Literal["fixed", "equal", "ahp", "entropy", "critic"]

DEFAULT_FRAMEWORK = "shiquan-party-building"
LABEL_TYPES = {"rating", "level"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSpec(_Model):
    """A scoring rule by name with its parameters (checked against the rule's ``Params``)."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @cached_property
    def parsed(self) -> Any:
        return rules.validate_params(self.name, self.params)

    @property
    def rule(self) -> type[rules.Rule]:
        return rules.get_rule(self.name)


class Weighting(_Model):
    """Where a node's child weights come from (``docs/methods.md``): ``fixed`` (the numbers in
    ``aggregate.weights``, equal when none), ``equal``, ``ahp`` (a pairwise comparison
    ``matrix`` over ``criteria``, or several ``experts``' matrices combined by the element-wise
    geometric mean; ``ahp_method`` eigenvector or geometric), or derived from the year's data:
    ``entropy`` (``normalisation`` sum or minmax) and ``critic``."""

    method: WeightingMethod = "fixed"
    criteria: list[str] | None = None
    matrix: list[list[float | str]] | None = None
    experts: list[list[list[float | str]]] | None = None
    ahp_method: Literal["eigenvector", "geometric"] = "eigenvector"
    normalisation: Literal["sum", "minmax"] = "sum"


class TopsisSpec(_Model):
    """TOPSIS at a node: ``normalisation`` of the children's shares and the ``cost`` children
    (lower is better); the node's points are ``points × closeness``."""

    normalisation: Literal["vector", "minmax"] = "vector"
    cost: list[str] = Field(default_factory=list)


class FuzzySpec(_Model):
    """Fuzzy comprehensive evaluation at a node: the grade set, each grade's peak share (value
    bands, best first, strictly decreasing), each grade's score and the composition operator;
    the node's points are ``points × weighted score``. ``membership: ratings`` takes a rating
    child's membership from its raters' marks (``rating_labels[k]`` counts for ``grades[k]``)."""

    grades: list[str] = Field(default_factory=lambda: ["好", "较好", "一般", "差"], min_length=2)
    peaks: list[float] = Field(default_factory=lambda: [0.9, 0.75, 0.6, 0.4], min_length=2)
    scores: list[float] = Field(default_factory=lambda: [1.0, 0.8, 0.6, 0.4], min_length=2)
    operator: Literal["weighted_average", "max_min", "max_product"] = "weighted_average"
    membership: Literal["bands", "ratings"] = "bands"
    rating_labels: list[str] = Field(default_factory=lambda: ["A", "B", "C", "D"], min_length=2)


class Aggregate(_Model):
    """How a node combines its children: ``sum`` of points, a weighted arithmetic / geometric
    mean of the children's shares (points ÷ max) times the node's points, or ``topsis`` /
    ``fuzzy`` over the shares; ``weighting`` says where the weights come from."""

    method: AggregateMethod = "sum"
    weights: dict[str, float] | None = None
    weighting: Weighting | None = None
    topsis: TopsisSpec | None = None
    fuzzy: FuzzySpec | None = None

    @property
    def weighting_method(self) -> str:
        return self.weighting.method if self.weighting is not None else "fixed"


class Denominate(_Model):
    """Divide the indicator by a size before the other steps (COINr ``Denominate``, first in
    its pipeline): by a ``column`` of the school registry (``pupils``, ``staff``,
    ``party_members`` or another column the registry keeps; its Chinese header too) **or** by
    the combined value of another ``indicator`` of the framework; ``per`` is the unit factor:
    value = ``per × x ÷ d`` (``per: 100`` = per 100 pupils). ``missing``: a missing denominator
    is refused (``error``, the default) or leaves the ratio missing for the ``impute`` step
    (``impute``: COINr's behaviour, ``NA`` in a ratio is ``NA``); a zero is always refused."""

    column: str | None = None
    indicator: str | None = None
    per: float = Field(default=1.0, gt=0)
    missing: Literal["error", "impute"] = "error"


class Goalposts(_Model):
    """Fixed goalposts for ``normalise: goalposts`` (COINr ``n_goalposts`` with
    ``trunc2posts = TRUE``; the UNDP HDI's dimension indices): ``(f(x) − f(lower)) /
    (f(upper) − f(lower))`` clipped to 0–1, ``f = ln`` when ``log`` (the HDI's income index)."""

    lower: float
    upper: float
    log: bool = False


class Pipeline(_Model):
    """COINr-style data steps for an indicator, on its combined values per year (see
    :mod:`evalkit.mcda.treat`), in COINr's order: ``denominate`` by a registry column or
    another indicator, ``impute`` missing values by group ``mean``/``median`` (``impute_by`` a
    registry column such as ``school_type``, none = the whole county), ``treat`` outliers
    (COINr's ``Treat``: winsorise while |skew| ≥ ``skew_max`` and kurtosis ≥ ``kurt_max``, up to
    ``winmax`` distinct points, else ``log_CT`` of the original values), then ``normalise``
    over the year's data (``minmax``, ``zscore`` or ``rank``, within ``normalise_by`` groups)
    or against fixed ``goalposts`` (``normalise: goalposts``, COINr's ``n_goalposts``);
    points = ``max_points × normalised``."""

    denominate: Denominate | None = None
    impute: Literal["none", "mean", "median"] = "none"
    impute_by: str | None = None
    treat: bool = False
    winmax: int = Field(default=5, ge=0)
    skew_max: float = Field(default=2.0, gt=0)
    kurt_max: float = Field(default=3.5)
    log_fallback: bool = True
    normalise: Literal["minmax", "zscore", "rank", "goalposts"] = "minmax"
    normalise_by: str | None = None
    goalposts: Goalposts | None = None


class Indicator(_Model):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    name: str
    name_en: str | None = None
    unit: str = ""
    data_type: DataType
    direction: Direction = "higher_better"
    evidence: str | None = None
    max_points: float = Field(ge=0)
    rule: RuleSpec
    missing: MissingPolicy | None = None
    definition: str = ""
    suggestion: str = ""
    plausible_max: float | None = None
    pipeline: Pipeline | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_better"


class Area(_Model):
    """A node of the tree above the indicators: an area (一级指标) or, inside an area, a
    sub-area; it has either ``indicators`` or ``areas`` (sub-areas), to any depth."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    name: str
    name_en: str | None = None
    points: float = Field(ge=0)
    aggregate: Aggregate = Aggregate()
    indicators: list[Indicator] = Field(default_factory=list)
    areas: list[Area] = Field(default_factory=list)

    @property
    def children(self) -> list[Indicator] | list[Area]:
        return self.areas if self.areas else self.indicators

    @property
    def leaves(self) -> list[Indicator]:
        """Every indicator under this node, in order (its own, or its sub-areas')."""
        return [ind for sub in self.areas for ind in sub.leaves] if self.areas else list(self.indicators)

    def child_max(self, child: Indicator | Area) -> float:
        return float(child.max_points if isinstance(child, Indicator) else child.points)


class BonusItem(_Model):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    name: str
    name_en: str | None = None
    unit: str = ""
    data_type: DataType = "count"
    cap: float = Field(gt=0)
    rule: RuleSpec
    evidence: str | None = None


class Bonus(_Model):
    cap: float = Field(ge=0)
    items: list[BonusItem] = Field(default_factory=list)


class VetoTrigger(_Model):
    """``flag``: the veto's own yes/no observation; or an indicator's combined value
    ``below`` / ``above`` a threshold."""

    indicator: str | None = None
    below: float | None = None
    above: float | None = None


class Veto(_Model):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    name: str
    name_en: str | None = None
    grade: str
    trigger: VetoTrigger = VetoTrigger()


class GradeBand(_Model):
    """A grade for totals in ``[min, max)``; the top band may omit ``max``."""

    name: str
    min: float
    max: float | None = None


class Quota(_Model):
    """At most ``max_share`` of the schools (per year, rounded down) keep ``grade``; the others
    take the next grade. ``ties``: ``demote_all`` (a tie across the boundary demotes every tied
    school, so the quota is never exceeded) or ``admit_all``."""

    grade: str
    max_share: float = Field(gt=0, le=1)
    ties: Literal["demote_all", "admit_all"] = "demote_all"


class RaterTrim(_Model):
    """With at least ``min_raters`` marks, drop ``drop`` highest and ``drop`` lowest, then
    average."""

    min_raters: int = Field(default=5, ge=3)
    drop: int = Field(default=1, ge=0)


class Sources(_Model):
    weights: dict[str, float] = Field(default_factory=lambda: {"inspection": 1.0})
    trim: RaterTrim = RaterTrim()


class DisplayPrecision(_Model):
    """Decimals shown per level (computation keeps full precision until the end): indicator
    points, area points (every level of areas), and base / bonus / total (grades are taken on
    the total as published). A level not given uses ``precision``."""

    indicators: int | None = Field(default=None, ge=0, le=6)
    areas: int | None = Field(default=None, ge=0, le=6)
    total: int | None = Field(default=None, ge=0, le=6)


class History(_Model):
    """How this version's indicators relate to the previous version's (``history:`` in the newer
    framework; see ``docs/framework-format.md``): ``renamed`` old id → new id, ``merged`` new id →
    the old ids it replaces, ``added`` new ids, ``removed`` old ids (maxima that changed are read
    from the two years' scores), and ``compare``: what a comparison across the change uses — ``rate`` (得分率 = total ÷
    maximum, the default) or ``common`` (the points of the indicators common to both versions,
    an indicator whose maximum changed counted at its rate × the new maximum)."""

    previous: str | None = None  # the previous version's ``version`` (informative)
    renamed: dict[str, str] = Field(default_factory=dict)
    merged: dict[str, list[str]] = Field(default_factory=dict)
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    compare: Literal["rate", "common"] = "rate"


class Framework(_Model):
    id: str
    name: str
    name_en: str | None = None
    version: str
    years: list[int] = Field(min_length=1)
    total_points: float = Field(gt=0)
    precision: int = Field(default=1, ge=0, le=6)
    missing: MissingPolicy = "zero_flag"
    aggregate: Aggregate = Aggregate()
    sources: Sources = Sources()
    areas: list[Area] = Field(min_length=1)
    bonus: Bonus = Bonus(cap=0)
    vetoes: list[Veto] = Field(default_factory=list)
    grades: list[GradeBand] = Field(min_length=1)
    quota: Quota | None = None
    description: str = ""
    display_precision: DisplayPrecision | None = None
    history: History | None = None

    _fingerprint: str = PrivateAttr(default="")

    # -- navigation -------------------------------------------------------------------------
    @property
    def indicators(self) -> list[Indicator]:
        return [ind for area in self.areas for ind in area.leaves]

    def iter_areas(self) -> Iterator[tuple[tuple, Area, int, str]]:
        """Every area at every depth, parents before children: ``(yaml location, area,
        depth (1 = top), parent id ('' at the top))``."""

        def walk(areas: list[Area], loc: tuple, depth: int, parent: str) -> Iterator[tuple[tuple, Area, int, str]]:
            for k, area in enumerate(areas):
                here = (*loc, "areas", k)
                yield here, area, depth, parent
                yield from walk(area.areas, here, depth + 1, area.id)

        yield from walk(self.areas, (), 1, "")

    @property
    def depth(self) -> int:
        """Levels of areas (1 = areas directly over indicators, as the shipped framework)."""
        return max(d for _, _, d, _ in self.iter_areas())

    def decimals(self, level: Literal["indicators", "areas", "total"]) -> int:
        """Display decimals of a level (``display_precision``, else ``precision``)."""
        chosen = getattr(self.display_precision, level) if self.display_precision is not None else None
        return self.precision if chosen is None else chosen

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def area_of(self, indicator_id: str) -> Area:
        """The top-level area holding the indicator (at any depth)."""
        for area in self.areas:
            if any(ind.id == indicator_id for ind in area.leaves):
                return area
        raise KeyError(indicator_id)

    def missing_policy(self, ind: Indicator) -> MissingPolicy:
        return ind.missing or self.missing

    @property
    def grade_order(self) -> list[str]:
        """Grade names from best to worst."""
        return [g.name for g in sorted(self.grades, key=lambda g: -g.min)]

    @property
    def lowest_grade(self) -> str:
        return self.grade_order[-1]

    @property
    def known_ids(self) -> set[str]:
        return (
            {i.id for i in self.indicators}
            | {b.id for b in self.bonus.items}
            | {v.id for v in self.vetoes}
        )

    @property
    def fingerprint(self) -> str:
        """sha256 of the framework's canonical JSON form (not of the file's formatting)."""
        if not self._fingerprint:
            data = _drop_unset_extensions(self.model_dump(mode="json"))
            canon = json.dumps(data, sort_keys=True, ensure_ascii=False)
            self._fingerprint = hashlib.sha256(canon.encode()).hexdigest()
        return self._fingerprint


#: fields added for deeper trees and methods: left out of the fingerprint while unset, so a
#: framework that does not use them keeps the fingerprint it had before they existed
_EXTENSION_FIELDS = {"weighting", "topsis", "fuzzy", "pipeline", "display_precision", "denominate", "history"}


def _drop_unset_extensions(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: _drop_unset_extensions(v) for k, v in data.items()
            if not ((k in _EXTENSION_FIELDS and v is None) or (k == "areas" and v == [] and "indicators" in data))
        }
    if isinstance(data, list):
        return [_drop_unset_extensions(v) for v in data]
    return data


# ---------------------------------------------------------------------------------------------
# Problems and loading
# ---------------------------------------------------------------------------------------------
