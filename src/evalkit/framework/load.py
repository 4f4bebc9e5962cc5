"""Loading a framework file and checking it: every problem with its YAML path and line.

:func:`load_framework` reads a file (or a shipped framework by name) within bounds and parses it
once (:mod:`evalkit.io.yaml_load`); :func:`parse_framework` validates a mapping against the model
(:mod:`evalkit.framework.model`) and then checks what the model alone cannot (ids unique across
the tree, rules and their parameters, weights, grade bands, methods), raising
:class:`FrameworkError` with the complete list.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evalkit.errors import EvalkitError
from evalkit.framework import rules
from evalkit.framework.model import DEFAULT_FRAMEWORK, LABEL_TYPES, Aggregate, Framework, Indicator, Pipeline, RuleSpec
from evalkit.io.yaml_load import YamlDocument, YamlInputError, as_document, load_yaml_file
from evalkit.io.yaml_paths import Problem, format_path, line_for, pydantic_problems


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
            if ind.pipeline is not None and ind.pipeline.denominate is not None:
                out.extend(_denominate_problems(ind, fw, (*loc, "pipeline", "denominate")))
            if ind.pipeline is not None:
                out.extend(_goalpost_problems(ind.pipeline, (*loc, "pipeline")))
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
    out.extend(history_problems(fw))
    return out


def history_problems(fw: Framework, previous: Framework | None = None) -> list[tuple[tuple, str]]:
    """Checks of ``history:`` (see :class:`~evalkit.framework.model.History`): the new ids it
    names (``renamed`` targets, ``merged`` keys, ``added``) must be indicators of this framework,
    the old ids (``renamed`` keys, ``merged`` lists, ``removed``) must not be; an id is named at
    most once. With ``previous`` (the framework of the year before, known in a run), the old ids
    must be indicators of ``previous``."""
    h = fw.history
    if h is None:
        return []
    out: list[tuple[tuple, str]] = []
    here = {i.id for i in fw.indicators}
    before = {i.id for i in previous.indicators} if previous is not None else None
    news = [(("history", "renamed", old), new) for old, new in h.renamed.items()]
    news += [(("history", "merged", new), new) for new in h.merged]
    news += [(("history", "added", k), new) for k, new in enumerate(h.added)]
    olds = [(("history", "renamed", old), old) for old in h.renamed]
    olds += [(("history", "merged", new, k), old) for new, group in h.merged.items() for k, old in enumerate(group)]
    olds += [(("history", "removed", k), old) for k, old in enumerate(h.removed)]
    for loc, new in news:
        if new not in here:
            out.append((loc, f"指标 {new} 不在本指标体系中 / unknown indicator"))
    for loc, old in olds:
        if old in here:
            out.append((loc, f"指标 {old} 仍在本指标体系中，不能列为已更名、合并或删除的旧指标 / still an indicator"))
        elif before is not None and old not in before:
            out.append((loc, f"指标 {old} 不在上一版指标体系（{previous.version if previous else ''}）中 / "
                             "unknown in the previous version"))
    named = Counter([n for _, n in news] + [o for _, o in olds])
    for id_, n in sorted(named.items()):
        if n > 1:
            out.append((("history",), f"指标 {id_} 在 history 中重复出现 / named more than once"))
    return out


def _denominate_problems(ind: Indicator, fw: Framework, loc: tuple) -> list[tuple[tuple, str]]:
    """``denominate`` names exactly one of a registry ``column`` and another ``indicator`` of
    the framework (a numeric one)."""
    den = ind.pipeline.denominate if ind.pipeline is not None else None
    if den is None:
        return []
    if (den.column is None) == (den.indicator is None):
        return [(loc, "分母须且只须给出 column（学校名册的列）或 indicator（另一指标）之一 / "
                      "give exactly one of column, indicator")]
    if den.indicator is not None:
        others = {i.id: i for i in fw.indicators}
        if den.indicator == ind.id:
            return [((*loc, "indicator"),
                     f"指标 {ind.id} 不能以自身为分母 / an indicator cannot be its own denominator")]
        if den.indicator not in others:
            return [((*loc, "indicator"), f"分母指标 {den.indicator} 不存在 / unknown indicator")]
        if others[den.indicator].data_type in LABEL_TYPES:
            return [((*loc, "indicator"), f"分母指标 {den.indicator} 不是数值型 / the denominator must be numeric")]
    return []


def _goalpost_problems(spec: Pipeline, loc: tuple) -> list[tuple[tuple, str]]:
    """``goalposts`` go with ``normalise: goalposts`` (and only with it), without
    ``normalise_by``; ``lower < upper``; on a log scale ``lower > 0``."""
    gp = spec.goalposts
    if (spec.normalise == "goalposts") != (gp is not None):
        return [((*loc, "goalposts"), "normalise: goalposts（按固定上下限标准化）须给出 goalposts: {lower, upper}，"
                                      "反之亦然 / goalposts and normalise: goalposts go together")]
    if gp is None:
        return []
    if spec.normalise_by is not None:
        return [((*loc, "normalise_by"), "固定上下限标准化不分组 / goalposts take no normalise_by")]
    if not gp.lower < gp.upper:
        return [((*loc, "goalposts"), f"下限 {gp.lower:g} 须小于上限 {gp.upper:g} / lower must be below upper")]
    if gp.log and gp.lower <= 0:
        return [((*loc, "goalposts", "lower"), f"取对数时下限须大于 0（现为 {gp.lower:g}） / "
                                               "a log scale needs lower > 0")]
    return []


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
