"""The registry keeps every extra column under its header (issue 21): 片区, 城乡, 学段 are common
grouping columns; a framework's pipeline can impute by them and the county summary's breakdown
(``analysis.group_comparison``) can group by them, the registry travelling with the scores."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml

from evalkit.analysis import group_comparison
from evalkit.framework import parse_framework
from evalkit.intake.registry import load_registry, read_registry
from evalkit.scoring import score

SCHOOLS = [f"S{i:02d}" for i in range(1, 13)]
TYPES = ["小学"] * 6 + ["初中"] * 6
ZONES = ["东片"] * 6 + ["西片"] * 6  # the same groups as the school types, under another column
X1 = [10, 12, 11, None, 13, 14, 20, 22, None, 21, 23, 300]

FRAMEWORK = textwrap.dedent("""
    id: zones
    name: 片区示例
    version: "1"
    years: [2025]
    total_points: 30
    areas:
      - id: P
        name: 支柱一
        points: 30
        indicators:
          - id: X1
            name: 活动次数
            unit: 次
            data_type: count
            max_points: 20
            rule: {name: pipeline}
            pipeline: {impute: mean, impute_by: GROUP, normalise: minmax}
          - id: X2
            name: 参与人数
            data_type: number
            max_points: 10
            rule: {name: pipeline}
            pipeline: {normalise: minmax}
    grades:
      - {name: 好, min: 20}
      - {name: 差, min: 0, max: 20}
""")


def _framework(group: str):
    text = FRAMEWORK.replace("GROUP", group)
    return parse_framework(yaml.safe_load(text), "zones.yaml", text)


def _observations() -> pd.DataFrame:
    rows = []
    for i, school in enumerate(SCHOOLS, start=1):
        for ind, v in {"X1": X1[i - 1], "X2": float(i)}.items():
            if v is not None:
                rows.append(dict(school_id=school, year=2025, indicator_id=ind, item="", source="inspection",
                                 rater="", value=float(v), evidence=""))
    return pd.DataFrame(rows)


@pytest.fixture
def registry_file(tmp_path):
    lines = ["学校编号,学校名称,学校类型,学段,片区,城乡"]
    lines += [f"{s},{s}学校,{t},{'小学' if t == '小学' else '初中'},{z},{'城区' if i % 2 else '乡村'}"
              for i, (s, t, z) in enumerate(zip(SCHOOLS, TYPES, ZONES, strict=True))]
    path = tmp_path / "名册.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_extra_column_is_kept_under_its_header(registry_file):
    frame, issues = read_registry(registry_file)
    assert frame.attrs["extra_columns"] == ["学段", "片区", "城乡"]
    first = frame[["school_id", "school_type", "学段", "片区", "城乡"]].iloc[0].tolist()
    assert first == ["S01", "小学", "小学", "东片", "乡村"]
    assert frame["片区"].tolist() == ZONES
    # 学段 is another name for 学校类型: read as 学校类型 once, kept as an extra column, said so
    said = [i for i in issues if i.value == "学段"]
    assert len(said) == 1 and said[0].severity == "warning" and said[0].cell == "D1"
    assert "“学段”作为附加列保留" in said[0].message
    assert not any(i.is_error for i in issues)


def test_impute_by_an_extra_column_scores_as_by_the_same_groups_under_school_type(registry_file):
    registry = load_registry(registry_file)
    by_zone = score(_observations(), _framework("片区"), registry)
    by_type = score(_observations(), _framework("school_type"), registry)
    assert by_zone.schools["total"].tolist() == by_type.schools["total"].tolist()
    # by hand: S04 takes the mean of 东片's other X1 values (10, 12, 11, 13, 14 → 12); S09 that of
    # 西片's (20, 22, 21, 23, 300 → 77.2); X1 points = 20 × (x − min) / (max − min) over 12 schools
    x1 = np.array([10, 12, 11, 12, 13, 14, 20, 22, 77.2, 21, 23, 300])
    expected = 20 * (x1 - x1.min()) / (x1.max() - x1.min())
    got = by_zone.indicators.query("indicator_id == 'X1'").set_index("school_id")["points"]
    assert got.loc[SCHOOLS].tolist() == pytest.approx(np.round(expected, 2).tolist(), abs=0.051)
    # the registry, extra columns included, travels with the scores
    assert by_zone.extra["registry"]["片区"].tolist() == ZONES


def test_the_county_breakdown_groups_by_an_extra_column(registry_file):
    results = score(_observations(), _framework("片区"), load_registry(registry_file))
    zones = group_comparison(results, 2025, by="片区").set_index("group")
    types = group_comparison(results, 2025, by="school_type").set_index("group")
    assert zones["n"].to_dict() == {"东片": 6, "西片": 6}
    assert zones.loc["东片", "mean_total"] == pytest.approx(types.loc["小学", "mean_total"])
    totals = results.schools.set_index("school_id")["total"]
    assert zones.loc["西片", "mean_total"] == pytest.approx(totals.loc[SCHOOLS[6:]].mean())


def test_a_framework_grouping_by_a_column_no_registry_has_says_which_columns_there_are(registry_file):
    with pytest.raises(ValueError, match="按“学区”分组，但学校名册没有该列"):
        score(_observations(), _framework("学区"), load_registry(registry_file))
