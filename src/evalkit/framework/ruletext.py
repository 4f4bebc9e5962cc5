"""A scoring rule in plain Chinese, for the people who fill in data and read reports.

Template header comments, the template's indicator table and anything a report shows about a
rule use :func:`describe_rule`; raw parameter names (``min 1, points 1``, ``达标线 0.9``) never
reach an evaluator.

>>> from evalkit.framework import RuleSpec
>>> describe_rule(RuleSpec(name="rate_threshold", params={"threshold": 0.9, "per_point": 0.2}), 2, "%")
'达到 90% 及以上得满分 2 分；低于 90% 时每低 1 个百分点扣 0.2 分，扣完为止'
>>> describe_rule(RuleSpec(name="bands", params={"bands": [{"min": 1, "points": 1}, {"min": 2, "points": 2}]}), 2, "项")
'达到 1 项得 1 分，2 项及以上得 2 分；不足 1 项不得分'
>>> describe_rule(RuleSpec(name="shortfall_deduction", params={"target": 12, "per_missing": 0.5}), 4, "次")
'应达到 12 次，每少 1 次扣 0.5 分，扣完为止（满分 4 分）'
>>> describe_rule(RuleSpec(name="rating"), 3, "")
'按等级评定：好得满分 3 分，较好得 75%，一般得 50%，差不得分'
"""

from __future__ import annotations

from typing import Any

from evalkit.textfmt import ITEM_NAMES, LEVEL_NAMES, RATING_NAMES, num, pct

__all__ = ["describe_rule"]


def _amount(x: float, unit: str) -> str:
    """``12 次``, ``90%`` (a ratio unit), ``3`` (no unit)."""
    if unit == "%":
        return pct(x, 0) if float(x) <= 1 else f"{num(x)}%"
    return f"{num(x)} {unit}".rstrip() if unit else num(x)


def _share(x: float) -> str:
    return pct(x, 0)


def describe_rule(rule: Any, max_points: float | None = None, unit: str = "") -> str:
    """``rule`` (a :class:`~evalkit.framework.RuleSpec`) as one plain Chinese sentence, with the
    item's maximum points and unit where they help. Unknown rules give their Chinese title."""
    if rule is None:
        return ""
    p = rule.parsed
    name = rule.name
    full = f"满分 {num(max_points)} 分" if max_points is not None else "满分"
    u = unit or ""
    if name == "met":
        unmet = float(getattr(p, "unmet_points", 0.0))
        return f"达到要求得{full}，" + (f"未达到得 {num(unmet)} 分" if unmet else "未达到不得分")
    if name == "count_to_target":
        return f"达到 {_amount(p.target, u)}得{full}，不足的按完成比例得分"
    if name == "shortfall_deduction":
        step = f"1 {u}".rstrip() if u and u != "%" else "1"
        return f"应达到 {_amount(p.target, u)}，每少 {step}扣 {num(p.per_missing)} 分，扣完为止（{full}）"
    if name == "rate_threshold":
        line = _share(p.threshold)
        return (f"达到 {line} 及以上得{full}；低于 {line} 时每低 1 个百分点扣 {num(p.per_point)} 分，扣完为止")
    if name == "deduction":
        if p.weights:
            rates = "、".join(f"{ITEM_NAMES.get(k, k)}每次扣 {num(w)} 分" for k, w in p.weights.items())
        else:
            rates = f"每{u if u and u != '%' else '次'}扣 {num(p.per_occurrence)} 分"
        return f"{full}，{rates}，扣完为止"
    if name == "points_per_occurrence":
        if p.weights:
            rates = "、".join(f"{ITEM_NAMES.get(k, k)}每项得 {num(w)} 分" for k, w in p.weights.items())
        else:
            rates = f"每{u if u and u != '%' else '项'}得 {num(p.points_each)} 分"
        top = f"，最高 {num(max_points)} 分" if max_points is not None else ""
        return f"{rates}{top}"
    if name == "bands":
        bands = list(p.bands)
        steps = [f"{_amount(b.min, u)}{'及以上' if i == len(bands) - 1 else ''}得 {num(b.points)} 分"
                 for i, b in enumerate(bands)]
        return f"达到 {'，'.join(steps)}；不足 {_amount(bands[0].min, u)}不得分".replace(" 不得分", "不得分")
    if name == "rating":
        seen, parts = set(), []
        for key, share in p.scale.items():
            label = RATING_NAMES.get(key, key)
            if label not in seen:
                seen.add(label)
                parts.append(f"{label}得{full}" if share >= 1 else f"{label}不得分" if share <= 0
                             else f"{label}得 {_share(share)}")
        return "按等级评定：" + "，".join(parts)
    if name == "level_points":
        parts = [f"{LEVEL_NAMES.get(k, k)}{' 不得分' if v <= 0 else f'得 {num(v)} 分'}".replace(" 不得分", "不得分")
                 for k, v in p.levels.items()]
        top = f"（最高 {num(max_points)} 分）" if max_points is not None else ""
        return "按荣誉级别计分：" + "，".join(parts) + top
    if name == "survey_scaled":
        return f"测评得分（满分 {num(p.scale_max)}）按比例折算为本项分值（{full}）"
    if name == "ratio_times_max":
        example = f"（如 80% 得 {num(0.8 * max_points)} 分）" if max_points is not None else ""
        return f"按比率折算：{full}乘以比率{example}"
    if name == "direct":
        return f"直接填写得分（0 至 {num(max_points)} 分）" if max_points is not None else "直接填写得分"
    if name == "minmax":
        return (f"{_amount(p.lower, u)}及以下不得分，{_amount(p.upper, u)}及以上得{full}，之间按比例得分")
    if name == "distance_to_target":
        return f"达到目标 {_amount(p.target, u)}得{full}，未达到的按比例得分"
    if name == "zscore":
        return "按全县标准分计分"
    if name == "percentile":
        return "按在全县的百分位计分"
    return rule.rule.title
