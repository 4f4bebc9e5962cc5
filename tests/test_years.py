"""The record across years: each year under its own framework, earlier years as published,
comparisons across a framework change like with like and said in words (issue 20).

A county of ten schools of our own over three years (2023, 2024 under ``tests/data/years/v1.yaml``;
2025 under ``v2.yaml``, which adds 网络阵地建设 (A5), lowers 三会一课完成率's maximum 4 → 3, renames
主题党日 (A3) to 主题党日活动 (A4) and removes 党员发展台账 (B2): total 20 → 17). Expected points are
worked out in this file from the frameworks' rules (shortfall_deduction: max − per_missing ×
shortfall; ratio_times_max: rate × max; met: max when 是), independently of the engine.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evalkit.analysis import changes, comparison_note, framework_change, headline, school_trend, trend_notes
from evalkit.framework import FrameworkError, load_framework, parse_framework
from evalkit.intake.gate import GateError
from evalkit.planner.fingerprints import framework_fingerprint
from evalkit.planner.published import published_results
from evalkit.planner.runfile import load_run_file
from evalkit.planner.scores import score_run, with_year_framework
from evalkit.publish.documents.facts import county_facts
from evalkit.publish.documents.notice import notice_markdown
from evalkit.publish.present import headline_html
from evalkit.textfmt import round_half_up

DATA = Path(__file__).parent / "data" / "years"
SCHOOLS = {f"1{i:02d}": (f"测试第{i}小学" if i < 6 else f"测试第{i}中学", "小学" if i < 6 else "初中")
           for i in range(1, 11)}
RATES = [1.0, 0.9, 0.8, 0.75, 1.0, 0.95, 0.85, 0.7, 1.0, 0.6]


def values(i: int, year: int) -> dict[str, object]:
    """School ``i`` (0–9)'s raw values in ``year`` (v1 ids for 2023/2024, v2 ids for 2025)."""
    out: dict[str, object] = {
        "A1": 8 + (i * 3 + year) % 6,
        "A2": RATES[(i + year) % 10],
        "A4" if year >= 2025 else "A3": "是" if (i + year) % 4 else "否",
        "B1": "是" if (i * 7 + year) % 5 else "否",
        "B3": 3 + (i + year) % 4,
    }
    if year >= 2025:
        out["A5"] = "是" if i % 3 else "否"
    else:
        out["B2"] = "是" if (i + 2 * year) % 3 else "否"
    return out


def indicator_points(vals: dict[str, object], year: int) -> dict[str, float]:
    """Each indicator's points by hand, from the rules of v1 (2023/2024) or v2 (2025)."""
    out = {
        "A1": 4 - 0.5 * max(0, 12 - int(vals["A1"])),  # type: ignore[call-overload]
        "A2": float(vals["A2"]) * (3 if year >= 2025 else 4),  # type: ignore[arg-type]
        "B3": 3 - 0.5 * max(0, 6 - int(vals["B3"])),  # type: ignore[call-overload]
    }
    yes = {"A3": 2, "A4": 2, "A5": 1, "B1": 4, "B2": 3}
    out.update({k: (p if vals[k] == "是" else 0.0) for k, p in yes.items() if k in vals})
    return out


def points(vals: dict[str, object], year: int) -> float:
    """The total by hand (see :func:`indicator_points`), rounded half up to 1 decimal."""
    return float(round_half_up(sum(indicator_points(vals, year).values()), 1))


def grade(total: float, year: int) -> str:
    top, good = (14.5, 12) if year >= 2025 else (17, 14)
    return "好" if total >= top else "较好" if total >= good else "一般"


def write_year(root: Path, year: int, override: dict[tuple[str, str], object] | None = None) -> None:
    with open(root / f"obs_{year}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["school_id", "year", "indicator_id", "item", "source", "rater", "value", "evidence"])
        for i, sid in enumerate(SCHOOLS):
            for ind, value in values(i, year).items():
                value = (override or {}).get((sid, ind), value)
                w.writerow([sid, year, ind, "", "inspection", "", value, ""])


def make_county(root: Path, framework: str | None = None, years: tuple[int, ...] = (2023, 2024, 2025)) -> Path:
    """The county's files and a run file (``framework``: the run file's text for it)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("v1.yaml", "v2.yaml"):
        shutil.copy(DATA / name, root / name)
    with open(root / "registry.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["school_id", "school_name", "school_type", "township", "active_from"])
        for sid, (name, kind) in SCHOOLS.items():
            w.writerow([sid, name, kind, "城关镇", 2023])
    for year in years:
        write_year(root, year)
    (root / "nb.ipynb").write_text("{}", encoding="utf-8")
    framework = framework or "{2023: v1.yaml, 2024: v1.yaml, 2025: v2.yaml}"
    data = ", ".join(f"obs_{y}.csv" for y in years)
    (root / "run.yaml").write_text(
        f"year: {max(years) - 1 if len(years) > 2 else max(years)}\ndata: [{data}]\nregistry: registry.csv\n"
        f"framework: {framework}\nnotebooks: {{county_summary: nb.ipynb}}\noutput: out\nrobustness: null\n",
        encoding="utf-8",
    )
    return root / "run.yaml"


def seal(spec, results, year: int) -> None:  # type: ignore[no-untyped-def]
    """What ``evalkit run`` then ``evalkit publish`` leave: the year's scores saved and the
    year marked published (the contract of :mod:`evalkit.planner.published`)."""
    folder = spec.year_folder(year)
    with_year_framework(results, year).save(folder / "scores")
    (folder / "record").mkdir(parents=True, exist_ok=True)
    (folder / "record" / "published.json").write_text(json.dumps({"year": year}), encoding="utf-8")


@pytest.fixture(scope="module")
def three_years(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """2024 run and sealed; then 2024's data corrected (not republished); then the 2025 run."""
    root = tmp_path_factory.mktemp("county")
    spec = load_run_file(make_county(root))
    _, r2024, _ = score_run(spec, io.StringIO())
    seal(spec, r2024, 2024)
    published = r2024.for_year(2024).schools.set_index("school_id")
    write_year(root, 2024, {("101", "A1"): 2})  # changed after publishing: must not show in 2025
    out = io.StringIO()
    obs, r2025, grades = score_run(spec.with_options(year=2025), out)
    return {"root": root, "spec": spec, "published": published, "results": r2025, "printed": out.getvalue(),
            "grades": grades, "obs": obs}


def test_each_year_is_scored_under_its_own_framework(three_years: dict) -> None:
    r = three_years["results"]
    for year in (2023, 2025):  # 2024 is read as published
        s = r.schools[r.schools["year"] == year].set_index("school_id")
        for i, sid in enumerate(SCHOOLS):
            total = points(values(i, year), year)
            assert float(s.loc[sid, "total"]) == total, (sid, year)
            assert s.loc[sid, "grade"] == grade(total, year), (sid, year)
    meta = r.meta["frameworks"]
    assert {y: (e["id"], e["version"]) for y, e in meta.items()} == {
        "2023": ("county-test", "1"), "2024": ("county-test", "1"), "2025": ("county-test", "2")}


def test_an_indicator_outside_a_years_framework_is_not_scored_nor_flagged(three_years: dict) -> None:
    r = three_years["results"]
    ind = r.indicators
    per_year = {y: set(ind.loc[ind["year"] == y, "indicator_id"]) for y in (2023, 2024, 2025)}
    assert per_year[2023] == per_year[2024] == {"A1", "A2", "A3", "B1", "B2", "B3"}
    assert per_year[2025] == {"A1", "A2", "A4", "A5", "B1", "B3"}  # B2 removed: not a 0 anywhere
    flags = r.flags
    assert not any("A5" in str(v) for v in flags.loc[flags["year"] < 2025].get("indicator_id", []))
    assert not any("B2" in str(v) for v in flags.loc[flags["year"] == 2025].get("indicator_id", []))
    assert not flags["message"].astype(str).str.contains("按 0 分计").any()


def test_earlier_sealed_year_is_read_as_published_and_said(three_years: dict) -> None:
    r, published = three_years["results"], three_years["published"]
    s = r.schools[r.schools["year"] == 2024].set_index("school_id")
    for sid in SCHOOLS:  # exactly as published, although 101's 2024 data changed since
        assert float(s.loc[sid, "total"]) == float(published.loc[sid, "total"])
        assert s.loc[sid, "grade"] == published.loc[sid, "grade"]
        assert int(s.loc[sid, "rank"]) == int(published.loc[sid, "rank"])
    assert float(published.loc["101", "total"]) == points(values(0, 2024), 2024)
    assert r.meta["published_years"] == [2024]
    assert "2024 年" in three_years["printed"] and "已公布结果" in three_years["printed"]
    pub = published_results(three_years["spec"].year_folder(2024), 2024)
    assert pub is not None and pub.years == [2024]
    assert published_results(three_years["spec"].year_folder(2023), 2023) is None  # not sealed: rescored


def test_school_report_states_last_years_published_result_and_compares_rates(three_years: dict) -> None:
    r, published = three_years["results"], three_years["published"]
    for i, sid in enumerate(SCHOOLS):
        h = headline(r, sid, 2025)
        prev = published.loc[sid]
        assert (h.prev_total, h.prev_grade, h.prev_rank) == (float(prev["total"]), prev["grade"], int(prev["rank"]))
        rate_now = points(values(i, 2025), 2025) / 17 * 100
        rate_before = float(prev["total"]) / 20 * 100
        assert h.basis == "rate"
        assert h.change == pytest.approx(float(round_half_up(rate_now - rate_before, 1)))
    h = headline(r, "101", 2025)
    html = headline_html(h, 1)
    assert f"较2024年（总分{h.prev_total:.1f}分，等次“{h.prev_grade}”，全县第{h.prev_rank}名）得分率" in html
    assert "个百分点" in html or "持平" in html
    sentence = ("2025年指标体系调整：新增“网络阵地建设”；取消“党员发展台账”；“主题党日”更名为“主题党日活动”；"
                "“三会一课完成率”满分由4分调整为3分；总分由20分调整为17分。与上年比较按得分率")
    assert sentence in html
    assert comparison_note(r, 2025).startswith(sentence)


def test_improvers_and_decliners_compare_score_rates(three_years: dict) -> None:
    r, published = three_years["results"], three_years["published"]
    c = changes(r, 2025).set_index("school_id")
    for i, sid in enumerate(SCHOOLS):
        expected = round_half_up(points(values(i, 2025), 2025) / 17 * 100
                                 - float(published.loc[sid, "total"]) / 20 * 100, 1)
        assert float(c.loc[sid, "change"]) == pytest.approx(float(expected))
        assert float(c.loc[sid, "prev_total"]) == float(published.loc[sid, "total"])
    assert framework_change(r, 2024) is None  # 2023 → 2024: the same framework, totals compared


def test_trend_gives_rates_and_says_where_the_framework_changed(three_years: dict) -> None:
    r = three_years["results"]
    t = school_trend(r, "103").set_index("year")
    assert t.loc[2025, "rate"] == pytest.approx(float(t.loc[2025, "total"]) / 17 * 100)
    assert t.loc[2024, "rate"] == pytest.approx(float(t.loc[2024, "total"]) / 20 * 100)
    county_2025 = sum(points(values(i, 2025), 2025) for i in range(10)) / 10
    assert t.loc[2025, "county_rate"] == pytest.approx(county_2025 / 17 * 100)
    notes = trend_notes(r, "103", 2025)
    assert len(notes) == 1 and notes[0].startswith("2025年指标体系调整：")
    assert trend_notes(r, "103", 2024) == []


def test_notice_states_last_years_published_mean_and_compares_rates(three_years: dict) -> None:
    r, published = three_years["results"], three_years["published"]
    facts = county_facts(r, 2025, three_years["grades"])
    prev_mean = round(float(published["total"].mean()), 1)
    assert facts.prev_mean_total == prev_mean
    assert facts.basis == "rate"
    now_rate = sum(points(values(i, 2025), 2025) for i in range(10)) / 10 / 17 * 100
    before_rate = float(published["total"].mean()) / 20 * 100
    shown_now, shown_before = float(round_half_up(now_rate, 1)), float(round_half_up(before_rate, 1))
    assert (facts.mean_rate, facts.prev_mean_rate) == (shown_now, shown_before)
    assert facts.mean_change == float(round_half_up(shown_now - shown_before, 1))  # the figures shown
    c = changes(r, 2025)
    assert (facts.n_improved, facts.n_declined) == (int((c["change"] > 0).sum()), int((c["change"] < 0).sum()))
    from evalkit.planner.runfile import Issuer, Notice

    issuer = Issuer(county="测试县", body="测试县教育局", date="2025-12-20")
    text = notice_markdown(facts, issuer, Notice(rectify_by="2026-01-31"))
    assert f"较2024年（{prev_mean:.1f}分，平均得分率{shown_before:.1f}%）得分率" in text
    assert "2025年指标体系调整：" in text
    assert "与上年相比，得分率提高的学校" in text
    import docx

    from evalkit.publish.documents.notice import notice_files

    word = docx.Document(io.BytesIO(notice_files(facts, issuer, Notice(rectify_by="2026-01-31"), pdf=False)["docx"]))
    said = next(p.text for p in word.paragraphs if p.text.startswith("本次评价"))
    assert f"较2024年（{prev_mean:.1f}分，平均得分率{shown_before:.1f}%）得分率" in said
    assert f"其中，“好”等次{sum(g.count for g in facts.grades if g.grade == '好')}所" in said
    assert "2025年指标体系调整：新增“网络阵地建设”" in said


def test_framework_fingerprint_covers_every_years_framework(three_years: dict) -> None:
    meta = with_year_framework(three_years["results"], 2025).meta
    own = load_framework(DATA / "v2.yaml").fingerprint
    assert meta["framework_fingerprint"] == own
    assert framework_fingerprint(meta, 2025) != own  # 2024's framework is covered too
    meta24 = with_year_framework(three_years["results"], 2024).meta
    assert framework_fingerprint(meta24, 2024) == load_framework(DATA / "v1.yaml").fingerprint


def test_single_framework_run_is_unchanged(tmp_path: Path) -> None:
    """One framework for every year (as the demo): the same Results as before per-year
    frameworks existed — a mapping naming that framework for each year gives the same tables,
    changes are differences of totals, and the sentence is the one it always was."""
    from evalkit.api import score_files

    one = load_run_file(make_county(tmp_path / "one", "v1.yaml", years=(2023, 2024)))
    _, single, _ = score_run(one, io.StringIO())
    direct = score_files([str(tmp_path / "one" / f"obs_{y}.csv") for y in (2023, 2024)],
                         str(tmp_path / "one" / "v1.yaml"), str(tmp_path / "one" / "registry.csv"))
    cols = ["school_id", "year", "total", "grade", "rank"]
    pd.testing.assert_frame_equal(single.schools[cols], direct.schools[cols])
    mapped = load_run_file(make_county(tmp_path / "map", "{2023: v1.yaml, 2024: v1.yaml}", years=(2023, 2024)))
    _, per_year, _ = score_run(mapped, io.StringIO())
    pd.testing.assert_frame_equal(single.schools[cols], per_year.schools[cols])
    for i, sid in enumerate(SCHOOLS):
        assert float(single.school(sid, 2024)["total"]) == points(values(i, 2024), 2024)
    h = headline(single, "101", 2024)
    assert h.basis == "total" and h.comparison_note == ""
    assert h.change == float(round_half_up(h.total - h.prev_total, 1))
    move = "持平" if h.change == 0 else f"{'提高' if h.change > 0 else '下降'}{abs(h.change):.1f}分"
    assert (f"较2023年（总分{h.prev_total:.1f}分，等次“{h.prev_grade}”，全县第{h.prev_rank}名）{move}。</"
            in headline_html(h, 1))
    assert comparison_note(single, 2024) == ""


def test_a_year_without_a_framework_is_an_error_naming_it(tmp_path: Path) -> None:
    spec = load_run_file(make_county(tmp_path, "{2024: v1.yaml, 2025: v2.yaml}"))
    with pytest.raises(GateError) as err:
        score_run(spec, io.StringIO())
    assert "2023 年的数据没有指定指标体系" in str(err.value)


def test_a_removed_indicator_in_the_new_years_data_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "c"
    spec = load_run_file(make_county(root))
    with open(root / "obs_2025.csv", "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(["101", 2025, "B2", "", "inspection", "", "是", ""])
    with pytest.raises(GateError) as err:
        score_run(spec.with_options(year=2025), io.StringIO())
    problems = [p for p in err.value.problems if p.is_error]
    assert len(problems) == 1 and problems[0].kind == "unknown_indicator" and "B2" in problems[0].message
    assert problems[0].file.endswith("obs_2025.csv")


def test_history_names_unknown_ids_in_chinese() -> None:
    data = load_framework(DATA / "v2.yaml").model_dump(mode="json", exclude_none=True)
    data["history"] = {"renamed": {"A3": "A9"}, "added": ["A5", "Z1"], "removed": ["A1"]}
    with pytest.raises(FrameworkError) as err:
        parse_framework(data)
    text = str(err.value)
    assert "history.renamed.A3: 指标 A9 不在本指标体系中" in text
    assert "history.added[1]: 指标 Z1 不在本指标体系中" in text
    assert "history.removed[0]: 指标 A1 仍在本指标体系中" in text


def test_history_old_ids_are_checked_against_the_previous_years_framework(tmp_path: Path) -> None:
    root = tmp_path / "c"
    make_county(root)
    text = (root / "v2.yaml").read_text(encoding="utf-8").replace("removed: [B2]", "removed: [B7]")
    (root / "v2.yaml").write_text(text, encoding="utf-8")
    spec = load_run_file(root / "run.yaml")
    with pytest.raises(FrameworkError) as err:
        score_run(spec, io.StringIO())
    assert "指标 B7 不在上一版指标体系" in str(err.value) and "对照 2024 年" in str(err.value)


def test_cli_run_of_the_third_year_reads_the_sealed_second_and_says_how_it_compares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end through ``evalkit run`` with the real school report notebook (one school)."""
    import nbformat

    from evalkit.cli.app import main

    root = tmp_path / "c"
    run_file = make_county(root)
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "school_report.ipynb"
    text = run_file.read_text(encoding="utf-8").replace("{county_summary: nb.ipynb}", f"{{school_report: {notebook}}}")
    run_file.write_text(text + "formats: [ipynb]\njobs: 1\n", encoding="utf-8")
    assert main(["run", str(run_file), "--schools", "101"]) == 0
    out = root / "out"
    (out / "2024" / "record").mkdir()
    (out / "2024" / "record" / "published.json").write_text('{"year": 2024}', encoding="utf-8")
    published = published_results(out / "2024", 2024)
    assert published is not None
    prev = published.school("101", 2024)
    write_year(root, 2024, {("101", "A1"): 2})  # changed after publishing
    capsys.readouterr()
    assert main(["run", str(run_file), "--year", "2025", "--schools", "101"]) == 0
    printed = capsys.readouterr()
    assert "以下往年按已公布结果读取（不重新评分）：2024 年" in printed.out + printed.err
    report = out / "2025" / "schools" / "101" / "101_2025_报告.ipynb"
    nb = nbformat.read(report, as_version=4)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    total, grade_, rank = float(prev["total"]), prev["grade"], int(prev["rank"])
    said = f"较2024年（总分{total:.1f}分，等次“{grade_}”，全县第{rank}名）得分率"
    assert said in html
    assert "2025年指标体系调整：新增“网络阵地建设”" in html
    assert "测试县党建评价指标（版本2）" in html
    assert "党员发展台账" not in html.split("2025年指标体系调整")[0]  # B2 is not in 2025's tables
    saved = json.loads((out / "2025" / "scores" / "meta.json").read_text(encoding="utf-8"))
    assert saved["frameworks"]["2024"]["version"] == "1" and saved["framework_version"] == "2"


def test_a_sealed_year_left_out_of_the_data_is_still_last_year(three_years: dict, tmp_path: Path) -> None:
    """The run file of 2025 lists only 2025's data: 2024 comes from its sealed folder, so the
    report compares with it instead of saying 系统内暂无往年数据."""
    spec = three_years["spec"]
    root = tmp_path / "only2025"
    make_county(root, years=(2025,), framework="{2025: v2.yaml}")
    text = (root / "run.yaml").read_text(encoding="utf-8").replace("output: out", f"output: {spec.output}")
    (root / "run.yaml").write_text(text, encoding="utf-8")
    _, r, _ = score_run(load_run_file(root / "run.yaml"), io.StringIO())
    assert r.years == [2024, 2025]
    h = headline(r, "104", 2025)
    prev = three_years["published"].loc["104"]
    assert (h.prev_year, h.prev_total, h.prev_grade) == (2024, float(prev["total"]), prev["grade"])
    assert h.basis == "rate"


def test_common_indicators_basis_compares_the_points_of_what_both_years_have(tmp_path: Path) -> None:
    """``compare: common``: A1, A2 (last year's at its rate × 3), A4 ← A3, B1, B3; not A5, B2 —
    each indicator's points as the report shows them (rounded to 1 decimal)."""
    root = tmp_path / "c"
    make_county(root)
    text = (root / "v2.yaml").read_text(encoding="utf-8").replace("compare: rate", "compare: common")
    (root / "v2.yaml").write_text(text, encoding="utf-8")
    _, r, _ = score_run(load_run_file(root / "run.yaml").with_options(year=2025), io.StringIO())
    c = changes(r, 2025).set_index("school_id")
    for i, sid in enumerate(SCHOOLS):
        now, before = ({k: float(round_half_up(v, 1)) for k, v in indicator_points(values(i, y), y).items()}
                       for y in (2025, 2024))
        this = now["A1"] + now["A2"] + now["A4"] + now["B1"] + now["B3"]
        last = before["A1"] + before["A2"] * 3 / 4 + before["A3"] + before["B1"] + before["B3"]
        assert float(c.loc[sid, "change"]) == pytest.approx(float(round_half_up(this - last, 1))), sid
    h = headline(r, "102", 2025)
    assert h.basis == "common" and "共有指标得分" in headline_html(h, 1)
    assert "与上年比较按两年共有指标的得分计算（满分调整的指标按得分率折算）" in h.comparison_note


def test_run_file_framework_mapping(tmp_path: Path) -> None:
    from evalkit.planner.runfile import FrameworkYearError, RunFileError

    spec = load_run_file(make_county(tmp_path / "a", "{2023: v1.yaml, 2024: v1.yaml, 2025: shiquan-party-building}"))
    v1 = str((tmp_path / "a" / "v1.yaml").resolve())
    assert spec.frameworks == ((2023, v1), (2024, v1), (2025, "shiquan-party-building"))
    assert spec.framework == "shiquan-party-building"  # the latest year's
    assert spec.framework_for(2024) == v1 and spec.with_options(year=2025).framework_for(2023) == v1
    with pytest.raises(FrameworkYearError, match="没有为 2022 年指定指标体系"):
        spec.framework_for(2022)
    with pytest.raises(RunFileError) as err:
        load_run_file(make_county(tmp_path / "b", "{2024: missing.yaml}"))
    assert "framework[2024]" in str(err.value) and "找不到文件" in str(err.value)
    one = load_run_file(make_county(tmp_path / "c", "v1.yaml"))
    assert one.frameworks == () and one.framework_for(1999) == str((tmp_path / "c" / "v1.yaml").resolve())


def test_wide_sheets_of_each_year_are_read_against_their_own_framework(tmp_path: Path) -> None:
    """A wide sheet per year (学校编号, 年度, one column per indicator): 2024's 党员发展台账 (B2)
    column is no error in 2025's reading, nor 2025's 网络阵地建设 (A5) in 2024's."""
    root = tmp_path / "c"
    make_county(root, "{2024: v1.yaml, 2025: v2.yaml}", years=(2024, 2025))
    for year in (2024, 2025):
        ids = list(values(0, year))
        with open(root / f"obs_{year}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["学校编号", "年度", *ids])
            for i, sid in enumerate(SCHOOLS):
                w.writerow([sid, year, *(values(i, year)[k] for k in ids)])
    _, r, _ = score_run(load_run_file(root / "run.yaml").with_options(year=2025), io.StringIO())
    for i, sid in enumerate(SCHOOLS):
        for year in (2024, 2025):
            assert float(r.school(sid, year)["total"]) == points(values(i, year), year), (sid, year)
    with open(root / "obs_2025.csv", encoding="utf-8") as f:  # a removed indicator's column in 2025's sheet
        rows = list(csv.reader(f))
    with open(root / "obs_2025.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([[*row, "B2" if k == 0 else "是"] for k, row in enumerate(rows)])
    with pytest.raises(GateError) as err:
        score_run(load_run_file(root / "run.yaml").with_options(year=2025), io.StringIO())
    errors = [p for p in err.value.problems if p.is_error]
    found = [(p.kind, Path(p.file).name, p.indicator_id) for p in errors]
    assert found == [("unknown_indicator", "obs_2025.csv", "B2")]
