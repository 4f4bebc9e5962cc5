"""The indicator framework: a versioned YAML file of areas → indicators → scoring rules.

The format is documented with a complete example in ``docs/framework-format.md``. Loading
checks the whole file and reports *every* problem at once, each with its YAML path (and line),
e.g. ``areas[1].indicators[3].rule.params.target: 应为数字 / expected a number``.

>>> fw = load_framework(DEFAULT_FRAMEWORK)      # the shipped shiquan-party-building framework
>>> fw.total_points, len(fw.indicators)          # doctest: +SKIP
(100.0, 37)
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterator
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from evalkit.errors import EvalkitError
from evalkit.framework import rules
from evalkit.io.yaml_load import YamlDocument, YamlInputError, as_document, load_yaml_file
from evalkit.io.yaml_paths import Problem, format_path, line_for, pydantic_problems

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


class Pipeline(_Model):
    """COINr-style data steps for an indicator, on its combined values per year (see
    :mod:`evalkit.mcda.treat`): ``impute`` missing values by group ``mean``/``median``
    (``impute_by`` a registry column such as ``school_type``, none = the whole county), ``treat``
    outliers (winsorise up to ``winmax`` points while |skew| ≥ ``skew_max`` and kurtosis ≥
    ``kurt_max``, else log), then ``normalise`` over the year's data (``minmax``, ``zscore`` or
    ``rank``, within ``normalise_by`` groups); points = ``max_points × normalised``."""

    impute: Literal["none", "mean", "median"] = "none"
    impute_by: str | None = None
    treat: bool = False
    winmax: int = Field(default=5, ge=0)
    skew_max: float = Field(default=2.0, gt=0)
    kurt_max: float = Field(default=3.5)
    log_fallback: bool = True
    normalise: Literal["minmax", "zscore", "rank"] = "minmax"
    normalise_by: str | None = None


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
_EXTENSION_FIELDS = {"weighting", "topsis", "fuzzy", "pipeline", "display_precision"}


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


class FrameworkError(EvalkitError):
    """A framework file with problems; ``problems`` lists every one of them."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"指标体系文件 {source} 有 {len(problems)} 个问题 / problems:\n{lines}")


def _semantic_problems(fw: Framework) -> list[tuple[tuple, str]]:
    """Checks that need the whole framework: ids, rule names and parameters, point sums,
    grade bands, vetoes, quota, aggregation weights."""
    out: list[tuple[tuple, str]] = []
    eps = 1e-9

    # unique ids across areas, indicators, bonus items, vetoes
    seen: dict[str, tuple] = {}

    def claim(id_: str, loc: tuple) -> None:
        if id_ in seen:
            out.append(((*loc, "id"), f"编号 {id_} 重复（已在 {format_path(seen[id_])} 使用）/ duplicate id"))
        else:
            seen[id_] = loc

    for a_loc, area, _depth, _parent in fw.iter_areas():
        claim(area.id, a_loc)
        if bool(area.indicators) == bool(area.areas):
            out.append(
                (a_loc, f"领域“{area.name}”须有且只有 indicators（指标）或 areas（下级领域）之一 / "
                 "give either indicators or sub-areas")
            )
        for i_i, ind in enumerate(area.indicators):
            loc = (*a_loc, "indicators", i_i)
            claim(ind.id, loc)
            out.extend(_rule_problems(ind.rule, (*loc, "rule"), ind.data_type))
            if ind.pipeline is not None and ind.data_type in LABEL_TYPES:
                out.append(((*loc, "pipeline"), "数据处理步骤只适用于数值型指标 / pipeline needs numeric data"))
            if (ind.pipeline is not None) != (ind.rule.name == "pipeline"):
                out.append(((*loc, "rule", "name"),
                            "给出 pipeline（数据处理步骤）的指标须用 rule: {name: pipeline}，反之亦然 / "
                            "pipeline and rule pipeline go together"))
        if area.aggregate.method == "sum" and area.children:
            total = sum(area.child_max(c) for c in area.children)
            kind, en = ("下级领域分值", "sub-area points") if area.areas else ("指标满分", "indicator max points")
            if abs(total - area.points) > eps:
                out.append(
                    ((*a_loc, "points"),
                     f"领域“{area.name}”分值 {area.points:g}，但其{kind}合计 {total:g} / "
                     f"{en} do not add up to the area's points")
                )
        out.extend(_weight_problems(area.aggregate, [c.id for c in area.children], a_loc))

    if fw.aggregate.method == "sum":
        total = sum(a.points for a in fw.areas)
        if abs(total - fw.total_points) > eps:
            out.append(
                (("total_points",),
                 f"总分 {fw.total_points:g}，但各领域分值合计 {total:g} / "
                 "area points do not add up to total_points")
            )
    out.extend(_weight_problems(fw.aggregate, [a.id for a in fw.areas], ()))

    for b_i, item in enumerate(fw.bonus.items):
        claim(item.id, ("bonus", "items", b_i))
        out.extend(_rule_problems(item.rule, ("bonus", "items", b_i, "rule"), item.data_type))
        if item.cap > fw.bonus.cap + eps:
            out.append(
                (("bonus", "items", b_i, "cap"),
                 f"单项上限 {item.cap:g} 超过加分总上限 {fw.bonus.cap:g} / item cap above overall cap")
            )

    grade_names = [g.name for g in fw.grades]
    for name, n in Counter(grade_names).items():
        if n > 1:
            out.append((("grades",), f"等次“{name}”重复 / duplicate grade"))
    out.extend(_band_problems(fw))

    indicator_ids = {i.id for i in fw.indicators}
    for v_i, veto in enumerate(fw.vetoes):
        claim(veto.id, ("vetoes", v_i))
        if veto.grade not in grade_names:
            out.append((("vetoes", v_i, "grade"), f"等次“{veto.grade}”不在 grades 中 / unknown grade"))
        t = veto.trigger
        if t.indicator is not None:
            if t.indicator not in indicator_ids:
                out.append(
                    (("vetoes", v_i, "trigger", "indicator"), f"指标 {t.indicator} 不存在 / unknown indicator")
                )
            if (t.below is None) == (t.above is None):
                out.append(
                    (("vetoes", v_i, "trigger"),
                     "指标触发须且只须给出 below 或 above 之一 / give exactly one of below, above")
                )
        elif t.below is not None or t.above is not None:
            out.append(
                (("vetoes", v_i, "trigger", "indicator"), "给出了阈值却没有指标 / threshold without an indicator")
            )

    if fw.quota is not None:
        if fw.quota.grade not in grade_names:
            out.append((("quota", "grade"), f"等次“{fw.quota.grade}”不在 grades 中 / unknown grade"))
        elif fw.quota.grade == fw.lowest_grade:
            out.append((("quota", "grade"), "最低等次不能设比例上限 / the lowest grade cannot have a quota"))

    for source, w in fw.sources.weights.items():
        if w < 0:
            out.append((("sources", "weights", source), f"权重不能为负：{w:g} / negative weight"))
    if fw.sources.trim.min_raters - 2 * fw.sources.trim.drop < 1:
        out.append((("sources", "trim", "drop"), "去掉最高最低分后没有剩余评分 / nothing left after trimming"))
    return out


def _rule_problems(spec: RuleSpec, loc: tuple, data_type: str) -> list[tuple[tuple, str]]:
    if spec.name not in rules.RULES:
        available = ", ".join(rules.rule_names())
        return [((*loc, "name"), f"未知的计分规则“{spec.name}”；可用规则：{available} / unknown rule")]
    try:
        spec.parsed  # noqa: B018 - parse and cache
    except ValidationError as err:
        return pydantic_problems(err, (*loc, "params"))
    rule = spec.rule
    if rule.labels != (data_type in LABEL_TYPES):
        kind = "等级/级别" if rule.labels else "数值"
        return [
            ((*loc, "name"),
             f"规则“{spec.name}”需要{kind}型数据，与 data_type={data_type} 不符 / rule does not fit the data type")
        ]
    return []


def _weight_problems(agg: Aggregate, child_ids: list[str], loc: tuple) -> list[tuple[tuple, str]]:
    out = []
    for key in agg.weights or {}:
        if key not in child_ids:
            out.append(((*loc, "aggregate", "weights", key), f"{key} 不是下一级的编号 / not a child id"))
    if agg.method == "sum" and agg.weights is not None:
        out.append(((*loc, "aggregate", "weights"), "sum 汇总不使用权重 / sum takes no weights"))
    out.extend(_method_problems(agg, child_ids, (*loc, "aggregate")))
    return out


def _method_problems(agg: Aggregate, child_ids: list[str], loc: tuple) -> list[tuple[tuple, str]]:
    """Weighting methods (AHP consistency included), TOPSIS and fuzzy settings of one node."""
    from evalkit.framework.weights import ahp_for

    out: list[tuple[tuple, str]] = []
    w = agg.weighting
    if w is not None:
        wloc = (*loc, "weighting")
        if agg.method == "sum" and w.method != "fixed":
            out.append((wloc, "sum 汇总不使用权重 / sum takes no weights"))
        if w.method != "fixed" and agg.weights is not None:
            out.append(((*loc, "weights"), f"已用 {w.method} 方法定权，不能再给 weights / weights given twice"))
        if w.method == "ahp":
            out.extend(((*wloc, *sub), msg) for sub, msg in ahp_for(w, child_ids)[1])
        elif w.matrix is not None or w.experts is not None:
            out.append(((*wloc, "matrix"), f"{w.method} 方法不使用判断矩阵 / matrix only for ahp"))
    if agg.topsis is not None:
        if agg.method != "topsis":
            out.append(((*loc, "topsis"), "只有 method: topsis 使用 topsis 设置 / topsis settings need method topsis"))
        for k, cid in enumerate(agg.topsis.cost):
            if cid not in child_ids:
                out.append(((*loc, "topsis", "cost", k), f"{cid} 不是下一级的编号 / not a child id"))
    if agg.fuzzy is not None:
        f = agg.fuzzy
        if agg.method != "fuzzy":
            out.append(((*loc, "fuzzy"), "只有 method: fuzzy 使用 fuzzy 设置 / fuzzy settings need method fuzzy"))
        lengths = [len(f.grades), len(f.peaks), len(f.scores)]
        if f.membership == "ratings":
            lengths.append(len(f.rating_labels))
        if len(set(lengths)) > 1:
            out.append(((*loc, "fuzzy"), "grades、peaks、scores、rating_labels 个数应相同 / lengths differ"))
        if any(b >= a for a, b in zip(f.peaks, f.peaks[1:], strict=False)):
            out.append(((*loc, "fuzzy", "peaks"), "各等级峰值应从优到差严格递减 / peaks must decrease"))
    return out


def _band_problems(fw: Framework) -> list[tuple[tuple, str]]:
    """Bands sorted by ``min`` must tile ``[0, ∞)``: each band's ``max`` is the next ``min``."""
    out = []
    order = sorted(range(len(fw.grades)), key=lambda i: fw.grades[i].min)
    bands = [fw.grades[i] for i in order]
    if bands[0].min > 0:
        low = bands[0].min
        out.append(
            (("grades", order[0], "min"),
             f"最低等次从 {low:g} 分开始，0 到 {low:g} 分没有等次 / gap below the lowest band")
        )
    for k, band in enumerate(bands):
        i = order[k]
        if band.max is not None and band.max <= band.min:
            out.append(
                (("grades", i, "max"), f"等次“{band.name}”上限 {band.max:g} 不大于下限 {band.min:g} / empty band")
            )
        if k + 1 < len(bands):
            nxt = bands[k + 1]
            if band.max is None:
                out.append((("grades", i, "max"), f"等次“{band.name}”没有上限，与“{nxt.name}”重叠 / overlaps"))
            elif band.max < nxt.min:
                out.append(
                    (("grades", i, "max"),
                     f"等次“{band.name}”与“{nxt.name}”之间 {band.max:g}–{nxt.min:g} 分没有等次 / gap")
                )
            elif band.max > nxt.min:
                out.append(
                    (("grades", i, "max"),
                     f"等次“{band.name}”与“{nxt.name}”在 {nxt.min:g}–{band.max:g} 分重叠 / overlap")
                )
        elif band.max is not None:
            out.append((("grades", i, "max"), f"最高等次“{band.name}”应不设上限 / the top band takes no max"))
    return out


def parse_framework(data: Any, source: str = "<framework>", text: str | YamlDocument | None = None) -> Framework:
    """Validate a framework mapping; raise :class:`FrameworkError` listing every problem, each
    with its line when ``text`` (the YAML text or its parsed document) is given."""
    doc = as_document(text)
    lines = doc.lines if doc else {}
    found: list[tuple[tuple, str]] = list(doc.duplicates) if doc else []
    fw: Framework | None = None
    if not isinstance(data, dict):
        found.append(((), "文件内容应为键值表 / the file must be a mapping"))
    else:
        found.extend(non_finite_numbers(data))
        try:
            fw = Framework.model_validate(data)
        except ValidationError as err:
            found.extend(pydantic_problems(err))
        if fw is None:
            # structural errors first; still check what parts we can (rule names and params)
            found.extend(_partial_rule_problems(data))
        else:
            found.extend(_semantic_problems(fw))
    if found:
        problems = [Problem(format_path(loc), msg, line_for(lines, loc)) for loc, msg in found]
        raise FrameworkError(source, _dedupe(problems))
    assert fw is not None
    return fw


def non_finite_numbers(data: Any, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """Every number in the framework mapping that is not finite (YAML ``.nan``, ``.inf``,
    ``-.inf``), with its path: a weight, points or a rule parameter must be a real number
    (NaN would silently turn scores into NaN or change sums). ``null`` stays allowed where the
    format allows it (e.g. the top grade's ``max``)."""
    out: list[tuple[tuple, str]] = []
    stack: list[tuple[Any, tuple]] = [(data, loc)]
    seen: set[int] = set()
    while stack:  # iterative, and each container once (YAML aliases share them)
        value, where = stack.pop()
        if isinstance(value, dict | list):
            if id(value) in seen:
                continue
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((v, (*where, k)) for k, v in reversed(list(items)))
        elif isinstance(value, float) and not math.isfinite(value):
            out.append((where, f"数值必须是有限的数，不能是 {value}（YAML 的 .nan / .inf）/ number must be finite"))
    return out


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


def _partial_rule_problems(data: dict) -> list[tuple[tuple, str]]:
    """When the structure is broken, still report rule problems of the indicators that parse."""
    out: list[tuple[tuple, str]] = []
    for loc, ind in _iter_dicts(data, ("areas", "indicators")):
        try:
            parsed = Indicator.model_validate(ind)
        except ValidationError:
            continue
        out.extend(_rule_problems(parsed.rule, (*loc, "rule"), parsed.data_type))
    return out


def _iter_dicts(data: dict, keys: tuple[str, str], loc: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    """The indicator mappings under ``areas`` at any depth, with their YAML locations."""
    areas = data.get(keys[0])
    if not isinstance(areas, list):
        return
    for a_i, area in enumerate(areas):
        if not isinstance(area, dict):
            continue
        if isinstance(area.get(keys[1]), list):
            for i_i, ind in enumerate(area[keys[1]]):
                if isinstance(ind, dict):
                    yield (*loc, keys[0], a_i, keys[1], i_i), ind
        yield from _iter_dicts(area, keys, (*loc, keys[0], a_i))


def builtin_framework_path(name: str = DEFAULT_FRAMEWORK) -> Path:
    """Path of a framework shipped inside the package (``evalkit/framework/shipped/<name>.yaml``)."""
    return Path(str(resources.files("evalkit") / "framework" / "shipped" / f"{name}.yaml"))


def resolve_framework_path(ref: str | Path) -> Path:
    """A file path, or the name of a shipped framework."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return builtin_framework_path(str(ref))


def load_framework(ref: str | Path = DEFAULT_FRAMEWORK) -> Framework:
    """Load and validate a framework file (or a shipped framework by name)."""
    path = resolve_framework_path(ref)
    try:
        doc = load_yaml_file(path)  # bounded: encoding, size, depth, aliases; parsed once
    except YamlInputError as err:
        raise FrameworkError(str(path), [err.problem]) from None
    return parse_framework(doc.data, str(path), doc)
