"""Scoring rules (``evalkit.framework.rules``) and composite-indicator methods (``evalkit.framework.methods``).

Every expected number below is worked out by hand from the rule's formula, in a comment next
to it. Missing input (NaN / None) must give missing points for every rule: the engine, not the
rule, applies the indicator's missing-data policy.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from evalkit.framework import methods, rules
from evalkit.framework.rules import RULES, Case, get_rule

NAN = float("nan")


def points(
    rule: str, values: list, max_points: float, higher_is_better: bool = True, **params: object
) -> list[float]:
    """Score ``values`` with ``rule`` and return plain floats (NaN for missing)."""
    r = get_rule(rule)
    dtype = object if any(isinstance(v, str) for v in values) else float
    series = pd.Series([NAN if v is None and dtype is float else v for v in values], dtype=dtype)
    out = r.score(series, max_points, r.Params(**params), higher_is_better)
    assert isinstance(out, pd.Series)
    assert out.index.equals(series.index)
    return [float(x) for x in out]


def same(got: list[float], expected: list[float]) -> bool:
    """Element-wise equality to 1e-9, NaN equal to NaN."""
    return len(got) == len(expected) and all(
        (math.isnan(g) and math.isnan(e)) or (not math.isnan(g) and abs(g - e) < 1e-9)
        for g, e in zip(got, expected, strict=True)
    )


# ---------------------------------------------------------------------------------------------
# score(): hand-worked values per rule
# (rule, params, max_points, higher_is_better, values, expected points)
# ---------------------------------------------------------------------------------------------

SCORE_CASES = [
    # met: max if value ≥ 0.5 else unmet_points
    ("met", {}, 3, True, [1, 0, 0.5, 0.49, -1], [3, 0, 3, 0, 0]),
    ("met", {"unmet_points": 1}, 3, True, [1, 0], [3, 1]),
    # count_to_target, target 4, max 2: 2·v/4, capped at 2, floor 0
    ("count_to_target", {"target": 4}, 2, True, [0, 2, 3, 4, 7, -1], [0, 1, 1.5, 2, 2, 0]),
    # shortfall_deduction, target 12, −0.5 per missing, max 4
    #   17 → 4 (above target); 12 → 4 (exactly); 10 → 4 − 0.5·2 = 3; 5 → 4 − 0.5·7 = 0.5;
    #   0 → 4 − 6 < 0 → 0; −2 → 4 − 7 → 0
    (
        "shortfall_deduction", {"target": 12, "per_missing": 0.5}, 4, True,
        [17, 12, 10, 5, 0, -2], [4, 4, 3, 0.5, 0, 0],
    ),
    # rate_threshold 90 %, −0.2 per percentage point, max 2
    #   0.85 → 5 pp → 2 − 1 = 1; 0.8 → 10 pp → 0; 0.5 → 40 pp → 0; −0.1 → 0
    (
        "rate_threshold", {"threshold": 0.9, "per_point": 0.2}, 2, True,
        [1.0, 0.9, 0.85, 0.8, 0.5, -0.1], [2, 2, 1, 0, 0, 0],
    ),
    # E3: 80 %, −0.1 per point, max 4: 0.75 → 5 pp → 3.5; 0.333 → 46.7 pp → 4 − 4.67 → 0
    ("rate_threshold", {"threshold": 0.8, "per_point": 0.1}, 4, True, [0.75, 0.333], [3.5, 0]),
    # deduction −0.5 each, max 1, floor 0: 1 → 0.5; 2 → 0; 3 → 0; −1 counts as none → 1
    ("deduction", {"per_occurrence": 0.5}, 1, True, [0, 1, 2, 3, -1], [1, 0.5, 0, 0, 1]),
    # deduction by kind (value = Σ weight × n already): warning + violation = 1 + 2 = 3 → 4 − 3 = 1;
    # 1 warning + 2 violations = 5 → 0.  per_occurrence is ignored once weights are given.
    (
        "deduction", {"weights": {"warning": 1, "violation": 2}, "per_occurrence": 3}, 4, True,
        [0, 3, 5], [4, 1, 0],
    ),
    # points_per_occurrence 0.5 each (X3), cap 1.5: 3 → 1.5; 4 → 2 → 1.5; −1 → 0
    ("points_per_occurrence", {"points_each": 0.5}, 1.5, True, [0, 1, 3, 4, -1], [0, 0.5, 1.5, 1.5, 0]),
    # by kind (C7): 1 province + 1 city = 1.5 + 1 = 2.5; 2 province + 1 city = 4 → cap 3
    (
        "points_per_occurrence", {"weights": {"province": 1.5, "city": 1}, "points_each": 9}, 3, True,
        [2.5, 4], [2.5, 3],
    ),
    # bands ≥1 → 1, ≥2 → 2 (B6): below the lowest band 0; the band's min is inclusive
    (
        "bands", {"bands": [{"min": 1, "points": 1}, {"min": 2, "points": 2}]}, 2, True,
        [0, 0.5, 1, 1.5, 2, 9, -1], [0, 0, 1, 1, 2, 2, 0],
    ),
    # a band worth more than the indicator's max is capped at max
    ("bands", {"bands": [{"min": 1, "points": 1}, {"min": 2, "points": 5}]}, 3, True, [2], [3]),
    # rating, default scale 100/75/50/0 %, max 4; Chinese labels too
    (
        "rating", {}, 4, True,
        ["A", "B", "C", "D", "好", "较好", "一般", "差"], [4, 3, 2, 0, 4, 3, 2, 0],
    ),
    # a custom scale: B = 80 % of 4 = 3.2; an unknown label is not a score → missing
    ("rating", {"scale": {"A": 1, "B": 0.8, "C": 0.6, "D": 0.2}}, 4, True, ["B", "D", "E"], [3.2, 0.8, NAN]),
    # level_points (A7): province 2, city 1.5, county 1, none 0; national is not listed and takes
    # the nearest listed level below it (province, 2); a label that is no level → missing
    (
        "level_points", {"levels": {"province": 2, "city": 1.5, "county": 1, "none": 0}}, 2, True,
        ["province", "city", "county", "none", "national", "school"], [2, 1.5, 1, 0, 2, NAN],
    ),
    # bonus X1: national 3, province 2, city 1, capped at the item's 2.5; county and none earn 0
    (
        "level_points", {"levels": {"national": 3, "province": 2, "city": 1}}, 2.5, True,
        ["national", "province", "county", "none"], [2.5, 2, 0, 0],
    ),
    # survey_scaled out of 100, max 2: 85 → 1.7; 120 → capped 2; −5 → 0
    ("survey_scaled", {"scale_max": 100}, 2, True, [0, 85, 100, 120, -5], [0, 1.7, 2, 2, 0]),
    # out of 5, max 4: 4.5 → 4 × 0.9 = 3.6
    ("survey_scaled", {"scale_max": 5}, 4, True, [4.5], [3.6]),
    # ratio_times_max, max 4: 0.85 → 3.4; 1.2 → 4; −0.1 → 0
    ("ratio_times_max", {}, 4, True, [0, 0.85, 1, 1.2, -0.1], [0, 3.4, 4, 4, 0]),
    # direct, max 4: clip(value, 0, 4)
    ("direct", {}, 4, True, [0, 2.5, 4, 6, -1], [0, 2.5, 4, 4, 0]),
    # pipeline: the value is carried as is (points come from the indicator's pipeline later)
    ("pipeline", {}, 4, True, [0, 2.5, 60, -1], [0, 2.5, 60, -1]),
    # minmax goalposts 20–85, max 10: 52.5 → 10 × 32.5 / 65 = 5; beyond the goalposts → 0 / 10
    ("minmax", {"lower": 20, "upper": 85}, 10, True, [20, 52.5, 85, 100, 10], [0, 5, 10, 10, 0]),
    # uncapped: 100 → 10 × 80 / 65; 7 → 10 × (−13 / 65) = −2
    ("minmax", {"lower": 20, "upper": 85, "cap": False}, 10, True, [100, 7], [10 * 80 / 65, -2]),
    # lower is better: 10 × (1 − x')
    ("minmax", {"lower": 20, "upper": 85}, 10, False, [20, 52.5, 85, 100, 10], [10, 5, 0, 0, 10]),
    # log goalposts 10–1000, max 4: 100 → (ln 100 − ln 10) / (ln 1000 − ln 10) = 1/2 → 2;
    # 0 and −3 lie below the lower goalpost → 0 (ln 0 = −∞, capped)
    (
        "minmax", {"lower": 10, "upper": 1000, "log": True}, 4, True,
        [10, 100, 1000, 5000, 0, -3], [0, 2, 4, 4, 0, 0],
    ),
    ("minmax", {"lower": 10, "upper": 1000, "log": True}, 4, False, [100, 0], [2, 4]),
    # zscore, max 2: [1, 2, 3] mean 2, population sd √(2/3); z(3) = 1 / √(2/3) = √1.5
    ("zscore", {}, 2, True, [1, 2, 3], [-2 * math.sqrt(1.5), 0, 2 * math.sqrt(1.5)]),
    ("zscore", {}, 2, False, [1, 2, 3], [2 * math.sqrt(1.5), 0, -2 * math.sqrt(1.5)]),
    # zero spread → 0 everywhere
    ("zscore", {}, 2, True, [5, 5, 5], [0, 0, 0]),
    # percentile, max 4: ranks 1, 2.5, 2.5, 4 → (r − 1) / 3 → 0, .5, .5, 1
    ("percentile", {}, 4, True, [10, 20, 20, 40], [0, 2, 2, 4]),
    ("percentile", {}, 4, False, [10, 20, 20, 40], [4, 2, 2, 0]),
    # a single school scores the top
    ("percentile", {}, 4, True, [7], [4]),
    # distance_to_target 8, max 2: 4 → 2 × 4/8 = 1; 12 → capped 2; −2 → 0
    ("distance_to_target", {"target": 8}, 2, True, [0, 4, 8, 12, -2], [0, 1, 2, 2, 0]),
    ("distance_to_target", {"target": 8, "cap": False}, 2, True, [12], [3]),
    # lower is better: target / x; x = 0 → full; 16 → 2 × 8/16 = 1; 4 → 8/4 = 2 → capped 2
    ("distance_to_target", {"target": 8}, 2, False, [0, 4, 8, 16], [2, 2, 2, 1]),
]


@pytest.mark.parametrize(
    ("rule", "params", "max_points", "higher", "values", "expected"),
    SCORE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(SCORE_CASES)],
)
def test_score(rule, params, max_points, higher, values, expected):
    got = points(rule, values, max_points, higher, **params)
    assert same(got, [float(e) for e in expected]), got


def test_every_registered_rule_has_score_cases():
    assert {c[0] for c in SCORE_CASES} == set(RULES)


# one valid parameter set per rule, for the cross-rule checks below
SAMPLE_PARAMS: dict[str, dict] = {
    "met": {},
    "count_to_target": {"target": 4},
    "shortfall_deduction": {"target": 12, "per_missing": 0.5},
    "rate_threshold": {"threshold": 0.9, "per_point": 0.2},
    "deduction": {"per_occurrence": 1},
    "points_per_occurrence": {"points_each": 1},
    "bands": {"bands": [{"min": 1, "points": 1}]},
    "rating": {},
    "level_points": {"levels": {"province": 2}},
    "survey_scaled": {},
    "ratio_times_max": {},
    "direct": {},
    "pipeline": {},
    "minmax": {"lower": 0, "upper": 10},
    "zscore": {},
    "percentile": {},
    "distance_to_target": {"target": 5},
}
SAMPLE_VALUES = {"rating": ["A", "C"], "level_points": ["province", "none"]}


def test_sample_params_cover_every_rule():
    assert set(SAMPLE_PARAMS) == set(RULES)


@pytest.mark.parametrize("rule", sorted(SAMPLE_PARAMS))
def test_missing_input_gives_missing_points(rule):
    values = SAMPLE_VALUES.get(rule, [3.0, 7.0])
    got = points(rule, [values[0], None, values[1]], 4, **SAMPLE_PARAMS[rule])
    assert math.isnan(got[1])
    assert not math.isnan(got[0]) and not math.isnan(got[2])


@pytest.mark.parametrize("rule", sorted(SAMPLE_PARAMS))
def test_all_missing_gives_all_missing(rule):
    got = points(rule, [None, None], 4, **SAMPLE_PARAMS[rule])
    assert all(math.isnan(x) for x in got)


@pytest.mark.parametrize("rule", sorted(n for n, r in RULES.items() if not r.population))
def test_max_points_may_vary_by_row(rule):
    """The engine scores every indicator sharing a rule in one call, with a Series of maxima:
    each row must score as if its own maximum were a scalar."""
    r = get_rule(rule)
    params = r.Params(**SAMPLE_PARAMS[rule])
    values = SAMPLE_VALUES.get(rule, [3.0, 7.0]) * 2
    series = pd.Series(values, index=[10, 11, 12, 13], dtype=object if r.labels else float)
    maxima = pd.Series([1.0, 2.0, 4.0, 0.5], index=series.index)
    together = r.score(series, maxima, params, True).tolist()
    one_by_one = [
        float(r.score(series.iloc[[i]], float(maxima.iloc[i]), params, True).iloc[0]) for i in range(4)
    ]
    assert same(together, one_by_one)


def test_population_rules_ignore_missing_schools():
    # percentile over [10, —, 30]: n = 2, so 10 → 0 and 30 → 1
    assert same(points("percentile", [10, None, 30], 1), [0, NAN, 1])
    # zscore over [1, —, 3]: mean 2, sd 1 → ∓1
    assert same(points("zscore", [1, None, 3], 1), [-1, NAN, 1])


def test_score_keeps_the_index():
    r = get_rule("count_to_target")
    s = pd.Series([2.0, 8.0], index=["001", "017"])
    out = r.score(s, 2.0, r.Params(target=4))
    assert out.to_dict() == {"001": 1.0, "017": 2.0}


def test_numeric_rules_accept_object_series():
    # canonical values arrive in an object column; numbers must still score
    r = get_rule("shortfall_deduction")
    s = pd.Series([10.0, None, 12], dtype=object)
    assert same(r.score(s, 4.0, r.Params(target=12, per_missing=0.5)).tolist(), [3, NAN, 4])


def test_rule_kinds():
    assert {n for n, r in RULES.items() if r.labels} == {"rating", "level_points"}
    assert {n for n, r in RULES.items() if r.population} == {"zscore", "percentile"}
    assert {n: r.item_weights for n, r in RULES.items() if r.item_weights} == {
        "deduction": "weights",
        "points_per_occurrence": "weights",
    }


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_documents_a_formula_and_a_title(rule):
    r = RULES[rule]
    assert r.name == rule
    # the formula itself, as ``points = …`` using the indicator's max (not any text with "=")
    formula = re.search(r"``points = ([^`]+)``", r.__doc__ or "")
    assert formula, f"{rule}: no ``points = …`` formula in the docstring"
    assert "max" in formula.group(1) or rule == "direct", formula.group(1)
    assert r.title and not r.title.isascii()


def test_registry():
    assert rules.rule_names() == sorted(RULES)
    with pytest.raises(KeyError, match="known rules: bands"):
        get_rule("shortfall")
    with pytest.raises(ValueError, match="registered twice"):
        rules.register(RULES["met"])


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "params", "field"),
    [
        ("shortfall_deduction", {"target": "twelve", "per_missing": 0.5}, "target"),
        ("shortfall_deduction", {"target": 12}, "per_missing"),
        ("shortfall_deduction", {"target": 0, "per_missing": 0.5}, "target"),
        ("count_to_target", {"target": -4}, "target"),
        ("rate_threshold", {"threshold": 90, "per_point": 0.2}, "threshold"),
        ("deduction", {"per_occurrence": 0}, "per_occurrence"),
        ("met", {"unmet": 1}, "unmet"),
        ("bands", {"bands": [{"min": 2, "points": 2}, {"min": 1, "points": 1}]}, "bands"),
        ("bands", {"bands": []}, "bands"),
        ("rating", {"scale": {"A": 100}}, "scale"),
        ("level_points", {"levels": {"provincial": 2}}, "levels"),
        ("survey_scaled", {"scale_max": 0}, "scale_max"),
        ("distance_to_target", {"target": 0}, "target"),
    ],
)
def test_bad_params_are_rejected(rule, params, field):
    with pytest.raises(ValidationError) as info:
        rules.validate_params(rule, params)
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    "params",
    [{"lower": 5, "upper": 5}, {"lower": 85, "upper": 20}, {"lower": 0, "upper": 100, "log": True}],
)
def test_minmax_goalposts_are_checked(params):
    with pytest.raises(ValidationError):
        rules.validate_params("minmax", params)


def test_params_defaults():
    assert rules.validate_params("deduction", {}).per_occurrence == 1.0
    assert rules.validate_params("survey_scaled", {}).scale_max == 100.0
    assert rules.validate_params("rating", {}).scale["较好"] == 0.75
    assert rules.validate_params("minmax", {"lower": 1, "upper": 2}).cap is True


# ---------------------------------------------------------------------------------------------
# explain(): exact Chinese sentences
# ---------------------------------------------------------------------------------------------


def case(name, value, value_text, pts, max_points, unit="", data_type="count") -> Case:
    return Case(
        name=name, unit=unit, data_type=data_type, value=value, value_text=value_text,
        points=pts, max_points=max_points,
    )


EXPLAIN_CASES = [
    (
        "met", {}, case("党费按时足额缴纳", 1.0, "是", 1, 1, data_type="yesno"),
        "党费按时足额缴纳已落实，得满分 1 分",
    ),
    (
        "met", {}, case("党费按时足额缴纳", 0.0, "否", 0, 1, data_type="yesno"),
        "党费按时足额缴纳未落实，得 0 分（满分 1 分）",
    ),
    (
        "met", {"unmet_points": 0.5}, case("劳动课", 0.0, "否", 0.5, 2, data_type="yesno"),
        "劳动课未落实，得 0.5 分（满分 2 分）",
    ),
    (
        "count_to_target", {"target": 4}, case("廉洁教育活动", 5.0, "5次", 3, 3, "次"),
        "廉洁教育活动 5次，达到 4次 要求，得满分 3 分",
    ),
    (
        "count_to_target", {"target": 4}, case("廉洁教育活动", 2.0, "2次", 1.5, 3, "次"),
        "廉洁教育活动 2次，未达到 4次 要求，按比例得 1.5 分（满分 3 分）",
    ),
    # a ratio target prints as a percentage (C6: 15 % of 30 % → 4 × 0.5 = 2)
    (
        "count_to_target", {"target": 0.3}, case("“四名工程”参训率", 0.15, "15%", 2, 4, "%", "ratio"),
        "“四名工程”参训率 15%，未达到 30% 要求，按比例得 2 分（满分 4 分）",
    ),
    (
        "shortfall_deduction", {"target": 12, "per_missing": 0.5},
        case("理论学习中心组学习", 17.0, "17次", 4, 4, "次"),
        "理论学习中心组学习 17次，达到 12次 要求，得满分 4 分",
    ),
    (
        "shortfall_deduction", {"target": 12, "per_missing": 0.5},
        case("理论学习中心组学习", 12.0, "12次", 4, 4, "次"),
        "理论学习中心组学习 12次，达到 12次 要求，得满分 4 分",
    ),
    # 9 of 12: 3 short × 0.5 = 1.5 → 2.5
    (
        "shortfall_deduction", {"target": 12, "per_missing": 0.5},
        case("理论学习中心组学习", 9.0, "9次", 2.5, 4, "次"),
        "理论学习中心组学习 9次，比要求的 12次 少 3次，每少 1次 扣 0.5 分，得 2.5 分（满分 4 分）",
    ),
    (
        "rate_threshold", {"threshold": 0.9, "per_point": 0.2},
        case("党员参学率", 0.95, "95%", 2, 2, "%", "ratio"),
        "党员参学率 95%，达到 90% 要求，得满分 2 分",
    ),
    (
        "rate_threshold", {"threshold": 0.9, "per_point": 0.2},
        case("党员参学率", 0.9, "90%", 2, 2, "%", "ratio"),
        "党员参学率 90%，达到 90% 要求，得满分 2 分",
    ),
    # 85 %: 5 points below × 0.2 = 1 → 1
    (
        "rate_threshold", {"threshold": 0.9, "per_point": 0.2},
        case("党员参学率", 0.85, "85%", 1, 2, "%", "ratio"),
        "党员参学率 85%，低于 90% 要求 5 个百分点，每个百分点扣 0.2 分，得 1 分（满分 2 分）",
    ),
    (
        "deduction", {"per_occurrence": 0.5}, case("意识形态阵地问题", 0.0, "0个", 1, 1, "个"),
        "意识形态阵地问题：未发现问题，得满分 1 分",
    ),
    (
        "deduction", {"per_occurrence": 0.5}, case("意识形态阵地问题", 1.0, "1个", 0.5, 1, "个"),
        "意识形态阵地问题 1个，每次扣 0.5 分，扣完为止，得 0.5 分（满分 1 分）",
    ),
    (
        "deduction", {"per_occurrence": 0.5}, case("意识形态阵地问题", 3.0, "3个", 0, 1, "个"),
        "意识形态阵地问题 3个，每次扣 0.5 分，扣完为止，得 0 分（满分 1 分）",
    ),
    (
        "deduction", {"weights": {"warning": 1, "violation": 2}},
        case("师德警示与违规", 3.0, "警示 1次、违规 1次", 1, 4, "次"),
        "师德警示与违规：警示 1次、违规 1次（警示每次扣 1 分、违规每次扣 2 分），"
        "扣完为止，得 1 分（满分 4 分）",
    ),
    (
        "points_per_occurrence", {"points_each": 1}, case("科技艺术体育读书节", 0.0, "0项", 0, 4, "项"),
        "科技艺术体育读书节：无，不得分（满分 4 分）",
    ),
    (
        "points_per_occurrence", {"points_each": 1}, case("科技艺术体育读书节", 3.0, "3项", 3, 4, "项"),
        "科技艺术体育读书节：3项（每项 1 分，最高 4 分），得 3 分（满分 4 分）",
    ),
    # no unit → "每项"
    (
        "points_per_occurrence", {"points_each": 0.5}, case("媒体报道", 4.0, "4", 1.5, 1.5),
        "媒体报道：4（每项 0.5 分，最高 1.5 分），得满分 1.5 分",
    ),
    (
        "points_per_occurrence", {"weights": {"province": 1.5, "city": 1}},
        case("新增省市级教学能手", 2.5, "省级 1人、市级 1人", 2.5, 3, "人"),
        "新增省市级教学能手：省级 1人、市级 1人（省级每项 1.5 分、市级每项 1 分，最高 3 分），"
        "得 2.5 分（满分 3 分）",
    ),
    (
        "bands", {"bands": [{"min": 1, "points": 1}, {"min": 2, "points": 2}]},
        case("入党积极分子培养", 0.0, "0人", 0, 2, "人"),
        "入党积极分子培养 0人，未达到最低档 1人，得 0 分（满分 2 分）",
    ),
    (
        "bands", {"bands": [{"min": 1, "points": 1}, {"min": 2, "points": 2}]},
        case("入党积极分子培养", 1.0, "1人", 1, 2, "人"),
        "入党积极分子培养 1人，达到“1人及以上”档，得 1 分（满分 2 分）",
    ),
    (
        "bands", {"bands": [{"min": 1, "points": 1}, {"min": 2, "points": 2}]},
        case("入党积极分子培养", 3.0, "3人", 2, 2, "人"),
        "入党积极分子培养 3人，达到“2人及以上”档，得满分 2 分",
    ),
    (
        "rating", {}, case("基层组织标准化规范化建设", "A", "好", 4, 4, data_type="rating"),
        "基层组织标准化规范化建设评定为“好”，按 100% 计，得满分 4 分",
    ),
    (
        "rating", {}, case("基层组织标准化规范化建设", "B", "较好", 3, 4, data_type="rating"),
        "基层组织标准化规范化建设评定为“较好”，按 75% 计，得 3 分（满分 4 分）",
    ),
    (
        "rating", {}, case("基层组织标准化规范化建设", "C", "一般", 2, 4, data_type="rating"),
        "基层组织标准化规范化建设评定为“一般”，按 50% 计，得 2 分（满分 4 分）",
    ),
    (
        "rating", {}, case("基层组织标准化规范化建设", "差", "差", 0, 4, data_type="rating"),
        "基层组织标准化规范化建设评定为“差”，按 0% 计，得 0 分（满分 4 分）",
    ),
    # several raters averaged: the value is a share, not a label
    (
        "rating", {}, case("德育“333”机制落实", 0.8, "平均 80%", 2.4, 3, data_type="rating"),
        "德育“333”机制落实：平均 80%，得 2.4 分（满分 3 分）",
    ),
    (
        "level_points", {"levels": {"province": 2, "city": 1.5, "county": 1, "none": 0}},
        case("立德树人示范校与特色校", "province", "省级", 2, 2, data_type="level"),
        "立德树人示范校与特色校：省级，得满分 2 分",
    ),
    (
        "level_points", {"levels": {"province": 2, "city": 1.5, "county": 1, "none": 0}},
        case("立德树人示范校与特色校", "city", "市级", 1.5, 2, data_type="level"),
        "立德树人示范校与特色校：市级，得 1.5 分（满分 2 分）",
    ),
    (
        "level_points", {"levels": {"province": 2, "city": 1.5, "county": 1, "none": 0}},
        case("立德树人示范校与特色校", "none", "无", 0, 2, data_type="level"),
        "立德树人示范校与特色校：无，不得分（满分 2 分）",
    ),
    (
        "survey_scaled", {"scale_max": 100}, case("家长满意度", 85.0, "85分", 1.7, 2, "分", "score"),
        "家长满意度 85 分（满分 100），折算得 1.7 分（满分 2 分）",
    ),
    (
        "survey_scaled", {"scale_max": 100}, case("家长满意度", 100.0, "100分", 2, 2, "分", "score"),
        "家长满意度 100 分（满分 100），折算得满分 2 分",
    ),
    (
        "ratio_times_max", {}, case("三会一课完成率", 1.0, "100%", 4, 4, "%", "ratio"),
        "三会一课完成率 100%，得满分 4 分",
    ),
    (
        "ratio_times_max", {}, case("三会一课完成率", 0.85, "85%", 3.4, 4, "%", "ratio"),
        "三会一课完成率 85%，按比例得 3.4 分（满分 4 分）",
    ),
    (
        "direct", {}, case("综合评价", 2.5, "2.5分", 2.5, 4, "分", "score"),
        "综合评价：评定 2.5 分，得 2.5 分（满分 4 分）",
    ),
    ("direct", {}, case("综合评价", 4.0, "4分", 4, 4, "分", "score"), "综合评价：评定 4 分，得满分 4 分"),
    ("pipeline", {}, case("活动次数", 12.0, "12次", 12, 20, "次"), "活动次数 12次，按数据处理步骤计分"),
    (
        "minmax", {"lower": 20, "upper": 85}, case("测评得分", 52.5, "52.5分", 5, 10, "分", "score"),
        "测评得分 52.5分，按目标值 20–85 标准化，得 5 分（满分 10 分）",
    ),
    (
        "minmax", {"lower": 10, "upper": 1000, "log": True},
        case("经费", 100.0, "100元", 2, 4, "元", "number"),
        "经费 100元，取对数后按目标值 10–1000 标准化，得 2 分（满分 4 分）",
    ),
    ("zscore", {}, case("活动", 3.0, "3次", 1.2247449, 2, "次"), "活动 3次，标准分折算得 1.225"),
    ("zscore", {}, case("活动", 1.0, "1次", -1.2247449, 2, "次"), "活动 1次，标准分折算得 -1.225"),
    ("percentile", {}, case("活动", 40.0, "40次", 4, 4, "次"), "活动 40次，按全县百分位得满分 4 分"),
    ("percentile", {}, case("活动", 20.0, "20次", 2, 4, "次"), "活动 20次，按全县百分位得 2 分（满分 4 分）"),
    (
        "distance_to_target", {"target": 8}, case("研学活动", 4.0, "4次", 1, 2, "次"),
        "研学活动 4次，目标 8次，得 1 分（满分 2 分）",
    ),
    (
        "distance_to_target", {"target": 0.8}, case("参与率", 0.8, "80%", 2, 2, "%", "ratio"),
        "参与率 80%，目标 80%，得满分 2 分",
    ),
]


@pytest.mark.parametrize(
    ("rule", "params", "the_case", "expected"),
    EXPLAIN_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(EXPLAIN_CASES)],
)
def test_explain(rule, params, the_case, expected):
    r = get_rule(rule)
    assert r.explain(the_case, r.Params(**params)) == expected


def test_every_rule_has_explain_cases():
    assert {c[0] for c in EXPLAIN_CASES} == set(RULES)


def test_explain_agrees_with_score_for_the_shipped_a1():
    """The brief's example end to end: A1, 17 sessions against 12 → full 4 points."""
    r = get_rule("shortfall_deduction")
    p = r.Params(target=12, per_missing=0.5)
    pts = r.score(pd.Series([17.0, 9.0]), 4.0, p).tolist()
    assert pts == [4.0, 2.5]
    sentences = [
        r.explain(case("理论学习中心组学习", v, f"{v:g}次", pt, 4.0, "次"), p)
        for v, pt in zip([17.0, 9.0], pts, strict=True)
    ]
    assert sentences == [
        "理论学习中心组学习 17次，达到 12次 要求，得满分 4 分",
        "理论学习中心组学习 9次，比要求的 12次 少 3次，每少 1次 扣 0.5 分，得 2.5 分（满分 4 分）",
    ]


def test_case_amount_and_got():
    c = case("x", 1.0, "1次", 2.25, 4, "次")
    assert c.amount(12) == "12次"
    assert c.got == "得 2.25 分（满分 4 分）"
    r = case("x", 0.5, "50%", 4 - 1e-12, 4, "%", "ratio")
    assert r.amount(0.855) == "85.5%"
    assert r.got == "得满分 4 分"  # within 1e-9 of max counts as full marks


# ---------------------------------------------------------------------------------------------
# methods
# ---------------------------------------------------------------------------------------------


def test_weighted_arithmetic_mean_with_missing_and_zero():
    frame = pd.DataFrame({"a": [0.5, NAN, 0.0, NAN], "b": [1.0, 0.8, 1.0, NAN]})
    # equal weights: (0.5 + 1) / 2; b alone; (0 + 1) / 2; nothing → missing
    assert same(methods.weighted_arithmetic_mean(frame).tolist(), [0.75, 0.8, 0.5, NAN])
    # a:3, b:1: (3·0.5 + 1) / 4 = 0.625; b alone re-normalised → 0.8; (0 + 1) / 4 = 0.25
    got = methods.weighted_arithmetic_mean(frame, {"a": 3, "b": 1}).tolist()
    assert same(got, [0.625, 0.8, 0.25, NAN])
    # a column without a weight counts 0: row 1 has only b, weight 0 → missing
    assert same(methods.weighted_arithmetic_mean(frame, {"a": 1}).tolist(), [0.5, NAN, 0.0, NAN])


def test_weighted_geometric_mean_with_missing_and_zero():
    frame = pd.DataFrame({"a": [0.25, NAN, 0.0, 0.5, NAN], "b": [1.0, 0.64, 1.0, NAN, NAN]})
    # √(0.25·1) = 0.5; b alone 0.64; a zero → 0 (no compensation); a alone 0.5; nothing → missing
    assert same(methods.weighted_geometric_mean(frame).tolist(), [0.5, 0.64, 0.0, 0.5, NAN])
    # a:1, b:3: 0.25^(1/4) · 1^(3/4) = √0.5
    got = methods.weighted_geometric_mean(frame, {"a": 1, "b": 3}).tolist()
    assert same(got, [math.sqrt(0.5), 0.64, 0.0, 0.5, NAN])
    # a zero in a column of weight 0 does not count: row 2 → 1^1 = 1
    got = methods.weighted_geometric_mean(frame, {"a": 0, "b": 1}).tolist()
    assert same(got, [1.0, 0.64, 1.0, NAN, NAN])


def test_geometric_mean_is_at_most_arithmetic_mean():
    frame = pd.DataFrame({"a": [0.2, 0.9, 0.5], "b": [0.8, 0.3, 0.5]})
    geo = methods.weighted_geometric_mean(frame)
    ari = methods.weighted_arithmetic_mean(frame)
    # 0.2 & 0.8: √0.16 = 0.4 ≤ 0.5; equal parts: both 0.5
    assert same(geo.tolist(), [0.4, math.sqrt(0.27), 0.5])
    assert (geo <= ari + 1e-12).all()


def test_minmax_goalposts():
    s = pd.Series([20.0, 52.5, 85.0, 100.0, 10.0, NAN])
    assert same(methods.minmax(s, 20, 85).tolist(), [0, 0.5, 1, 1, 0, NAN])
    # uncapped: 100 → 80/65, 10 → −10/65
    assert same(methods.minmax(s, 20, 85, cap=False).tolist(), [0, 0.5, 1, 80 / 65, -10 / 65, NAN])
    assert same(methods.minmax(s, 20, 85, higher_is_better=False).tolist(), [1, 0.5, 0, 0, 1, NAN])
    # log: 100 between 10 and 1000 → 0.5; 10 000 → capped 1
    logs = methods.minmax(pd.Series([10.0, 100.0, 10_000.0]), 10, 1000, log=True)
    assert same(logs.tolist(), [0, 0.5, 1])
    # uncapped log: ln(10 000 / 10) / ln(1000 / 10) = 3 / 2
    logs = methods.minmax(pd.Series([10_000.0]), 10, 1000, log=True, cap=False)
    assert same(logs.tolist(), [1.5])


def test_percentile_ties_and_missing():
    s = pd.Series([3.0, 1.0, 3.0, 2.0, NAN])
    # ranks 3.5, 1, 3.5, 2 of n = 4 → (r − 1) / 3
    assert same(methods.percentile_rank(s).tolist(), [2.5 / 3, 0, 2.5 / 3, 1 / 3, NAN])
    # descending: 3s rank 1.5, 2 → 3, 1 → 4
    got = methods.percentile_rank(s, higher_is_better=False).tolist()
    assert same(got, [0.5 / 3, 1, 0.5 / 3, 2 / 3, NAN])
    # all tied → everyone in the middle
    assert same(methods.percentile_rank(pd.Series([5.0, 5.0, 5.0])).tolist(), [0.5, 0.5, 0.5])
    assert same(methods.percentile_rank(pd.Series([NAN, 4.0])).tolist(), [NAN, 1.0])


def test_zscore_zero_spread_and_missing():
    assert same(methods.zscore(pd.Series([2.0, 2.0, NAN])).tolist(), [0, 0, NAN])
    # [2, 4, 6, 8]: mean 5, population sd √5
    z = methods.zscore(pd.Series([2.0, 4.0, 6.0, 8.0])).tolist()
    assert same(z, [-3 / math.sqrt(5), -1 / math.sqrt(5), 1 / math.sqrt(5), 3 / math.sqrt(5)])
    assert same(methods.zscore(pd.Series([1.0, 3.0]), higher_is_better=False).tolist(), [1, -1])
    assert same(methods.zscore(pd.Series([NAN, NAN])).tolist(), [NAN, NAN])


def test_distance_to_target():
    s = pd.Series([0.0, 5.0, 10.0, 20.0, NAN])
    assert same(methods.distance_to_target(s, 10).tolist(), [0, 0.5, 1, 1, NAN])
    assert same(methods.distance_to_target(s, 10, cap=False).tolist(), [0, 0.5, 1, 2, NAN])
    # lower is better: 10 / x, with x = 0 taken as full attainment
    assert same(methods.distance_to_target(s, 10, higher_is_better=False).tolist(), [1, 1, 1, 0.5, NAN])
    got = methods.distance_to_target(s, 10, higher_is_better=False, cap=False).tolist()
    assert same(got, [1, 2, 1, 0.5, NAN])


def test_methods_do_not_modify_their_input():
    s = pd.Series([1.0, np.nan, 3.0])
    frame = pd.DataFrame({"a": [0.0, 0.5]})
    before_s, before_f = s.copy(), frame.copy()
    methods.minmax(s, 0, 10, log=False)
    methods.zscore(s)
    methods.percentile_rank(s)
    methods.weighted_geometric_mean(frame)
    pd.testing.assert_series_equal(s, before_s)
    pd.testing.assert_frame_equal(frame, before_f)
