"""The record of a published year: ``evalkit publish`` seals it, ``evalkit run`` refuses it,
``--correction`` corrects it on the record, ``evalkit replay`` regenerates it and compares.

Runs are real (papermill on the tiny report of tests/test_batch.py, the real pandoc and WeasyPrint
for the county documents); Word files are read back with python-docx, PDFs with pdftotext.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import docx
import pandas as pd
import pytest

from evalkit.cli.app import main
from evalkit.planner.fingerprints import DataFingerprints, sha256_file
from evalkit.publish.documents.facts import chinese_date
from test_batch import FIXTURE, make_project

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "evalkit" / "demo" / "data"

DOCUMENTS = """issuer:
  county: 青岚县
  body: 青岚县教育体育局
  date: 2024-12-20
  contact: 局党建办 0915-1234567
notice:
  rectify_by: 2025-01-31
publicity:
  days: 5
robustness: false
"""


def _published(folder: Path) -> dict:
    return json.loads((folder / "record" / "published.json").read_text(encoding="utf-8"))


def _doc_text(path: Path) -> str:
    d = docx.Document(str(path))
    return "\n".join([p.text for p in d.paragraphs] + ["|".join(c.text for c in r.cells)
                                                       for t in d.tables for r in t.rows])


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


# --------------------------------------------------------------------------- publish, refuse, replay


def test_publish_seals_every_input_refuses_twice_and_replay_detects_an_altered_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_file = make_project(tmp_path, {"001": "一小", "002": "二小", "003": "三小"},
                            notebooks=("school_report", "county_summary"), formats="[ipynb, html]")
    run_file.write_text(run_file.read_text(encoding="utf-8") + DOCUMENTS, encoding="utf-8")
    folder = tmp_path / "out" / "2024"
    assert main(["run", str(run_file)]) == 0
    capsys.readouterr()
    assert main(["run", str(run_file), "--correction", "录入有误"]) == 1  # nothing published to correct
    assert "尚未公布" in capsys.readouterr().err

    assert main(["publish", str(folder), "--wenhao", "青教体发〔2024〕18号"]) == 0
    assert "已封存" in capsys.readouterr().out
    seal = _published(folder)
    assert seal["year"] == 2024 and seal["version"] == 1 and seal["wenhao"] == "青教体发〔2024〕18号"
    assert seal["date"] == dt.date.today().isoformat() and seal["issue_date"] == "2024-12-20"
    assert seal["manifest_sha256"] == sha256_file(folder / "manifest.json")
    roles = {e["field"] or e["role"]: e for e in seal["inputs"]}
    # every input the run read: the run file, both data files, the registry, the (shipped)
    # framework, the notebook, the document templates and the Word reference document
    assert {"run_file", "data[0]", "data[1]", "registry", "framework", "notebooks.school_report",
            "notebooks.county_summary", "notice_template", "publicity_template", "docx_template"} <= set(roles)
    assert roles["data[1]"]["path"] == str(tmp_path / "obs_2024.csv")
    assert roles["framework"]["shipped"] is True
    for entry in seal["inputs"]:
        stored = folder / "record" / entry["file"]
        assert stored.name == entry["sha256"] == sha256_file(stored) == sha256_file(Path(entry["path"]))
        assert stored.stat().st_size == entry["size"]
    assert seal["outputs"]["county/通报_2024.docx"] == sha256_file(folder / "county" / "通报_2024.docx")
    assert {"scores/schools.parquet", "scoreboard.xlsx", "schools/001/001_2024_报告.html"} <= set(seal["outputs"])

    # published once only; a sealed year is never rerun silently
    assert main(["publish", str(folder)]) == 1
    assert "不能重复公布" in capsys.readouterr().err
    stamp = (folder / "scores" / "schools.parquet").stat().st_mtime_ns
    assert main(["run", str(run_file)]) == 1
    err = capsys.readouterr().err
    assert "已于" in err and f"evalkit run {run_file} --correction" in err
    assert (folder / "scores" / "schools.parquet").stat().st_mtime_ns == stamp

    # replay from the sealed inputs alone: the originals moved away
    (tmp_path / "obs_2024.csv").rename(tmp_path / "elsewhere.csv")
    assert main(["replay", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("一致") and "学校年度" in out
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["county", "manifest.json", "record", "schools", "scoreboard.xlsx", "scores", ".lock"])

    # one byte of a sealed input changed: named, exit 1
    stored = folder / "record" / roles["data[1]"]["file"]
    data = bytearray(stored.read_bytes())
    data[-3] = ord("9") if data[-3] != ord("9") else ord("8")
    stored.write_bytes(bytes(data))
    assert main(["replay", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "已被改动" in out and roles["data[1]"]["sha256"] in out and "obs_2024.csv" in out


# --------------------------------------------------------------------------- a correction


def _small_county(root: Path) -> Path:
    """Ten schools of the demo county (001–010), 2024 only: 001 is 好 by score but 较好 under
    the grade quota (ranked 4th behind 006, 002, 004)."""
    obs = pd.read_csv(DEMO / "observations_2024.csv", dtype=str, keep_default_na=False)
    reg = pd.read_csv(DEMO / "registry.csv", dtype=str, keep_default_na=False)
    ids = [f"{i:03d}" for i in range(1, 11)]
    obs[obs["school_id"].isin(ids)].to_csv(root / "obs_2024.csv", index=False, quoting=csv.QUOTE_ALL)
    reg[reg["school_id"].isin(ids)].to_csv(root / "registry.csv", index=False, quoting=csv.QUOTE_ALL)
    (root / "nb").mkdir()
    shutil.copy(FIXTURE, root / "nb" / "report.ipynb")
    run_file = root / "run.yaml"
    run_file.write_text(
        "year: 2024\ndata: [obs_2024.csv]\nregistry: registry.csv\nnotebooks:\n  school_report: nb/report.ipynb\n"
        "formats: [ipynb, html]\noutput: out\njobs: 2\ncell_timeout: 60\n" + DOCUMENTS, encoding="utf-8")
    return run_file


def _set_value(path: Path, school: str, indicator: str, source: str, value: str) -> None:
    obs = pd.read_csv(path, dtype=str, keep_default_na=False)
    m = (obs["school_id"] == school) & (obs["indicator_id"] == indicator) & (obs["source"] == source)
    assert m.sum() == 1
    obs.loc[m, "value"] = value
    obs.to_csv(path, index=False, quoting=csv.QUOTE_ALL)


def test_a_correction_is_on_the_record_and_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_file = _small_county(tmp_path)
    folder = tmp_path / "out" / "2024"
    assert main(["run", str(run_file)]) == 0
    assert main(["publish", str(folder)]) == 0
    first = pd.read_parquet(folder / "scores" / "schools.parquet").set_index("school_id")
    assert list(first.loc[["006", "002", "004", "001"], "rank"]) == [1, 2, 3, 4]
    assert (first.loc["004", "total"], first.loc["004", "grade"]) == (94.4, "好")
    assert first.loc["001", ["total", "grade", "quota_demoted"]].tolist() == [92.3, "较好", True]
    capsys.readouterr()

    # the inspection found 4 problems under B3 at 004 (督查发现问题, 4 points, 1 point off per
    # problem); 0 was typed. B3's value is 0.3 × self (0) + 0.7 × inspection (4) = 2.8 problems,
    # so B3 gives 4 − 2.8 = 1.2 points instead of 4: 004's total falls 2.8, 94.4 → 91.6, below
    # 001's 92.3. 004 is 4th and 较好 (the quota of 好 is taken); 001 is 3rd and 好 without any
    # change of its own data.
    _set_value(tmp_path / "obs_2024.csv", "004", "B3", "inspection", "4")
    assert main(["run", str(run_file), "--correction", "青岚县城关中学督查发现问题数录入有误"]) == 0
    today = dt.date.today()
    record_dir = folder / "record" / "corrections" / "1"
    record = json.loads((record_dir / "correction.json").read_text(encoding="utf-8"))
    assert record["reason"] == "青岚县城关中学督查发现问题数录入有误" and record["version"] == 2
    assert record["changed_cells"] == [{"school_id": "004", "year": "2024", "indicator_id": "B3", "item": "",
                                        "source": "inspection", "rater": "", "change": "修改",
                                        "old": "0", "new": "4"}]
    assert record["fingerprints"]["previous"]["data"] != record["fingerprints"]["new"]["data"]
    assert record["fingerprints"]["previous_inputs"]["data[0]"] != record["fingerprints"]["new_inputs"]["data[0]"]

    table = pd.read_csv(record_dir / "变更对照表.csv", dtype={"学校编号": str}).set_index("学校编号")
    assert table.loc["004", ["原总分", "新总分", "原等次", "新等次", "原排名", "新排名"]].tolist() == [
        94.4, 91.6, "好", "较好", 3, 4]
    assert table.loc["004", "本校数据有更正"] == "是" and table.loc["004", "总分变化"] == -2.8
    assert table.loc["001", ["原总分", "新总分", "原等次", "新等次", "原排名", "新排名"]].tolist() == [
        92.3, 92.3, "较好", "好", 4, 3]
    assert table.loc["001", "仅因他校更正而变动"] == "是" and "等次比例" in table.loc["001", "说明"]
    moved = set(table.index[table["仅因他校更正而变动"] == "是"])
    assert moved == {"001"}  # every other school keeps its total, grade and rank
    assert (record_dir / "变更对照表.xlsx").is_file()

    # the 更正说明, in Word and PDF
    note_docx = record_dir / "更正说明_2024_第2版.docx"
    text = _doc_text(note_docx)
    assert "关于2024年度青岚县中小学校党建工作质量评价结果的更正说明" in text
    assert "青岚县城关中学督查发现问题数录入有误" in text and "2024年12月20日" in text
    assert "青岚县城关中学|督查发现问题（B3）（佐证说明）" not in text
    assert "青岚县城关中学|督查发现问题（B3）|0|4" in text
    assert "青岚县城关中学|94.4|91.6|好|较好|3|4|本校数据更正" in text
    assert "青岚中学|92.3|92.3|较好|好|4|3|本校数据未变，受等次比例限制随他校更正变动" in text
    assert chinese_date(today) in text
    pdf = _pdf_text(record_dir / "更正说明_2024_第2版.pdf")
    assert "更正说明" in pdf and "青岚县城关中学" in pdf and "91.6" in pdf

    # every report was redone (the county means moved), marked, the first versions in history/v1
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(record["reports_redone"]) == set(manifest["reports"])
    html = (folder / "schools" / "001" / "001_2024_报告.html").read_text(encoding="utf-8")
    assert 'data-edition="2"' in html and f'data-correction-date="{today.isoformat()}"' in html
    assert f"更正版（第2版）　{chinese_date(today)}更正" in html
    old = folder / "history" / "v1" / "schools" / "001" / "001_2024_报告.html"
    assert "更正版" not in old.read_text(encoding="utf-8")
    assert sha256_file(old) == _published(folder / "history" / "v1")["outputs"]["schools/001/001_2024_报告.html"]

    # the 通报 and 公示名单 reissued as corrected, dated the day of the correction
    notice = _doc_text(folder / "county" / "通报_2024.docx")
    assert "通报（更正）" in notice and chinese_date(today) in notice and "2024年12月20日印发的原通报" in notice
    assert "（一）“好”等次（3所）\n青岚中学、青岚县第二中学、石门中学。" in notice
    first_notice = _doc_text(folder / "history" / "v1" / "county" / "通报_2024.docx")
    assert "更正" not in first_notice and "2024年12月20日" in first_notice
    assert "公示（更正）" in _doc_text(folder / "county" / "公示名单_2024.docx")

    # sealed again as version 2, with the corrected inputs
    seal = _published(folder)
    assert seal["version"] == 2 and seal["corrections"] == ["corrections/1/correction.json"]
    assert seal["previous"]["path"] == "history/v1/record/published.json"
    data = next(e for e in seal["inputs"] if e["field"] == "data[0]")
    assert data["sha256"] == sha256_file(tmp_path / "obs_2024.csv")
    capsys.readouterr()
    assert main(["run", str(run_file)]) == 1
    assert "第 2 版" in capsys.readouterr().err

    # the corrected version replays exactly (its documents reissued with the same date)
    assert main(["replay", str(folder)]) == 0
    assert capsys.readouterr().out.strip().endswith("一致")


# --------------------------------------------------------------------------- no stale report


def test_a_report_not_redone_shows_exactly_what_it_would_show_if_redone() -> None:
    """Fingerprints against the figures a school report shows (evalkit.analysis, as the report
    notebook calls it): one school's value changed → every school whose shown figures changed has
    a new fingerprint; an evidence note changed → the others keep theirs, and their figures are
    the same."""
    from evalkit.analysis import area_comparison, headline, strengths_weaknesses
    from evalkit.api import score_files
    from evalkit.framework import load_framework

    fw = load_framework()
    obs_path = DEMO / "observations_2024.csv"
    base = pd.read_csv(obs_path, dtype=str, keep_default_na=False)

    def scored(frame: pd.DataFrame, tmp: Path) -> tuple:
        frame.to_csv(tmp, index=False, quoting=csv.QUOTE_ALL)
        results = score_files([str(tmp)], registry=str(DEMO / "registry.csv"))
        from evalkit.observations import coerce_observations

        obs = coerce_observations(frame.assign(year=frame["year"].astype(int)))
        fps = DataFingerprints(obs, results, 2024)
        return results, {s: fps.school(s) for s in results.schools["school_id"]}

    def shown(results, school: str) -> str:  # type: ignore[no-untyped-def]
        h = headline(results, school, 2024)
        strengths, weaknesses = strengths_weaknesses(results, school, 2024, fw, n=3)
        return "\n".join([repr(h), area_comparison(results, school, 2024).to_csv(),
                          strengths.to_csv(), weaknesses.to_csv()])

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        before, fp0 = scored(base, Path(tmp) / "a.csv")
        value = base.copy()
        m = (value["school_id"] == "004") & (value["indicator_id"] == "B3") & (value["source"] == "inspection")
        value.loc[m, "value"] = "4"
        after, fp1 = scored(value, Path(tmp) / "b.csv")
        note = base.copy()
        m = (note["school_id"] == "004") & (note["indicator_id"] == "A1") & (note["source"] == "self")
        note.loc[m, "evidence"] = "补充：中心组学习记录 14 次"
        same, fp2 = scored(note, Path(tmp) / "c.csv")
    for school in fp0:
        if shown(before, school) != shown(after, school):
            assert fp0[school] != fp1[school], school
    assert all(fp0[s] != fp1[s] for s in fp0)  # B3's county mean is shown in every report
    assert {s for s in fp0 if fp0[s] != fp2[s]} == {"004"}
    for school in fp0:
        if school != "004":
            assert shown(before, school) == shown(same, school)
