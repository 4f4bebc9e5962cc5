"""A published composite index expressed in the framework format: the Human Development Index.

UNDP, *Human Development Report 2020*, Technical notes: dimension indices by min-max against
fixed goalposts — life expectancy 20–85 years; expected years of schooling 0–18 and mean years
of schooling 0–15 (education index = their arithmetic mean); GNI per capita 100–75,000 (2017 PPP
$) on a log scale — and HDI = the geometric mean of the three dimension indices. The report
publishes (2019 data) Norway 0.957 and Niger 0.394.
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd
import pytest
import yaml

from evalkit.framework import parse_framework
from evalkit.scoring import score

HDI = textwrap.dedent(
    """
    id: hdi
    name: 人类发展指数
    name_en: Human Development Index
    version: "2020"
    years: [2019]
    total_points: 1
    precision: 3
    aggregate: {method: geometric_mean}
    areas:
      - id: H
        name: 健康
        points: 1
        indicators:
          - id: LE
            name: 出生时预期寿命
            unit: 岁
            data_type: number
            max_points: 1
            rule: {name: minmax, params: {lower: 20, upper: 85}}
      - id: E
        name: 教育
        points: 1
        aggregate: {method: weighted_mean, weights: {EYS: 1, MYS: 1}}
        indicators:
          - id: EYS
            name: 预期受教育年限
            unit: 年
            data_type: number
            max_points: 1
            rule: {name: minmax, params: {lower: 0, upper: 18}}
          - id: MYS
            name: 平均受教育年限
            unit: 年
            data_type: number
            max_points: 1
            rule: {name: minmax, params: {lower: 0, upper: 15}}
      - id: I
        name: 收入
        points: 1
        indicators:
          - id: GNI
            name: 人均国民总收入
            unit: 美元
            data_type: number
            max_points: 1
            rule: {name: minmax, params: {lower: 100, upper: 75000, log: true}}
    grades:
      - {name: 极高, min: 0.8}
      - {name: 高, min: 0.7, max: 0.8}
      - {name: 中, min: 0.55, max: 0.7}
      - {name: 低, min: 0, max: 0.55}
    """
)

COUNTRIES = {
    # LE, EYS, MYS, GNI per capita (HDR 2020, table 1)
    "NOR": (82.4, 18.1, 12.9, 66494),
    "NER": (62.4, 6.5, 2.1, 1201),
}


def hdi_by_hand(le: float, eys: float, mys: float, gni: float) -> float:
    health = (le - 20) / (85 - 20)
    education = (min(eys, 18) / 18 + mys / 15) / 2
    income = (math.log(gni) - math.log(100)) / (math.log(75000) - math.log(100))
    return (health * education * income) ** (1 / 3)


@pytest.fixture(scope="module")
def results():
    fw = parse_framework(yaml.safe_load(HDI))
    rows = [
        dict(school_id=code, year=2019, indicator_id=ind, value=v)
        for code, values in COUNTRIES.items()
        for ind, v in zip(("LE", "EYS", "MYS", "GNI"), values, strict=True)
    ]
    return score(pd.DataFrame(rows), fw)


def test_hdi_matches_the_published_values(results):
    got = results.schools.set_index("school_id")["total"]
    assert got["NOR"] == 0.957
    assert got["NER"] == 0.394


def test_hdi_matches_the_formula_worked_independently(results):
    got = results.schools.set_index("school_id")["total"]
    for code, values in COUNTRIES.items():
        assert got[code] == round(hdi_by_hand(*values), 3)


def test_dimension_indices(results):
    areas = results.areas.set_index(["school_id", "area_id"])["points"]
    # Norway: health (82.4 − 20) / 65 = 0.96; education (1 + 12.9/15) / 2 = 0.93 (EYS capped at 18)
    assert areas["NOR", "H"] == 0.96
    assert areas["NOR", "E"] == 0.93
    # income: ln(66494/100) / ln(750) = 0.98181… → 0.982
    assert areas["NOR", "I"] == 0.982


def test_hdi_grades_and_ranks(results):
    s = results.schools.set_index("school_id")
    assert s.loc["NOR", ["grade", "rank"]].tolist() == ["极高", 1]
    assert s.loc["NER", ["grade", "rank"]].tolist() == ["低", 2]
