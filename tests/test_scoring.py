"""The scoring engine against values worked out by hand."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest
import yaml

from evalkit.framework import load_framework, parse_framework
from evalkit.intake import GateError
from evalkit.scoring import score


@pytest.fixture(scope="module")
def fw():
    return load_framework()


def obs_rows(*rows: tuple) -> pd.DataFrame:
    """(school, indicator, value[, source[, rater[, item[, evidence]]]]) → Observations, year 2024."""
    out = []
    for r in rows:
        defaults = ("inspection", "", "", "")
        school, ind, value, source, rater, item, evidence = (*r, *defaults[len(r) - 3 :])
        out.append(dict(school_id=school, year=2024, indicator_id=ind, item=item, source=source,
                        rater=rater, value=value, evidence=evidence))
    return pd.DataFrame(out)


def full_marks(fw, school: str = "001", year: int = 2024) -> list[dict]:
    """Observations that earn every indicator's max points under the default framework."""
    value_for = {"count": 50.0, "ratio": 1.0, "yesno": 1.0, "rating": "A", "score": 100.0}
    rows = []
    for ind in fw.indicators:
        if ind.rule.name == "deduction":
            value = 0.0
        elif ind.data_type == "level":
            value = "province"
        else:
            value = value_for[ind.data_type]
        items = [""]
        weights = ind.rule.params.get("weights")
        if weights:
            items = list(weights)
            value = 0.0 if ind.rule.name == "deduction" else 5.0
        for item in items:
            rows.append(dict(school_id=school, year=year, indicator_id=ind.id, item=item,
                             source="inspection", rater="", value=value, evidence=""))
    return rows


def row(results, school, ind):
    t = results.indicators
    return t[(t.school_id == school) & (t.indicator_id == ind)].iloc[0]


# --- sources and raters ------------------------------------------------------------------------


def test_self_and_inspection_are_weighted_30_70(fw):
    # A1: shortfall deduction, target 12, −0.5 per missing, max 4.
    # self 12 → 4 points; inspection 10 → 4 − 0.5 × 2 = 3 points; 0.3 × 4 + 0.7 × 3 = 3.3
    r = score(obs_rows(("001", "A1", 12, "self"), ("001", "A1", 10, "inspection")), fw)
    assert row(r, "001", "A1")["points"] == pytest.approx(3.3)
    assert row(r, "001", "A1")["explanation"] == (
        "理论学习中心组学习 10次，比要求的 12次 少 2次，每少 1次 扣 0.5 分，得 3 分（满分 4 分）；"
        "自评 12次，得 4 分；按实地核查 70%、自评 30% 加权合成，得 3.3 分（满分 4 分）"
    )


def test_weights_renormalise_over_sources_present(fw):
    # only the self-assessment: its 4 points count in full
    r = score(obs_rows(("001", "A1", 12, "self")), fw)
    assert row(r, "001", "A1")["points"] == 4.0
    assert row(r, "001", "A1")["explanation"] == "理论学习中心组学习 12次，达到 12次 要求，得满分 4 分"


def test_five_raters_drop_highest_and_lowest(fw):
    # A6 rating, max 3: A=3, B=2.25, B=2.25, C=1.5, A=3 → drop one 3 and the 1.5 → (2.25+2.25+3)/3 = 2.5
    marks = ["A", "B", "B", "C", "A"]
    r = score(obs_rows(*[("001", "A6", m, "inspection", f"R{i}") for i, m in enumerate(marks)]), fw)
    assert row(r, "001", "A6")["points"] == 2.5
    assert row(r, "001", "A6")["explanation"] == (
        "德育“333”机制落实：5 位评分人评定为 好、较好、较好、一般、好，"
        "去掉最高和最低各 1 个后平均得 2.5 分（满分 3 分）"
    )


def test_a_rating_reads_as_its_word_and_keeps_its_code_as_data(fw):
    # A6 rating, max 3, one rater: B = 75% → 2.25, 2.3 at one decimal; the reader sees 较好, never B
    r = score(obs_rows(("001", "A6", "B", "inspection")), fw)
    got = row(r, "001", "A6")
    assert got["points"] == 2.3
    assert got["value_text"] == "较好" and got["value_label"] == "B"
    assert got["explanation"].startswith("德育“333”机制落实评定为“较好”，按 75% 计")
    assert "B" not in got["explanation"]


def test_four_raters_are_not_trimmed(fw):
    # A, B, C, D on max 3: (3 + 2.25 + 1.5 + 0) / 4 = 1.6875 → 1.7 at one decimal
    r = score(obs_rows(*[("001", "A6", m, "inspection", f"R{i}") for i, m in enumerate("ABCD")]), fw)
    assert row(r, "001", "A6")["points"] == 1.7


def test_weighted_items_collapse_before_the_rule(fw):
    # C5: warning −1, violation −2, max 4: 1 warning + 1 violation → 4 − 3 = 1
    r = score(obs_rows(("001", "C5", 1, "inspection", "", "warning"),
                       ("001", "C5", 1, "inspection", "", "violation")), fw)
    assert row(r, "001", "C5")["points"] == 1.0
    assert row(r, "001", "C5")["value_text"] == "警示 1次、违规 1次"


# --- totals, bonus, veto, grades ---------------------------------------------------------------


def test_full_marks_score_100_and_bonus_is_capped(fw):
    rows = full_marks(fw)
    # bonus: X1 national 3 + X2 two practices (1 each, item cap 1) + X3 four reports (0.5 each, cap 1.5)
    # = 3 + 1 + 1.5 = 5.5 → overall cap 5
    rows += [dict(school_id="001", year=2024, indicator_id=i, item="", source="inspection", rater="",
                  value=v, evidence="") for i, v in (("X1", "national"), ("X2", 2.0), ("X3", 4.0))]
    r = score(pd.DataFrame(rows), fw)
    s = r.school("001", 2024)
    assert (s["base"], s["bonus"], s["total"], s["grade_by_score"]) == (100.0, 5.0, 105.0, "好")
    # the quota lets floor(30% × 1 school) = 0 schools keep 好: the only school takes 较好
    assert (s["grade"], s["quota_demoted"]) == ("较好", True)
    assert r.bonus.set_index("item_id")["points"].to_dict() == {"X1": 3.0, "X2": 1.0, "X3": 1.5}


def test_a_95_point_school_with_a_veto_gets_the_lowest_grade(fw):
    rows = full_marks(fw)
    for r_ in rows:
        if r_["indicator_id"] == "A5":
            r_["value"] = 0.0  # A5 count to target, max 2 → 0: base 98
        if r_["indicator_id"] == "A3":
            r_["value"] = 3.0  # A3: 12 − 3 = 9 missing × 0.2 = 1.8 lost → 0.2: base 96.2
    rows.append(dict(school_id="001", year=2024, indicator_id="V2", item="", source="inspection",
                     rater="", value=1.0, evidence="2024年3月副校长受党内警告处分"))
    r = score(pd.DataFrame(rows), fw)
    s = r.school("001", 2024)
    assert s["total"] == pytest.approx(96.2)
    assert s["grade_by_score"] == "好"
    assert s["veto"] and s["veto_ids"] == "V2"
    assert s["grade"] == "差"
    assert r.vetoes.iloc[0]["evidence"] == "2024年3月副校长受党内警告处分"


def test_threshold_veto_on_satisfaction(fw):
    rows = full_marks(fw)
    for r_ in rows:
        if r_["indicator_id"] == "E7":
            r_["value"], r_["source"] = 45.0, "survey"
    r = score(pd.DataFrame(rows), fw)
    s = r.school("001", 2024)
    # E7 survey 45/100 × 2 = 0.9: base 100 − 1.1 = 98.9, but V5 (below 50) forces 差
    assert (s["total"], s["grade"], s["veto_ids"]) == (98.9, "差", "V5")


def test_threshold_veto_uses_the_raters_trimmed_mean(fw):
    # E7 marked by five raters 30, 35, 38, 40, 60: drop the highest and lowest → mean 37.67 < 50
    rows = full_marks(fw)
    rows = [r_ for r_ in rows if r_["indicator_id"] != "E7"]
    rows += [dict(school_id="001", year=2024, indicator_id="E7", item="", source="inspection", rater=f"R{i}",
                  value=v, evidence="") for i, v in enumerate([30.0, 35.0, 38.0, 40.0, 60.0])]
    r = score(pd.DataFrame(rows), fw)
    assert row(r, "001", "E7")["value"] == pytest.approx(113 / 3)
    assert row(r, "001", "E7")["points"] == 0.8  # (0.7 + 0.76 + 0.8) / 3 = 0.7533 → 0.8
    assert r.school("001", 2024)["veto_ids"] == "V5"


# --- a one-indicator framework for grades, quota and ranks -------------------------------------

DIRECT = textwrap.dedent(
    """
    id: direct-test
    name: 测试体系
    version: "1"
    years: [2024]
    total_points: 100
    precision: 1
    areas:
      - id: A
        name: 甲
        points: 100
        indicators:
          - {id: A1, name: 得分, data_type: score, max_points: 100, rule: {name: direct}}
    grades:
      - {name: 好, min: 90}
      - {name: 较好, min: 80, max: 90}
      - {name: 一般, min: 60, max: 80}
      - {name: 差, min: 0, max: 60}
    quota: {grade: 好, max_share: 0.3, ties: demote_all}
    """
)


def direct_fw(**changes):
    data = yaml.safe_load(DIRECT)
    for key, value in changes.items():
        data[key] = value
    return parse_framework(data)


def totals_obs(totals: list[float]) -> pd.DataFrame:
    return obs_rows(*[(f"{i + 1:03d}", "A1", t) for i, t in enumerate(totals)])


TOTALS = [98, 97, 95, 95, 92, 85, 80, 79.96, 60, 59.94]


def test_grade_bands_use_the_published_total():
    r = score(totals_obs(TOTALS), direct_fw(quota=None))
    got = r.schools.set_index("school_id")[["total", "grade"]]
    # 79.96 is published as 80.0 (one decimal), so it is 较好; 59.94 → 59.9 is 差
    assert got.loc["008"].tolist() == [80.0, "较好"]
    assert got.loc["010"].tolist() == [59.9, "差"]
    assert got["grade"].value_counts().to_dict() == {"好": 5, "较好": 3, "一般": 1, "差": 1}


def test_quota_tie_at_the_boundary_demotes_every_tied_school():
    # 10 schools, 30% → at most 3 keep 好. Totals 98, 97, 95, 95: the boundary splits the tie at
    # 95, so both 95s (and the 92) take 较好 under demote_all.
    r = score(totals_obs(TOTALS), direct_fw())
    s = r.schools.set_index("school_id")
    assert s.loc[s["grade"] == "好"].index.tolist() == ["001", "002"]
    assert s.loc[["003", "004", "005"], "grade"].tolist() == ["较好"] * 3
    assert s.loc[["003", "004", "005"], "quota_demoted"].all()


def test_quota_tie_admit_all_admits_the_tied_schools():
    quota = {"grade": "好", "max_share": 0.3, "ties": "admit_all"}
    r = score(totals_obs(TOTALS), direct_fw(quota=quota))
    s = r.schools.set_index("school_id")
    assert s.loc[s["grade"] == "好"].index.tolist() == ["001", "002", "003", "004"]
    assert s.loc["005", "grade"] == "较好"


def test_ranks_share_the_better_rank_on_ties():
    r = score(totals_obs(TOTALS), direct_fw())
    s = r.schools.set_index("school_id")
    assert s.loc[["001", "002", "003", "004", "005"], "rank"].tolist() == [1, 2, 3, 3, 5]
    assert (s["n_schools"] == 10).all()


def test_rank_in_type_uses_the_registry():
    reg = pd.DataFrame({"school_id": ["001", "002", "003"], "school_name": ["甲小", "乙中", "丙小"],
                        "school_type": ["小学", "初中", "小学"], "township": ["城关", "城关", "石门"]})
    r = score(totals_obs([70, 90, 80]), direct_fw(quota=None), reg)
    s = r.schools.set_index("school_id")
    assert s.loc["003", ["rank", "rank_in_type", "n_in_type"]].tolist() == [2, 1, 2]
    assert s.loc["001", ["rank", "rank_in_type"]].tolist() == [3, 2]
    assert s.loc["001", "school_name"] == "甲小"


def test_registry_school_without_data_stops_scoring_unless_allowed_then_is_left_out():
    reg = pd.DataFrame({"school_id": ["001", "002"], "school_name": ["甲", "乙"]})
    with pytest.raises(GateError) as err:
        score(totals_obs([88]), direct_fw(quota=None), reg)
    assert [(p.kind, p.school_id, p.value) for p in err.value.blocking] == [("no_data", "002", "2024")]
    assert "学校 002 乙 2024 年没有任何数据" in str(err.value) and "--allow-missing" in str(err.value)
    r = score(totals_obs([88]), direct_fw(quota=None), reg, allow=["missing_schools"])
    # 缺报: not scored, not ranked, not graded; listed in flags and meta
    assert r.schools["school_id"].tolist() == ["001"] and r.schools["n_schools"].tolist() == [1]
    assert r.flags[["school_id", "year", "kind"]].values.tolist() == [["002", 2024, "missing_school"]]
    assert r.meta["missing_schools"] == [{"school_id": "002", "school_name": "乙", "year": 2024}]
    assert r.meta["allowed"] == {"missing_schools": 1}


# --- missing data and rounding -----------------------------------------------------------------

THREE = textwrap.dedent(
    """
    id: three
    name: 三项
    version: "1"
    years: [2024]
    total_points: 10
    precision: 1
    areas:
      - id: A
        name: 甲
        points: 10
        indicators:
          - {id: A1, name: 一, data_type: ratio, max_points: 4, rule: {name: ratio_times_max}}
          - {id: A2, name: 二, data_type: ratio, max_points: 4, rule: {name: ratio_times_max}}
          - {id: A3, name: 三, data_type: ratio, max_points: 2, rule: {name: ratio_times_max}, missing: reweight}
    grades:
      - {name: 好, min: 9}
      - {name: 差, min: 0, max: 9}
    """
)


def test_reweight_scales_the_area_over_indicators_present():
    fw3 = parse_framework(yaml.safe_load(THREE))
    # A1 0.5 → 2, A2 1.0 → 4, A3 missing (reweight): area = (2 + 4) × 10 / 8 = 7.5
    r = score(obs_rows(("001", "A1", 0.5), ("001", "A2", 1.0)), fw3)
    assert r.school("001", 2024)["total"] == 7.5
    assert row(r, "001", "A3")["explanation"] == "三：未提供数据，不计分，所在领域其余指标按比例折算"


def test_zero_flag_scores_zero_and_error_refuses():
    data = yaml.safe_load(THREE)
    data["areas"][0]["indicators"][2]["missing"] = "zero_flag"
    r = score(obs_rows(("001", "A1", 0.5), ("001", "A2", 1.0)), parse_framework(data))
    assert r.school("001", 2024)["total"] == 6.0
    assert row(r, "001", "A3")["explanation"] == "三：未提供数据，按 0 分计（满分 2 分）"
    data["areas"][0]["indicators"][2]["missing"] = "error"
    with pytest.raises(GateError) as err:
        score(obs_rows(("001", "A1", 0.5), ("001", "A2", 1.0)), parse_framework(data))
    assert [(p.kind, p.school_id, p.indicator_id) for p in err.value.errors] == [("missing_value", "001", "A3")]
    assert "按指标体系规定该指标缺数时无法评分" in err.value.errors[0].message


def test_rounding_happens_once_at_the_end():
    fw3 = parse_framework(yaml.safe_load(THREE))
    # 0.26 × 4 = 1.04 twice and 0.02 × 2 = 0.04: each indicator shows 1.0, 1.0, 0.0 but the
    # area is 2.12 → 2.1 (rounding each first would give 2.0)
    r = score(obs_rows(("001", "A1", 0.26), ("001", "A2", 0.26), ("001", "A3", 0.02)), fw3)
    assert r.indicators["points"].tolist() == [1.0, 1.0, 0.0]
    assert r.school("001", 2024)["total"] == 2.1


# --- input handling ----------------------------------------------------------------------------


def _refused(err) -> list[tuple[str, str, str]]:
    """(kind, cell, indicator) of every error the gate listed."""
    return [(p.kind, p.cell, p.indicator_id) for p in err.value.errors]


def test_every_bad_observation_is_refused_by_the_gate_with_its_cell(fw):
    # a table goes through intake's checks (the rows are cells of a long CSV: row 2 = first row)
    bad = obs_rows(("001", "Z9", 1), ("001", "A1", "十七"), ("001", "A6", "E"), ("001", "A7", "省"),
                   ("001", "B1", 1, "parents"), ("001", "C5", 1, "inspection", "", "scolding"))
    with pytest.raises(GateError) as err:
        score(bad, fw)
    # "省" is a level intake reads (省级 → province): not an error
    assert _refused(err) == [
        ("unknown_indicator", "C2", "Z9"),
        ("wrong_type", "G3", "A1"),
        ("out_of_range", "G4", "A6"),
        ("unknown_source", "E6", "B1"),
        ("invalid_item", "D7", "C5"),
    ]
    messages = [p.message for p in err.value.errors]
    wanted = "文件 观测数据表 单元格 G3：学校 001 指标 A1 理论学习中心组学习 的值“十七”不是数字，应填写次数（如 17）"
    assert wanted in messages
    assert str(err.value).startswith("评价数据未通过校验，未评分 / data refused: 错误 5 个")


def test_duplicates_are_refused_but_raters_and_items_are_not_duplicates(fw):
    rows = obs_rows(
        ("001", "A1", 17), ("001", "A1", 18),  # the same school, indicator, source and rater twice
        ("001", "A6", "A", "inspection", "R1"), ("001", "A6", "B", "inspection", "R2"),
        ("001", "C5", 1, "inspection", "", "warning"), ("001", "C5", 0, "inspection", "", "violation"),
        ("001", "A1", 12, "self"),
    )
    with pytest.raises(GateError) as err:
        score(rows, fw)
    assert _refused(err) == [("duplicate", "G3", "A1")]
    assert "与 单元格 G2 重复（同一学校、年度、指标、子项、来源、评分人）" in err.value.errors[0].message


def test_a_total_beside_item_rows_is_refused(fw):
    rows = obs_rows(
        ("001", "C5", 1, "inspection", "", "warning"), ("001", "C5", 0, "inspection", "", "violation"),
        ("001", "C5", 2),  # the same inspector's total: which one counts?
        ("002", "C5", 1, "inspection", "", "warning"), ("002", "C5", 2, "self"),  # a total without items
    )
    with pytest.raises(GateError) as err:
        score(rows, fw)
    # C5 is scored by sub-item: every row must name its item
    assert _refused(err) == [("invalid_item", "D4", "C5"), ("invalid_item", "D6", "C5")]


def test_ids_are_read_as_evaluators_type_them(fw):
    clean = obs_rows(("1", "A1", 17), ("1", "A1", 12, "self"), ("2", "A6", "B", "inspection", "R1"))
    # school ids read as numbers, ids with stray spaces, a blank source (= inspection)
    typed = clean.assign(
        school_id=[1.0, 1.0, 2.0],
        indicator_id=[" A1", "A1 ", "A6"],
        source=["", " self ", "  "],
        rater=["", "", " R1"],
    )
    a, b = score(clean, fw), score(typed, fw)
    pd.testing.assert_frame_equal(a.indicators, b.indicators)
    assert a.meta["data_fingerprint"] == b.meta["data_fingerprint"]
    assert sorted(b.schools["school_id"]) == ["1", "2"]  # ids typed as numbers (1.0) read as "1"
    assert b.school("1", 2024)["total"] == a.school("1", 2024)["total"]
    assert b.school("2", 2024)["total"] == a.school("2", 2024)["total"]


def test_input_frame_is_not_modified(fw):
    obs = obs_rows(("001", "A1", 17), ("002", "A1", 8, "self"))
    before = obs.copy(deep=True)
    score(obs, fw)
    pd.testing.assert_frame_equal(obs, before)


def test_results_carry_framework_and_data_fingerprint(fw):
    a = score(obs_rows(("001", "A1", 17)), fw)
    b = score(obs_rows(("001", "A1", 16)), fw)
    assert a.meta["framework_id"] == "shiquan-party-building"
    assert a.meta["framework_version"] == fw.version
    assert len(a.meta["data_fingerprint"]) == 64
    assert a.meta["data_fingerprint"] != b.meta["data_fingerprint"]
    # row order does not change the fingerprint
    two = obs_rows(("001", "A1", 17), ("002", "A2", 0.5))
    assert score(two, fw).meta["data_fingerprint"] == score(two.iloc[::-1], fw).meta["data_fingerprint"]


def test_results_save_and_load_round_trip(fw, tmp_path):
    r = score(obs_rows(("001", "A1", 17), ("001", "A6", "B")), fw)
    r.save(tmp_path / "scores")
    back = type(r).load(tmp_path / "scores")
    # text comes back as pandas' string dtype (in memory it may be object): compare values
    pd.testing.assert_frame_equal(back.schools, r.schools, check_dtype=False)
    pd.testing.assert_frame_equal(back.indicators, r.indicators, check_dtype=False)
    assert back.meta == r.meta
