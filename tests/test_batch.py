"""``evalkit run``: run files, planning, parallel execution, failures, resumption, safety.

Notebooks are executed for real by papermill: ``tests/fixtures/batch/report.ipynb`` is a tiny
report whose behaviour (fail, sleep, record the kernel's pid) is steered by a ``behaviour.json``
next to it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from evalkit.cli.app import main
from evalkit.framework import load_framework
from evalkit.planner.names import UnsafePathError, check_literal_round_trip, folder_name_problem, safe_child
from evalkit.planner.runfile import RunFileError, load_run_file
from evalkit.publish.scoreboard import GRADE_FILLS
from evalkit.results import Results

FIXTURE = Path(__file__).parent / "fixtures" / "batch" / "report.ipynb"
ROOT = Path(__file__).resolve().parents[1]
REGISTRY_COLUMNS = ["school_id", "school_name", "school_type", "township", "pupils", "staff",
                    "party_members", "branch", "active_from", "active_to"]


# --------------------------------------------------------------------------- helpers


def make_project(
    root: Path,
    schools: dict[str, str],
    a1: dict[tuple[str, int], float] | None = None,
    *,
    notebooks: tuple[str, ...] = ("school_report", "county_summary"),
    behaviour: dict | None = None,
    formats: str = "[ipynb]",
    jobs: int = 2,
    cell_timeout: float = 30,
    robustness: bool = False,
) -> Path:
    """A run file with the fixture notebook, a registry and one observations file per year;
    ``robustness: false`` unless ``robustness`` (then the run file says nothing: the default analysis)."""
    (root / "nb").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE, root / "nb" / "report.ipynb")
    set_behaviour(root, behaviour or {})
    with open(root / "registry.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(REGISTRY_COLUMNS)
        for sid, name in schools.items():
            w.writerow([sid, name, "小学", "城关镇", 100, 10, 5, "第一支部", 2023, ""])
    a1 = a1 or {(sid, y): 8.0 + i for i, sid in enumerate(schools) for y in (2023, 2024)}
    years = sorted({y for _, y in a1})
    for year in years:
        write_year(root, year, {sid: v for (sid, y), v in a1.items() if y == year})
    nb_lines = "\n".join(f"  {k}: nb/report.ipynb" for k in notebooks)
    data_lines = "\n".join(f"  - obs_{y}.csv" for y in years)
    (root / "run.yaml").write_text(
        f"year: 2024\ndata:\n{data_lines}\nregistry: registry.csv\nnotebooks:\n{nb_lines}\n"
        f"formats: {formats}\noutput: out\njobs: {jobs}\ncell_timeout: {cell_timeout}\n"
        + ("" if robustness else "robustness: false\n"),
        encoding="utf-8",
    )
    return root / "run.yaml"


def write_year(root: Path, year: int, a1: dict[str, float]) -> None:
    with open(root / f"obs_{year}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["school_id", "year", "indicator_id", "item", "source", "rater", "value", "evidence"])
        for sid, value in a1.items():
            w.writerow([sid, year, "A1", "", "inspection", "", value, ""])


def set_behaviour(root: Path, behaviour: dict) -> None:
    (root / "nb" / "behaviour.json").write_text(json.dumps(behaviour), encoding="utf-8")


def run(run_file: Path, *args: str) -> int:
    return main(["run", str(run_file), *args])


def manifest(root: Path, year: int = 2024) -> dict:
    return json.loads((root / "out" / str(year) / "manifest.json").read_text(encoding="utf-8"))


def cell_lines(ipynb: Path, prefix: str) -> list[str]:
    """Stream output lines of an executed notebook starting with ``prefix`` (prefix removed)."""
    nb = nbformat.read(ipynb, as_version=4)
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out += [ln[len(prefix):] for ln in o["text"].splitlines() if ln.startswith(prefix)]
    return out


def leftovers(folder: Path) -> list[Path]:
    """Temporary files or folders an interrupted run might leave."""
    return [p for p in folder.rglob("*") if p.name.startswith(".") and p.name != ".lock"]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


# --------------------------------------------------------------------------- run file, names


def test_run_file_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / "run.yaml").write_text(
        "year: twenty\ndata: [a.csv, missing.csv]\nnotebooks:\n  school_report: nope.ipynb\n"
        "formats: [html, odt]\njobs: 0\ncolour: red\nframework: no-such-framework\n",
        encoding="utf-8",
    )
    with pytest.raises(RunFileError) as info:
        load_run_file(tmp_path / "run.yaml")
    text = str(info.value)
    for expected in ("year (第 1 行)", "data[1] (第 2 行): 找不到文件",
                     "notebooks.school_report (第 4 行): 找不到文件", "formats[1] (第 5 行)", "jobs (第 6 行)",
                     "colour (第 7 行): 不认识的字段",
                     "framework (第 8 行): 没有名为“no-such-framework”的内置指标体系"):
        assert expected in text
    assert len(info.value.problems) == 7


def test_run_file_paths_are_relative_to_it_and_options_override(tmp_path: Path) -> None:
    run_file = make_project(tmp_path / "p", {"001": "一小"})
    spec = load_run_file(run_file)
    assert spec.data == (tmp_path / "p" / "obs_2023.csv", tmp_path / "p" / "obs_2024.csv")
    assert spec.output == tmp_path / "p" / "out" and spec.formats == ("ipynb",)
    spec = spec.with_options(year=2023, formats=["pdf", "html"], jobs=3)
    assert spec.years == (2023,) and spec.formats == ("ipynb", "html", "pdf") and spec.jobs == 3


def test_demo_run_file_is_valid() -> None:
    spec = load_run_file(ROOT / "params" / "demo.yaml")
    assert spec.years == (2024,) and len(spec.data) == 3 and set(spec.notebooks) == {
        "school_report", "county_summary", "school_trend", "framework_audit"}
    assert spec.robustness is not None and spec.robustness.replications == 1000 and spec.robustness.raters


def test_run_saves_robustness_with_the_scores_and_runs_the_audit_once(tmp_path: Path) -> None:
    """The run file's robustness block reaches the saved scores; framework_audit is a county
    job written under county/; ``robustness: false`` switches the analysis off; a bad value is
    refused with its path."""
    run_file = make_project(tmp_path / "p", {"001": "一小", "002": "二小"},
                            notebooks=("school_report", "framework_audit"), robustness=True)
    text = run_file.read_text(encoding="utf-8")
    run_file.write_text(text + "robustness:\n  replications: 40\n  sensitivity: 0\n", encoding="utf-8")
    assert run(run_file) == 0
    year = tmp_path / "p" / "out" / "2024"
    assert (year / "county" / "指标体系审计_2024.ipynb").is_file()
    assert manifest(tmp_path / "p")["reports"]["framework_audit"]["status"] == "done"
    saved = Results.load(year / "scores")
    assert saved.extra["robustness"]["replications"].tolist() == [40, 40]
    assert saved.meta["robustness"]["reproduces_published"] is True
    run_file.write_text(text + "robustness: false\n", encoding="utf-8")
    assert load_run_file(run_file).robustness is None
    run_file.write_text(text + "robustness:\n  replications: 0\n", encoding="utf-8")
    with pytest.raises(RunFileError, match=r"robustness\.replications"):
        load_run_file(run_file)


@pytest.mark.parametrize(
    ("school_id", "problem"),
    [("001", None), ("学校 ü", None), ("O'Brien '1'", None), ("../x", "分隔符"), ("a\\b", "分隔符"),
     (".", "不能是"), ("..", "不能是"), ("-rf", "以“-”开头"), ("a\x00b", "NUL"), ("a\nb", "控制字符"),
     ("a\u202eb", "控制字符"), ("x" * 101, "超过 100"), ("学" * 90, "超过文件名上限 255 字节"), ("", "为空"),
     (" 001", "空格"), ("001 ", "空格"), ("001.", "以“.”结尾"), ('O"Brien', "不允许的字符“\"”"),
     ("一小:东校区", "不允许的字符“:”"), ("a*b?", "“*”、“?”"), ("CONSOLE", None), ("COM10", None)],
)
def test_folder_name_problems(school_id: str, problem: str | None) -> None:
    found = folder_name_problem(school_id)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize(("school_id", "reserved"), [("CON", "CON"), ("com1", "com1"), ("LPT9.txt", "LPT9"),
                                                    ("nul", "nul"), ("Aux.tar.gz", "Aux"), ("PRN", "PRN")])
def test_windows_reserved_names_are_refused_on_every_platform(school_id: str, reserved: str) -> None:
    assert folder_name_problem(school_id) == (
        f"“{reserved}”是 Windows 保留的设备名（CON、PRN、AUX、NUL、COM1–COM9、LPT1–LPT9 等，不分大小写、不论扩展名）")


def test_safe_child_stays_inside(tmp_path: Path) -> None:
    assert safe_child(tmp_path, "schools", "学校 ü") == tmp_path / "schools" / "学校 ü"
    for bad in ("..", "../x", "/etc"):
        with pytest.raises(UnsafePathError):
            safe_child(tmp_path, "schools", bad)


def test_parameters_round_trip_as_literals() -> None:
    check_literal_round_trip({"school_id": 'a"b\'c\\n\n\x00é\u2028"""', "year": 2024})


# --------------------------------------------------------------------------- runs


def test_failure_and_timeout_are_recorded_others_go_on_and_only_failed_retries(tmp_path: Path) -> None:
    schools = {"001": "一小", "002": "二小", "003": "三小"}
    pid_dir = tmp_path / "pids"
    run_file = make_project(tmp_path, schools, behaviour={"fail": ["002"], "sleep": {"003": 120},
                                                          "pid_dir": str(pid_dir)},
                            formats="[html]", cell_timeout=8, robustness=True)
    assert run(run_file) == 1
    m = manifest(tmp_path)
    reports = m["reports"]
    assert reports["school_report:002"]["status"] == "failed"
    assert "planned failure for '002'" in reports["school_report:002"]["error"]
    assert reports["school_report:003"]["status"] == "failed"
    assert "超过 8 秒" in reports["school_report:003"]["error"]
    assert reports["school_report:001"]["status"] == "done" and reports["county_summary"]["status"] == "done"
    year = tmp_path / "out" / "2024"
    failed = year / reports["school_report:002"]["failed_notebook"]
    assert failed.name == "002_2024_报告.failed.ipynb"
    assert "planned failure" in failed.read_text(encoding="utf-8")
    timed_out = year / reports["school_report:003"]["failed_notebook"]
    assert "本报告执行失败" in timed_out.read_text(encoding="utf-8")
    assert not (year / "schools" / "002" / "002_2024_报告.ipynb").exists()
    for pid in pid_dir.iterdir():  # every kernel is gone, the hung one included
        assert not pid_alive(int(pid.name)), pid.read_text()
    # the manifest says how each report was made
    entry = reports["school_report:001"]
    assert set(entry["fingerprints"]) == {"data", "framework", "notebook", "evalkit", "params", "robustness"}
    assert entry["parameters"]["school_id"] == "001" and entry["parameters"]["year"] == 2024
    assert entry["parameters"]["scores"] == str(year / "scores")
    assert set(entry["outputs"]) == {"ipynb", "html"}
    assert all((year / p).is_file() for p in entry["outputs"].values())
    assert m["run"]["state"] == "finished" and m["run"]["counts"] == {"done": 2, "skipped": 0, "failed": 2}

    done_before = {k: reports[k]["finished"] for k in ("school_report:001", "county_summary")}
    set_behaviour(tmp_path, {})
    assert run(run_file, "--only-failed") == 0
    reports = manifest(tmp_path)["reports"]
    assert {k: reports[k]["finished"] for k in done_before} == done_before
    assert {k: e["last_run"] for k, e in reports.items()} == {
        "school_report:001": "skipped", "county_summary": "skipped",
        "school_report:002": "done", "school_report:003": "done"}
    assert not failed.exists() and (year / "schools" / "002" / "002_2024_报告.html").is_file()
    assert leftovers(year) == []


def test_second_run_skips_everything_and_one_schools_change_redoes_it_and_the_county(tmp_path: Path) -> None:
    schools = {"001": "一小", "002": "二小", "003": "三小"}
    a1 = {("001", 2023): 12.0, ("002", 2023): 10.0, ("003", 2023): 6.0,
          ("001", 2024): 12.0, ("002", 2024): 10.0, ("003", 2024): 5.0}
    kinds = ("school_report", "county_summary", "school_trend")
    run_file = make_project(tmp_path, schools, a1, notebooks=kinds)
    assert run(run_file) == 0
    first = manifest(tmp_path)["reports"]
    assert len(first) == 7 and all(e["last_run"] == "done" for e in first.values())
    outputs = [tmp_path / "out" / "2024" / e["outputs"]["ipynb"] for e in first.values()]
    mtimes = [p.stat().st_mtime_ns for p in outputs]

    assert run(run_file) == 0
    second = manifest(tmp_path)["reports"]
    assert all(e["last_run"] == "skipped" for e in second.values())
    assert [p.stat().st_mtime_ns for p in outputs] == mtimes

    # school 003 corrects an evidence note only: no figure any other report shows moves, so only
    # its own reports and the county's are redone
    write_year(tmp_path, 2024, {"001": 12.0, "002": 10.0, "003": 5.0})
    text = (tmp_path / "obs_2024.csv").read_text(encoding="utf-8").splitlines()
    text[-1] = text[-1][: text[-1].rindex(",")] + ',"补充了会议记录"'
    (tmp_path / "obs_2024.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    assert run(run_file) == 0
    redone = {k for k, e in manifest(tmp_path)["reports"].items() if e["last_run"] == "done"}
    assert redone == {"school_report:003", "school_trend:003", "county_summary"}

    # school 003 corrects its 2024 value (still last in the county, so no other rank moves): the
    # county mean every report shows moves, so every report is redone (none left stale)
    write_year(tmp_path, 2024, {"001": 12.0, "002": 10.0, "003": 7.0})
    assert run(run_file) == 0
    third = manifest(tmp_path)["reports"]
    redone = {k for k, e in third.items() if e["last_run"] == "done"}
    assert redone == set(third)
    shown = json.loads(cell_lines(tmp_path / "out" / "2024" / third["school_report:003"]["outputs"]["ipynb"],
                                  "REPORT ")[0])
    assert "三小" in shown and "总分" in shown

    # asking for HTML too renders the up-to-date notebooks without executing them again
    ipynb_mtimes = {k: (tmp_path / "out" / "2024" / e["outputs"]["ipynb"]).stat().st_mtime_ns
                    for k, e in third.items()}
    assert run(run_file, "--formats", "html") == 0
    fourth = manifest(tmp_path)["reports"]
    assert all(e["last_run"] == "done" and "execute" not in e["timings"] for e in fourth.values())
    assert all((tmp_path / "out" / "2024" / e["outputs"]["html"]).is_file() for e in fourth.values())
    assert {k: (tmp_path / "out" / "2024" / e["outputs"]["ipynb"]).stat().st_mtime_ns
            for k, e in fourth.items()} == ipynb_mtimes

    # the scoreboard for the bureau
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "out" / "2024" / "scoreboard.xlsx")
    assert wb.sheetnames[0] == "总表" and wb.sheetnames[-1] == "指标明细" and len(wb.sheetnames) >= 3
    total = wb["总表"]
    headers = [c.value for c in total[1]]
    assert headers[:4] == ["排名", "学校编号", "学校名称", "学校类型"]
    assert {"基础分", "加分", "总分", "等次"} <= set(headers)
    assert total.freeze_panes == "D2"
    assert [total.cell(row=r, column=2).value for r in (2, 3, 4)] == ["001", "002", "003"]
    grade_cell = total.cell(row=2, column=headers.index("等次") + 1)
    expected = GRADE_FILLS[load_framework().grade_order.index(grade_cell.value)]
    assert grade_cell.fill.fgColor.rgb.endswith(expected)
    detail = wb["指标明细"]
    assert [c.value for c in detail[1]][:5] == ["学校编号", "学校名称", "领域", "指标编号", "指标名称"]


def test_hostile_ids_and_names_reach_notebooks_exactly_and_never_escape(tmp_path: Path) -> None:
    evil_name = '名"称\'\n第二行 """; open("pwned", "w") #{school_id}\\'
    schools = {
        "O'Brien '1'": evil_name,
        "学校 ü": "Ünïcødé 学校\t甲",
        "../evil": "越界",
        "-rf": "横杠",
        "a\\b": "反斜杠",
        "..": "点点",
        'O"Brien': "双引号",
        "CON": "设备名",
    }
    run_file = make_project(tmp_path / "p", schools, notebooks=("school_report",), formats="[html]")
    assert run(run_file) == 1
    year = tmp_path / "p" / "out" / "2024"
    reports = manifest(tmp_path / "p")["reports"]
    for sid in ("../evil", "-rf", "a\\b", "..", 'O"Brien', "CON"):
        entry = reports[f"school_report:{sid}"]
        assert entry["status"] == "failed" and "不能用作文件夹名" in entry["error"]
    for sid in ("O'Brien '1'", "学校 ü"):
        entry = reports[f"school_report:{sid}"]
        assert entry["status"] == "done", entry["error"]
        ipynb = year / entry["outputs"]["ipynb"]
        assert ipynb.parent == year / "schools" / sid
        received = json.loads(cell_lines(ipynb, "PARAMS ")[0])
        assert received["school_id"] == sid and received["year"] == 2024
        shown = json.loads(cell_lines(ipynb, "REPORT ")[0])
        assert schools[sid] in shown
        assert (year / entry["outputs"]["html"]).is_file()
    assert sorted(p.name for p in (year / "schools").iterdir()) == sorted(["O'Brien '1'", "学校 ü"])
    assert not list(tmp_path.rglob("pwned")) and not (tmp_path / "p" / "out" / "evil").exists()
    assert not (tmp_path / "evil").exists()


def _wait_for(predicate, timeout: float = 180) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _reports(root: Path) -> dict:
    try:
        return manifest(root)["reports"]
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def test_interrupted_runs_leave_no_partial_file_and_resume(tmp_path: Path) -> None:
    schools = {"001": "一小", "002": "二小", "003": "三小"}
    pid_dir = tmp_path / "pids"
    run_file = make_project(tmp_path, schools, behaviour={"sleep": {"002": 120}, "pid_dir": str(pid_dir)},
                            formats="[html]", jobs=1)
    cmd = [sys.executable, "-m", "evalkit.cli.app", "run", str(run_file)]
    year = tmp_path / "out" / "2024"

    def done(key: str) -> bool:
        return _reports(tmp_path).get(key, {}).get("status") == "done"

    def kernel_of(school: str) -> list[int]:
        return [int(p.name) for p in pid_dir.glob("*") if p.read_text() == school] if pid_dir.exists() else []

    # 1. `kill` (SIGTERM) while 002 hangs: a clean stop, exit 130
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    _wait_for(lambda: done("school_report:001") and kernel_of("002"))
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "运行已中断" in out.decode()
    assert manifest(tmp_path)["run"]["state"] == "interrupted"
    assert leftovers(year) == [] and not (year / "schools" / "002").exists()
    _wait_for(lambda: not any(pid_alive(p) for p in kernel_of("002")), 10)
    finished = {k: e["finished"] for k, e in manifest(tmp_path)["reports"].items()}
    assert set(finished) == {"county_summary", "school_report:001"}

    # 2. SIGKILL of the whole process group (as a crash or an OOM kill): nothing partial
    for p in pid_dir.iterdir():
        p.unlink()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    _wait_for(lambda: kernel_of("002"))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    for f in year.rglob("*"):
        if f.is_file() and not f.name.startswith("."):
            if f.suffix == ".ipynb":
                nbformat.read(f, as_version=4)  # every file under a final name is complete
            assert "002" not in f.name
    assert {k: e["finished"] for k, e in manifest(tmp_path)["reports"].items()} == finished

    # 3. resume (in this process): only what did not finish runs, and nothing is left behind
    set_behaviour(tmp_path, {})
    assert run(run_file) == 0
    reports = manifest(tmp_path)["reports"]
    assert {k: e["last_run"] for k, e in reports.items()} == {
        "county_summary": "skipped", "school_report:001": "skipped",
        "school_report:002": "done", "school_report:003": "done"}
    assert {k: reports[k]["finished"] for k in finished} == finished
    assert leftovers(year) == []
    _wait_for(lambda: not any(pid_alive(p) for p in kernel_of("002")), 10)


# --------------------------------------------------------------------------- the real reports


def test_real_school_report_pdf_has_name_total_and_embedded_cjk_font(demo_run) -> None:  # type: ignore[no-untyped-def]
    """School 001's PDF from the session's real run (``demo_run``, tests/conftest.py: the real
    ``school_report`` notebook on the demo county's 2022–2024 data)."""
    from pypdf import PdfReader

    from evalkit.results import Results

    row = Results.load(demo_run.year / "scores").school("001", 2024)
    pdf = demo_run.year / demo_run.manifest()["reports"]["school_report:001"]["outputs"]["pdf"]
    reader = PdfReader(pdf)
    text = "".join(page.extract_text() for page in reader.pages)
    assert row["school_name"] in text
    assert f"{row['total']:.1f}" in text
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            embedded = ("/FontFile", "/FontFile2", "/FontFile3")
            if desc is not None and any(k in desc.get_object() for k in embedded):
                fonts.add(str(font["/BaseFont"]))
    assert any("CJK" in f for f in fonts), fonts  # e.g. TSPJMR+Noto-Sans-CJK-SC, embedded subset
