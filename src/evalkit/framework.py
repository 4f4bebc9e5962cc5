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

from evalkit import rules
from evalkit.yamlload import YamlInputError, load_yaml_file
from evalkit.yamlpaths import (
    Problem,
    duplicate_keys,
    format_path,
    line_for,
    pydantic_problems,
    yaml_line_index,
)

DataType = Literal["count", "ratio", "yesno", "rating", "level", "score", "number"]
MissingPolicy = Literal["zero_flag", "reweight", "error"]
Direction = Literal["higher_better", "lower_better"]
AggregateMethod = Literal["sum", "weighted_mean", "geometric_mean"]

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


class Aggregate(_Model):
    """How a node combines its children: ``sum`` of points, or a weighted arithmetic /
    geometric mean of the children's shares (points ÷ max) times the node's points."""

    method: AggregateMethod = "sum"
    weights: dict[str, float] | None = None


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

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_better"


class Area(_Model):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    name: str
    name_en: str | None = None
    points: float = Field(ge=0)
    aggregate: Aggregate = Aggregate()
    indicators: list[Indicator] = Field(min_length=1)


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

    _fingerprint: str = PrivateAttr(default="")

    # -- navigation -------------------------------------------------------------------------
    @property
    def indicators(self) -> list[Indicator]:
        return [ind for area in self.areas for ind in area.indicators]

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def area_of(self, indicator_id: str) -> Area:
        for area in self.areas:
            if any(ind.id == indicator_id for ind in area.indicators):
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
            canon = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
            self._fingerprint = hashlib.sha256(canon.encode()).hexdigest()
        return self._fingerprint


# ---------------------------------------------------------------------------------------------
# Problems and loading
# ---------------------------------------------------------------------------------------------


class FrameworkError(ValueError):
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

    for a_i, area in enumerate(fw.areas):
        claim(area.id, ("areas", a_i))
        for i_i, ind in enumerate(area.indicators):
            loc = ("areas", a_i, "indicators", i_i)
            claim(ind.id, loc)
            out.extend(_rule_problems(ind.rule, (*loc, "rule"), ind.data_type))
        if area.aggregate.method == "sum":
            total = sum(i.max_points for i in area.indicators)
            if abs(total - area.points) > eps:
                out.append(
                    (("areas", a_i, "points"),
                     f"领域“{area.name}”分值 {area.points:g}，但其指标满分合计 {total:g} / "
                     "indicator max points do not add up to the area's points")
                )
        out.extend(_weight_problems(area.aggregate, [i.id for i in area.indicators], ("areas", a_i)))

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
    if agg.weights is None:
        return []
    out = []
    for key in agg.weights:
        if key not in child_ids:
            out.append(((*loc, "aggregate", "weights", key), f"{key} 不是下一级的编号 / not a child id"))
    if agg.method == "sum":
        out.append(((*loc, "aggregate", "weights"), "sum 汇总不使用权重 / sum takes no weights"))
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


def parse_framework(data: Any, source: str = "<framework>", text: str | None = None) -> Framework:
    """Validate a framework mapping; raise :class:`FrameworkError` listing every problem."""
    lines = yaml_line_index(text) if text else {}
    found: list[tuple[tuple, str]] = duplicate_keys(text) if text else []
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


def _iter_dicts(data: dict, keys: tuple[str, str]) -> Iterator[tuple[tuple, dict]]:
    areas = data.get(keys[0])
    if not isinstance(areas, list):
        return
    for a_i, area in enumerate(areas):
        if isinstance(area, dict) and isinstance(area.get(keys[1]), list):
            for i_i, ind in enumerate(area[keys[1]]):
                if isinstance(ind, dict):
                    yield (keys[0], a_i, keys[1], i_i), ind


def builtin_framework_path(name: str = DEFAULT_FRAMEWORK) -> Path:
    """Path of a framework shipped inside the package (``evalkit/frameworks/<name>.yaml``)."""
    return Path(str(resources.files("evalkit") / "frameworks" / f"{name}.yaml"))


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
        text, data = load_yaml_file(path)  # bounded: encoding, size, depth, aliases
    except YamlInputError as err:
        raise FrameworkError(str(path), [err.problem]) from None
    return parse_framework(data, str(path), text)
