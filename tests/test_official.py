"""Issuer, wording about earlier years and raters' marks, below the notebooks (no kernels)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from evalkit import analysis
from evalkit.analysis.examples import example_results
from evalkit.framework import load_framework
from evalkit.planner.runfile import Issuer
from evalkit.publish import official
from evalkit.scoring import score


def _obs(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([dict(school_id=s, year=2024, indicator_id=i, item="", source=src, rater=r, value=v,
                              evidence="") for s, i, v, src, r in rows])


@pytest.fixture(scope="module")
def five_raters():
    # A6 (max 3): A=3, B=2.25, B=2.25, C=1.5, A=3 → drop one 3 and the 1.5 → (2.25+2.25+3)/3 = 2.5
    # (the same case as tests/test_scoring.py::test_five_raters_drop_highest_and_lowest)
    names = ["张建国", "李秀英", "王志强", "刘桂兰", "陈德明"]
    rows = [("001", "A6", m, "inspection", n) for m, n in zip("ABBCA", names, strict=True)]
    return score(_obs(rows), load_framework())


def test_a_school_report_shows_how_raters_were_combined_not_their_marks(five_raters) -> None:
    public = analysis.indicator_table(five_raters, "001", 2024).set_index("indicator_id").loc["A6"]
    assert public["explanation"] == "德育“333”机制落实：5 位评分人评分，去掉最高、最低后平均得 2.5 分（满分 3 分）"
    assert public["value_text"] == "5 位评分人评定"
    internal = analysis.indicator_table(five_raters, "001", 2024, rater_marks=True).set_index("indicator_id")
    assert internal.loc["A6", "explanation"].startswith(
        "德育“333”机制落实：5 位评分人评定为 好、较好、较好、一般、好，")
    # indicators with one mark read the same either way
    assert (five_raters.indicators["public_explanation"] == five_raters.indicators["explanation"]).sum() == (
        len(five_raters.indicators) - 1)


def test_first_assessment_only_when_the_school_starts_this_year() -> None:
    r = example_results().for_year(2024)  # no earlier results in evalkit for anyone
    registry = pd.DataFrame({"school_id": ["001", "002", "003"], "active_from": [2019, 2024, None]})
    assert analysis.history_status(r, "001", 2024, registry) == "no_data"  # assessed since 2019
    assert analysis.history_status(r, "002", 2024, registry) == "first"    # opened in 2024
    assert analysis.history_status(r, "003", 2024, registry) == "first"    # no start year: first scored
    assert analysis.history_status(example_results(), "001", 2024, registry) == "history"
    assert analysis.history_sentence("no_data", 2024, start_year=2019) == (
        "本校自 2019 年起参评，系统内暂无往年数据，不作与往年的比较。")
    assert analysis.changes_note(r, 2024, registry) == "系统内暂无 2024 年以前的评价数据，不作进步与退步比较。"


def test_the_issuer_parameter_and_the_signature() -> None:
    issuer = Issuer(county="桐溪县", body="中共桐溪县委教育工委", contact="县委教育工委办公室 0571-6688123")
    param = official.issuer_parameter(issuer, today=dt.date(2026, 12, 1))
    assert param == {"county": "桐溪县", "body": "中共桐溪县委教育工委", "date": "2026-12-01",
                     "contact": "县委教育工委办公室 0571-6688123"}
    html = official.signature_html(param)
    assert 'data-issue-date="2026-12-01"' in html and "2026年12月1日" in html and "中共桐溪县委教育工委" in html
    assert official.signature_html({}) == "" and official.issuer_info({}) is None
    assert official.county_title(2026, official.issuer_info(param)) == "桐溪县 2026 年度中小学校党建工作质量评价汇总"
