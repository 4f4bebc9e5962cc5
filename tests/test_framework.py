"""The framework file: the shipped framework, validation that reports every problem with its
YAML path and line, YAML syntax errors, and resolving a framework by name or path."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from evalkit.framework import (
    DEFAULT_FRAMEWORK,
    FrameworkError,
    builtin_framework_path,
    load_framework,
    parse_framework,
    resolve_framework_path,
)
from evalkit.io.yaml_paths import Problem, format_path

SHIPPED = builtin_framework_path()
DOC = Path(__file__).resolve().parents[1] / "docs" / "framework-format.md"


@pytest.fixture(scope="module")
def shipped_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def shipped_data(shipped_text: str) -> dict:
    return yaml.safe_load(shipped_text)


def problems_of(data: object) -> list[tuple[str, str]]:
    """``(path, message)`` of every problem ``parse_framework`` finds (none → ``[]``)."""
    try:
        parse_framework(data)
    except FrameworkError as err:
        return [(p.path, p.message) for p in err.problems]
    return []


def line_of(text: str, needle: str) -> int:
    """1-based line of the single line of ``text`` that contains ``needle``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# ---------------------------------------------------------------------------------------------
# The shipped framework
# ---------------------------------------------------------------------------------------------


def test_shipped_framework_loads():
    fw = load_framework()
    assert fw.id == DEFAULT_FRAMEWORK == "shiquan-party-building"
    assert fw.total_points == 100
    assert len(fw.indicators) == 37
    assert [a.id for a in fw.areas] == ["A", "B", "C", "D", "E"]
    assert [a.name for a in fw.areas] == ["思想强基", "夯基垒台", "提质强能", "清廉教育", "成长护航"]
    assert [a.points for a in fw.areas] == [20, 20, 25, 15, 20]
    assert [len(a.indicators) for a in fw.areas] == [8, 7, 9, 6, 7]
    for area in fw.areas:
        assert sum(i.max_points for i in area.indicators) == area.points
    assert sum(a.points for a in fw.areas) == fw.total_points
    assert fw.grade_order == ["好", "较好", "一般", "差"]
    assert fw.lowest_grade == "差"
    assert fw.precision == 1
    assert fw.missing == "zero_flag"


def test_shipped_framework_details():
    fw = load_framework()
    assert fw.sources.weights == {"self": 0.3, "inspection": 0.7, "survey": 1.0}
    assert (fw.sources.trim.min_raters, fw.sources.trim.drop) == (5, 1)
    assert fw.bonus.cap == 5
    assert [(b.id, b.cap) for b in fw.bonus.items] == [("X1", 3), ("X2", 1), ("X3", 1.5)]
    assert [v.id for v in fw.vetoes] == ["V1", "V2", "V3", "V4", "V5"]
    assert {v.grade for v in fw.vetoes} == {"差"}
    v5 = fw.vetoes[4].trigger
    assert (v5.indicator, v5.below, v5.above) == ("E7", 50, None)
    assert fw.quota is not None
    assert (fw.quota.grade, fw.quota.max_share, fw.quota.ties) == ("好", 0.3, "demote_all")
    # grade bands tile [0, ∞)
    bands = sorted(fw.grades, key=lambda g: g.min)
    assert [(g.min, g.max) for g in bands] == [(0, 60), (60, 80), (80, 90), (90, None)]
    # navigation
    a1 = fw.indicator("A1")
    assert (a1.name, a1.unit, a1.max_points) == ("理论学习中心组学习", "次", 4)
    assert a1.rule.name == "shortfall_deduction"
    assert a1.rule.parsed.target == 12 and a1.rule.parsed.per_missing == 0.5
    assert fw.area_of("C5").name == "提质强能"
    assert not fw.indicator("C5").higher_is_better
    assert fw.missing_policy(a1) == "zero_flag"
    assert len(fw.known_ids) == 37 + 3 + 5
    with pytest.raises(KeyError):
        fw.indicator("Z9")
    with pytest.raises(KeyError):
        fw.area_of("Z9")


def test_every_shipped_indicator_explains_itself():
    fw = load_framework()
    ids = [i.id for i in fw.indicators]
    assert len(set(ids)) == len(ids)
    for ind in fw.indicators:
        assert ind.definition and ind.suggestion and ind.evidence, ind.id
        assert ind.max_points > 0, ind.id


def test_fingerprint_is_stable_and_content_based(shipped_data):
    fw1, fw2 = load_framework(), parse_framework(copy.deepcopy(shipped_data))
    assert re.fullmatch(r"[0-9a-f]{64}", fw1.fingerprint)
    assert fw1.fingerprint == fw2.fingerprint  # formatting and comments do not matter
    changed = copy.deepcopy(shipped_data)
    changed["areas"][0]["indicators"][0]["rule"]["params"]["per_missing"] = 0.25
    assert parse_framework(changed).fingerprint != fw1.fingerprint


# ---------------------------------------------------------------------------------------------
# Every problem at once, with path and line
# ---------------------------------------------------------------------------------------------


def test_broken_copy_lists_every_problem_with_path_and_line(shipped_text, tmp_path):
    t = shipped_text
    # 1 duplicate id: A2 renamed A1
    t = replace_once(t, "      - id: A2\n", "      - id: A1\n")
    # 2 unknown rule (A3)
    t = replace_once(
        t,
        "rule: {name: shortfall_deduction, params: {target: 12, per_missing: 0.2}}",
        "rule: {name: shortfall_deductoin, params: {target: 12, per_missing: 0.2}}",
    )
    # 3 parameter of the wrong type (A1)
    t = replace_once(
        t,
        "rule: {name: shortfall_deduction, params: {target: 12, per_missing: 0.5}}",
        "rule: {name: shortfall_deduction, params: {target: twelve, per_missing: 0.5}}",
    )
    # 4 area B's indicators add up to 21, not 20 (B7 max 1 → 2)
    t = replace_once(
        t,
        "        max_points: 1\n        rule: {name: met}\n        definition: 党员按月",
        "        max_points: 2\n        rule: {name: met}\n        definition: 党员按月",
    )
    # 5 total 110 while the areas add up to 100
    t = replace_once(t, "total_points: 100\n", "total_points: 110\n")
    # 6 + 7 grade bands: 好 from 85 overlaps 较好 (80–90); 一般 60–75 leaves 75–80 ungraded
    t = replace_once(t, "  - {name: 好, min: 90}\n", "  - {name: 好, min: 85}\n")
    t = replace_once(t, "  - {name: 一般, min: 60, max: 80}\n", "  - {name: 一般, min: 60, max: 75}\n")
    # 8 veto with an unknown grade (V1)
    t = replace_once(
        t,
        "    name_en: Confirmed serious teacher-ethics misconduct\n    grade: 差\n",
        "    name_en: Confirmed serious teacher-ethics misconduct\n    grade: 较差\n",
    )
    # 9 quota on an unknown grade
    t = replace_once(t, "quota:\n  grade: 好\n", "quota:\n  grade: 优秀\n")
    path = tmp_path / "broken.yaml"
    path.write_text(t, encoding="utf-8")

    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    err = info.value
    got = {p.path: p for p in err.problems}
    assert len(got) == len(err.problems), "one problem per path here"

    lines = t.splitlines()
    quota_line = lines.index("quota:") + 2  # "  grade: 优秀" right below "quota:" and nothing else
    expected = {
        "areas[0].indicators[1].id": (_nth_line(t, "- id: A1", 2), "重复"),
        "areas[0].indicators[2].rule.name": (
            line_of(t, "shortfall_deductoin"), "未知的计分规则“shortfall_deductoin”"
        ),
        "areas[0].indicators[0].rule.params.target": (line_of(t, "target: twelve"), "应为数字"),
        "areas[1].points": (_nth_line(t, "    points: 20", 2), "指标满分合计 21"),
        "total_points": (line_of(t, "total_points: 110"), "各领域分值合计 100"),
        "grades[1].max": (line_of(t, "{name: 较好, min: 80, max: 90}"), "85–90 分重叠"),
        "grades[2].max": (line_of(t, "{name: 一般, min: 60, max: 75}"), "75–80 分没有等次"),
        "vetoes[0].grade": (line_of(t, "grade: 较差"), "等次“较差”不在 grades 中"),
        "quota.grade": (quota_line, "等次“优秀”不在 grades 中"),
    }
    assert lines[quota_line - 1] == "  grade: 优秀"
    assert set(got) == set(expected)
    for where, (line, fragment) in expected.items():
        problem = got[where]
        assert problem.line == line, (where, problem.line, line)
        assert fragment in problem.message, (where, problem.message)
    # the duplicate names where the id was first used
    assert "areas[0].indicators[0]" in got["areas[0].indicators[1].id"].message
    # the message lists every problem, with its line
    text = str(err)
    assert f"有 {len(expected)} 个问题" in text
    assert f"areas[0].indicators[0].rule.params.target (第 {line_of(t, 'target: twelve')} 行)" in text
    assert err.source == str(path)


def _nth_line(text: str, needle: str, n: int) -> int:
    """1-based line of the ``n``-th line (1-based) of ``text`` containing ``needle``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[n - 1]


def test_structural_problems_are_all_reported_with_lines(shipped_data, tmp_path):
    d = copy.deepcopy(shipped_data)
    d["version"] = None  # required text
    d["areas"][0]["indicators"][0]["max_points"] = "four"  # not a number
    d["areas"][0]["indicators"][1]["colour"] = "red"  # unknown field
    del d["areas"][1]["indicators"][0]["name"]  # missing field
    d["areas"][2]["id"] = "3C"  # bad id
    d["quota"]["max_share"] = 1.5  # above 1
    d["areas"][0]["indicators"][2]["rule"]["name"] = "nope"  # still checked though the rest is broken
    text = yaml.safe_dump(d, allow_unicode=True, sort_keys=False)
    path = tmp_path / "structure.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    got = {p.path: p for p in info.value.problems}
    assert set(got) == {
        "version",
        "areas[0].indicators[0].max_points",
        "areas[0].indicators[1].colour",
        "areas[1].indicators[0].name",
        "areas[2].id",
        "quota.max_share",
        "areas[0].indicators[2].rule.name",
    }
    assert got["version"].message.startswith("应为文字")
    assert got["areas[0].indicators[0].max_points"].message.startswith("应为数字")
    assert got["areas[0].indicators[1].colour"].message.startswith("不认识的字段")
    assert got["areas[1].indicators[0].name"].message.startswith("缺少必填项")
    assert got["areas[2].id"].message.startswith("编号只能用字母")
    assert got["quota.max_share"].message.startswith("应不大于上限")
    assert got["areas[0].indicators[2].rule.name"].message.startswith("未知的计分规则“nope”")
    # lines: the offending value's line; a missing field points at its parent (the list item)
    assert got["version"].line == line_of(text, "version: null")
    assert got["areas[0].indicators[0].max_points"].line == line_of(text, "max_points: four")
    assert got["areas[0].indicators[1].colour"].line == line_of(text, "colour: red")
    assert got["areas[1].indicators[0].name"].line == line_of(text, "- id: B1")
    assert got["areas[2].id"].line == line_of(text, "id: 3C")
    assert got["quota.max_share"].line == line_of(text, "max_share: 1.5")
    assert got["areas[0].indicators[2].rule.name"].line == line_of(text, "name: nope")


def test_other_semantic_problems(shipped_data):
    d = copy.deepcopy(shipped_data)
    # A6 is a rating
    d["areas"][0]["indicators"][5]["rule"] = {"name": "count_to_target", "params": {"target": 3}}
    d["areas"][0]["indicators"][6]["rule"]["params"]["levels"]["school"] = 1  # A7: no such level
    d["bonus"]["items"][0]["cap"] = 6  # above the overall cap of 5
    d["vetoes"][4]["trigger"] = {"indicator": "E9", "below": 50, "above": 90}
    d["vetoes"][0]["trigger"] = {"below": 3}
    d["quota"]["grade"] = "差"  # the lowest grade
    d["sources"]["weights"]["self"] = -0.3
    d["sources"]["trim"] = {"min_raters": 4, "drop": 2}  # 4 − 2 − 2 = 0 marks left
    d["areas"][1]["aggregate"] = {"method": "sum", "weights": {"B1": 2, "Z9": 1}}
    # weighted_mean: the area's points need not equal its indicators' sum (20 + 4 ≠ 25 is fine)…
    d["areas"][2]["aggregate"] = {"method": "weighted_mean", "weights": {"C1": 2}}
    d["areas"][2]["points"] = 30  # …but the areas must still add up to the total
    got = problems_of(d)
    paths = [p for p, _ in got]

    def has(path: str, fragment: str) -> bool:
        return any(p == path and fragment in m for p, m in got)

    assert has("areas[0].indicators[5].rule.name", "与 data_type=rating 不符")
    assert has("areas[0].indicators[6].rule.params.levels", "取值不合要求")
    assert has("bonus.items[0].cap", "单项上限 6 超过加分总上限 5")
    assert has("vetoes[4].trigger.indicator", "指标 E9 不存在")
    assert has("vetoes[4].trigger", "below 或 above 之一")
    assert has("vetoes[0].trigger.indicator", "给出了阈值却没有指标")
    assert has("quota.grade", "最低等次不能设比例上限")
    assert has("sources.weights.self", "权重不能为负")
    assert has("sources.trim.drop", "没有剩余评分")
    assert has("areas[1].aggregate.weights.Z9", "不是下一级的编号")
    assert has("areas[1].aggregate.weights", "sum 汇总不使用权重")
    assert has("total_points", "总分 100，但各领域分值合计 105")
    assert "areas[2].points" not in paths
    assert len(got) == 12


def test_grade_band_problems(shipped_data):
    d = copy.deepcopy(shipped_data)
    d["grades"] = [
        {"name": "好", "min": 90, "max": 100},  # the top band takes no max
        {"name": "较好", "min": 80, "max": 80},  # empty, and 80–90 left ungraded
        {"name": "一般", "min": 60, "max": 80},
        {"name": "一般", "min": 10, "max": 60},  # a duplicate name, and 0–10 left ungraded
        {"name": "差", "min": 20, "max": 30},  # inside 一般 10–60
    ]
    got = problems_of(d)

    def has(path: str, fragment: str) -> bool:
        return any(p == path and fragment in m for p, m in got)

    assert has("grades", "等次“一般”重复")
    assert has("grades[3].min", "0 到 10 分没有等次")
    assert has("grades[1].max", "不大于下限 80")
    assert has("grades[1].max", "80–90 分没有等次")
    assert has("grades[0].max", "最高等次“好”应不设上限")
    assert has("grades[3].max", "等次“一般”与“差”在 20–60 分重叠")
    assert has("grades[4].max", "等次“差”与“一般”之间 30–60 分没有等次")
    assert len(got) == 7
    # the band test is on [min, max): bands that touch (max = next min) are fine
    d["grades"] = [{"name": "合格", "min": 0, "max": 60}, {"name": "优秀", "min": 60}]
    assert problems_of(d) == [
        ("vetoes[0].grade", "等次“差”不在 grades 中 / unknown grade"),
        ("vetoes[1].grade", "等次“差”不在 grades 中 / unknown grade"),
        ("vetoes[2].grade", "等次“差”不在 grades 中 / unknown grade"),
        ("vetoes[3].grade", "等次“差”不在 grades 中 / unknown grade"),
        ("vetoes[4].grade", "等次“差”不在 grades 中 / unknown grade"),
        ("quota.grade", "等次“好”不在 grades 中 / unknown grade"),
    ]


def test_ids_are_unique_across_areas_indicators_bonus_and_vetoes(shipped_data):
    d = copy.deepcopy(shipped_data)
    d["bonus"]["items"][0]["id"] = "A1"
    d["vetoes"][0]["id"] = "B"
    got = problems_of(d)
    assert ("bonus.items[0].id", "编号 A1 重复（已在 areas[0].indicators[0] 使用）/ duplicate id") in got
    assert ("vetoes[0].id", "编号 B 重复（已在 areas[1] 使用）/ duplicate id") in got


def test_minmax_goalposts_are_checked_in_a_framework(shipped_data):
    d = copy.deepcopy(shipped_data)
    d["areas"][4]["indicators"][6]["rule"] = {"name": "minmax", "params": {"lower": 100, "upper": 50}}
    assert [p for p, _ in problems_of(d)] == ["areas[4].indicators[6].rule.params"]


def test_duplicate_keys_are_reported(shipped_text, tmp_path):
    """PyYAML keeps the last of two equal keys silently; the loader reports the second."""
    t = replace_once(
        shipped_text,
        "        max_points: 3\n        rule: {name: met}\n        definition: 党组织设置",
        "        max_points: 3\n        max_points: 2\n"
        "        rule: {name: met}\n        definition: 党组织设置",
    )
    path = tmp_path / "dup.yaml"
    path.write_text(t, encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    second = t[: t.index("        max_points: 3\n        max_points: 2")].count("\n") + 2
    got = [(p.path, p.line, p.message) for p in info.value.problems]
    duplicate = "字段“max_points”重复，后一个会覆盖前一个 / duplicate key"
    assert got[0] == ("areas[1].indicators[0].max_points", second, duplicate)
    # the last value (2) is the one that counts: B now adds up to 19
    assert got[1][:2] == ("areas[1].points", _nth_line(t, "    points: 20", 2))
    assert "指标满分合计 19" in got[1][2]
    assert len(got) == 2


def test_yaml_syntax_error_has_a_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nname: 测试\nversion: '1'\nyears: [2024\ntotal_points: 100\n", encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    (problem,) = info.value.problems
    assert problem.path == "(yaml)"
    assert problem.message.startswith("YAML 格式错误 / syntax error")
    # the flow sequence opened on line 4 is found unterminated at line 5
    assert problem.line == 5

    path.write_text("id: x\nname: a: b\n", encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert [(p.path, p.line) for p in info.value.problems] == [("(yaml)", 2)]


@pytest.mark.parametrize("text", ["- a\n- b\n", "", "just text\n"])
def test_file_must_be_a_mapping(tmp_path, text):
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert [p.path for p in info.value.problems] == ["(root)"]
    assert "应为键值表" in info.value.problems[0].message


def test_problem_and_path_formatting():
    assert format_path(("areas", 1, "indicators", 3, "rule")) == "areas[1].indicators[3].rule"
    assert format_path(()) == "(root)"
    assert str(Problem("quota.grade", "不对", 7)) == "quota.grade (第 7 行): 不对"
    assert str(Problem("quota.grade", "不对")) == "quota.grade: 不对"


# ---------------------------------------------------------------------------------------------
# Resolving a framework by name or by path
# ---------------------------------------------------------------------------------------------


def test_resolve_by_name_and_by_path(tmp_path, shipped_text, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_framework_path(DEFAULT_FRAMEWORK) == SHIPPED
    assert SHIPPED.name == "shiquan-party-building.yaml" and SHIPPED.is_file()
    copy_path = tmp_path / "county.yaml"
    local = replace_once(shipped_text, 'version: "2024.1"', 'version: "2025.1-local"')
    copy_path.write_text(local, encoding="utf-8")
    assert resolve_framework_path(copy_path) == copy_path
    assert resolve_framework_path("county.yaml") == Path("county.yaml")
    # a file without a YAML suffix is a path when it exists, a shipped name otherwise
    (tmp_path / "county-framework").write_text(shipped_text, encoding="utf-8")
    assert resolve_framework_path("county-framework") == Path("county-framework")
    assert resolve_framework_path("other") == builtin_framework_path("other")

    assert load_framework(copy_path).version == "2025.1-local"
    assert load_framework("county.yaml").version == "2025.1-local"
    by_name = load_framework(DEFAULT_FRAMEWORK)
    assert by_name.version == "2024.1"
    assert by_name == load_framework(SHIPPED) == load_framework()


def test_unknown_name_or_missing_file(tmp_path):
    with pytest.raises(FrameworkError) as info:
        load_framework("no-such-framework")
    assert [(p.path, p.message) for p in info.value.problems] == [("(file)", "找不到文件 / file not found")]
    assert info.value.source.endswith("no-such-framework.yaml")
    with pytest.raises(FrameworkError):
        load_framework(tmp_path / "missing.yml")


# ---------------------------------------------------------------------------------------------
# The documentation's example file
# ---------------------------------------------------------------------------------------------


def _doc_yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_documented_example_framework_is_valid():
    blocks = [b for b in _doc_yaml_blocks() if b.startswith("id:")]
    assert len(blocks) == 1, "docs/framework-format.md has one complete example file"
    fw = parse_framework(yaml.safe_load(blocks[0]), "docs/framework-format.md", blocks[0])
    assert fw.total_points == sum(a.points for a in fw.areas)
    # the example shows every rubric feature the format has
    assert fw.bonus.items and fw.vetoes and fw.quota is not None
    assert any(v.trigger.indicator for v in fw.vetoes)
    assert any(a.aggregate.method != "sum" for a in fw.areas)
    assert any(i.missing for i in fw.indicators)


def test_documented_fields_cover_the_models():
    """Every field of every model in framework.py is named in the format document."""
    from evalkit.framework import model as fm

    doc = DOC.read_text(encoding="utf-8")
    models = [
        fm.Framework, fm.Area, fm.Indicator, fm.RuleSpec, fm.Aggregate, fm.Sources, fm.RaterTrim,
        fm.Bonus, fm.BonusItem, fm.Veto, fm.VetoTrigger, fm.GradeBand, fm.Quota,
    ]
    undocumented = [
        f"{m.__name__}.{f}" for m in models for f in m.model_fields if f"`{f}`" not in doc
    ]
    assert undocumented == []
    from evalkit.framework.rules import RULES

    assert [r for r in RULES if f"`{r}`" not in doc] == []


def test_format_document_examples_run():
    """The ``>>>`` examples of docs/framework-format.md (also collected by ``pytest docs/``)."""
    import doctest

    result = doctest.testfile(
        str(DOC), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    assert result.attempted >= 10
    assert result.failed == 0


def test_documented_worked_example_matches_the_engine():
    """The worked example of docs/framework-format.md, scored by ``evalkit.scoring.score``."""
    import pandas as pd

    from evalkit.scoring import score

    (block,) = [b for b in _doc_yaml_blocks() if b.startswith("id:")]
    fw = parse_framework(yaml.safe_load(block))
    rows = []

    def add(school, ind, value, source="inspection", rater=""):
        rows.append(
            {"school_id": school, "year": 2025, "indicator_id": ind, "value": value,
             "source": source, "item": "", "rater": rater, "evidence": ""}
        )

    for ind, v in [("A1", 10.0), ("A2", 0.85), ("A3", "B"), ("B1", 1.0), ("X1", "city")]:
        add("001", ind, v)
    add("001", "B2", 80.0, "survey")
    add("002", "A1", 12.0, "self")
    for ind, v in [("A1", 10.0), ("A2", 0.95), ("B1", 0.0), ("X1", "national")]:
        add("002", ind, v)
    for rater, v in zip("PQRST", "AABDB", strict=True):
        add("002", "A3", v, rater=rater)
    for ind, v in [("A1", 12.0), ("A3", "A"), ("B1", 0.0), ("X1", "province")]:
        add("003", ind, v)
    for ind, v in [("A1", 15.0), ("A2", 1.0), ("A3", "A"), ("B1", 0.0), ("V1", 1.0)]:
        add("004", ind, v)
    add("004", "B2", 95.0, "survey")

    res = score(pd.DataFrame(rows), fw)
    schools = res.schools.set_index("school_id")
    got = {
        s: (r.base, r.bonus, r.total, r.grade_by_score, r.grade, r.veto, r.quota_demoted, int(r["rank"]))
        for s, r in schools.iterrows()
    }
    assert got == {
        "001": (14.6, 1.0, 15.6, "一般", "一般", False, False, 4),
        "002": (18.8, 2.0, 20.8, "好", "好", False, False, 1),
        "003": (17.0, 1.5, 18.5, "好", "较好", False, True, 3),
        "004": (19.8, 0.0, 19.8, "好", "差", True, False, 2),
    }
    ind = res.indicators.set_index(["school_id", "indicator_id"])["points"]
    assert ind[("001", "A3")] == 2.3  # 2.25 published half up
    assert ind[("002", "A1")] == 3.3 and ind[("002", "A3")] == 2.5
    assert ind[("003", "A2")] == 0.0 and pd.isna(ind[("003", "B2")])
    areas = res.areas.set_index(["school_id", "area_id"])["points"]
    assert (areas[("001", "A")], areas[("001", "B")], areas[("004", "B")]) == (7.3, 7.3, 9.8)
    assert sorted(res.flags["kind"]) == ["missing_reweight", "missing_reweight", "missing_zero"]
