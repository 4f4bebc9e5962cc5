"""Reports a bureau can issue as they stand: a county other than the demo, from its registry and
filled templates to PDFs with the issuer's name, a 落款, true wording about earlier years, and
no inspector's individual mark or name.

The county (桐溪县) is built from five demo schools, one of each type, renamed, with four-digit ids
that start with a zero, a school opened this year (青竹坪小学, 起始年度 2026) and schools
assessed since 2015 whose first data in evalkit is 2026. Inspectors are named as a county
would name them (张建国, …). One run executes five school reports and the county summary.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from evalkit.cli.app import main
from evalkit.demo import demo_observation_paths
from evalkit.framework import load_framework
from evalkit.intake.registry import load_registry
from evalkit.intake.template import write_template
from evalkit.planner.run import NO_ISSUER_WARNING

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2026
# demo school → (id, name, type, township, start year)
SCHOOLS = {
    "001": ("0101", "桐溪县第一中学", "高中", "城关镇", 2015),
    "003": ("0102", "桐溪县职业中学", "职高", "城关镇", 2015),
    "004": ("0203", "石桥初级中学", "初中", "石桥镇", 2015),
    "011": ("0204", "白沙九年一贯制学校", "九年一贯制", "白沙镇", 2015),
    "018": ("0306", "青竹坪小学", "小学", "竹溪镇", YEAR),  # opened this year
}
INSPECTORS = {"R1": "张建国", "R2": "李秀英", "R3": "王志强", "R4": "刘桂兰", "R5": "陈德明"}
ISSUER = {"county": "桐溪县", "body": "中共桐溪县委教育工委", "date": "2026-12-01",
          "doc_number": "桐教工〔2026〕7号", "contact": "县委教育工委办公室 0571-6688123"}


def _observations() -> pd.DataFrame:
    obs = pd.read_csv(demo_observation_paths(2024)[0], dtype=str, keep_default_na=False)
    obs = obs[obs["school_id"].isin(SCHOOLS)].copy()
    obs["school_id"] = obs["school_id"].map(lambda s: SCHOOLS[s][0])
    obs["year"] = YEAR
    obs["rater"] = obs["rater"].map(lambda r: INSPECTORS.get(r, r))
    obs["value"] = obs["value"].map(lambda v: float(v) if v.replace(".", "", 1).isdigit() else v)
    return obs


def _county(root: Path, *, issuer: bool = True) -> Path:
    """Registry, the two filled templates (自评, 实地核查) and a run file in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "名册.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["学校编号", "学校名称", "学校类型", "乡镇", "起始年度", "终止年度"])
        for sid, name, kind, town, start in SCHOOLS.values():
            w.writerow([sid, name, kind, town, start, ""])
    fw = load_framework()
    registry = load_registry(root / "名册.csv")
    obs = _observations()
    for source, label in (("self", "自评"), ("inspection", "实地核查")):
        write_template(fw, registry, YEAR, root / f"{YEAR}_{label}.xlsx", source=source, observations=obs)
    lines = [
        f"year: {YEAR}",
        "data:",
        f"  - {YEAR}_自评.xlsx",
        f"  - {YEAR}_实地核查.xlsx",
        "registry: 名册.csv",
        "notebooks:",
        f"  school_report: {ROOT / 'notebooks' / 'school_report.ipynb'}",
        f"  county_summary: {ROOT / 'notebooks' / 'county_summary.ipynb'}",
        "formats: [pdf]",
        "output: out",
        "jobs: 2",
    ]
    if issuer:
        lines += ["issuer:"] + [f"  {k}: {v}" for k, v in ISSUER.items()]
    (root / "run.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "run.yaml"


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("tongxi")
    run_file = _county(root)
    assert main(["run", str(run_file)]) == 0
    out = root / "out" / str(YEAR)
    schools = {sid: _pdf_text(out / "schools" / sid / f"{sid}_{YEAR}_报告.pdf") for sid, *_ in SCHOOLS.values()}
    county = _pdf_text(out / "county" / f"全县汇总_{YEAR}.pdf")
    return {"out": out, "schools": schools, "county": county}


def test_school_reports_and_the_county_summary_name_the_county_and_the_issuing_body(issued: dict) -> None:
    for sid, text in issued["schools"].items():
        assert "桐溪县" in text and "中共桐溪县委教育工委" in text, sid
        assert "2026年12月1日" in text, sid  # the 落款's date, as GB/T 9704 writes it
        assert "青岚" not in text, sid
    county = issued["county"]
    assert "桐溪县2026年度中小学校党建工作质量评价汇总" in county
    assert "中共桐溪县委教育工委" in county and "桐教工〔2026〕7号" in county and "2026年12月1日" in county
    assert "全县中小学校" not in county


def test_only_a_school_opened_this_year_reads_first_assessment(issued: dict) -> None:
    new = issued["schools"]["0306"]
    assert "首次参评" in new and "系统内暂无往年数据" not in new
    for sid, name, *_ in SCHOOLS.values():
        if sid != "0306":
            text = issued["schools"][sid]
            assert "首次参评" not in text, name  # started in 2015: only new to evalkit
            assert "系统内暂无往年数据" in text, name


def test_no_school_report_shows_an_inspectors_name_or_mark(issued: dict) -> None:
    for sid, text in issued["schools"].items():
        assert not [n for n in INSPECTORS.values() if n in text], sid
        assert "位评分人评定为" not in text, sid  # each inspector's mark left out
    # the combined result and how it was combined stay (the 小学 has five inspectors on A6)
    assert "位评分人评分" in issued["schools"]["0101"].replace("\n", "")
    # (spaces left out: pypdf puts one where a table cell's text wraps)
    assert "5位评分人评分，去掉最高、最低后平均" in "".join(issued["schools"]["0306"].split())


def test_the_scoreboard_keeps_the_marks_for_internal_use(issued: dict) -> None:
    ws = load_workbook(issued["out"] / "scoreboard.xlsx", read_only=True)["指标明细"]
    texts = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c]
    assert any("位评分人评定为" in t for t in texts)


def test_a_run_without_an_issuer_warns_once_and_still_builds(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fixture = ROOT / "tests" / "fixtures" / "batch" / "report.ipynb"
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "report.ipynb").write_bytes(fixture.read_bytes())
    (tmp_path / "nb" / "behaviour.json").write_text("{}", encoding="utf-8")
    (tmp_path / "registry.csv").write_text("school_id,school_name\n001,甲校\n002,乙校\n", encoding="utf-8")
    (tmp_path / "obs.csv").write_text(
        "school_id,year,indicator_id,source,value\n001,2024,A1,inspection,8\n002,2024,A1,inspection,9\n",
        encoding="utf-8")
    (tmp_path / "run.yaml").write_text(
        "year: 2024\ndata: obs.csv\nregistry: registry.csv\nnotebooks:\n  school_report: nb/report.ipynb\n"
        "  county_summary: nb/report.ipynb\nformats: [ipynb]\noutput: out\njobs: 1\n", encoding="utf-8")
    assert main(["run", str(tmp_path / "run.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.count(NO_ISSUER_WARNING) == 1
    assert len(list((tmp_path / "out" / "2024" / "schools").rglob("*.ipynb"))) == 2
