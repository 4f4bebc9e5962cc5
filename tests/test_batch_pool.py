"""The default executor (:class:`evalkit.planner.KernelPoolExecutor`): pre-started kernels forked
from a warm template, one new kernel per report, nothing carried from one school to the next; and
the manifest's journal.

``tests/fixtures/batch/isolation.ipynb`` prints what it can see of earlier runs (a global, an
environment variable, attributes of an imported module, a pandas option, a matplotlib setting,
the namespace), then leaves all of those behind. ``behaviour.json`` next to it makes a school
``fail``, ``hang`` or ``die``. Runs use ``jobs: 1``, so one worker (one pool) runs every school
in turn.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from evalkit.planner.manifest import JOURNAL_NAME, Manifest
from evalkit.planner.run import run_batch
from evalkit.planner.runfile import load_run_file
from evalkit.runtime.executor import PapermillExecutor
from evalkit.runtime.kernelpool import KernelPoolExecutor

FIXTURE = Path(__file__).parent / "fixtures" / "batch" / "isolation.ipynb"
COLUMNS = ["school_id", "school_name", "school_type", "township", "pupils", "staff", "party_members", "branch",
           "active_from", "active_to"]


def make_project(root: Path, schools: list[str], behaviour: dict | None = None, cell_timeout: float = 30) -> Path:
    """A run file over the isolation notebook: one school report per school, ipynb only, one job."""
    (root / "nb").mkdir(parents=True)
    shutil.copy(FIXTURE, root / "nb" / "report.ipynb")
    (root / "nb" / "behaviour.json").write_text(json.dumps(behaviour or {}), encoding="utf-8")
    with open(root / "registry.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i, sid in enumerate(schools):
            w.writerow([sid, f"学校{i}", "小学", "城关镇", 100, 10, 5, "第一支部", 2024, ""])
    with open(root / "obs.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["school_id", "year", "indicator_id", "item", "source", "rater", "value", "evidence"])
        for i, sid in enumerate(schools):
            w.writerow([sid, 2024, "A1", "", "inspection", "", 6.0 + i, ""])
    (root / "run.yaml").write_text(
        "year: 2024\ndata: [obs.csv]\nregistry: registry.csv\nnotebooks:\n  school_report: nb/report.ipynb\n"
        f"formats: [ipynb]\noutput: out\njobs: 1\ncell_timeout: {cell_timeout}\n",
        encoding="utf-8",
    )
    return root / "run.yaml"


def seen(ipynb: Path) -> dict:
    """What the report saw of earlier runs (the ``SEEN`` line of an executed notebook)."""
    for cell in nbformat.read(ipynb, as_version=4).cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out["text"].startswith("SEEN "):
                return json.loads(out["text"][5:])
    raise AssertionError(f"no SEEN line in {ipynb}")


def executed(root: Path, sid: str) -> Path:
    return root / "out" / "2024" / "schools" / sid / f"{sid}_2024_报告.ipynb"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def test_nothing_a_report_leaves_behind_reaches_the_next_school(tmp_path: Path) -> None:
    schools = ["001", "002", "003", "004"]
    run_file = make_project(tmp_path / "pool", schools)
    report = run_batch(load_run_file(run_file), progress=False, out=io.StringIO())
    assert report.exit_code == 0
    views = [seen(executed(tmp_path / "pool", sid)) for sid in schools]
    clean = {"global": None, "env": None, "module_attr": None, "palette": "#004488", "pandas_option": 60,
             "rc_font_size": 10.0, "left_module": False}
    for view in views:
        assert {k: view[k] for k in clean} == clean, view
        assert view["cwd"] == str(tmp_path / "pool" / "nb")
        assert "kernelfork.py" in view["parent"]  # forked from the warm template
    assert len({v["pid"] for v in views}) == len(schools)  # a new process per report
    assert len({json.dumps([v["names"], v["execution_count"]]) for v in views}) == 1
    year = tmp_path / "pool" / "out" / "2024"
    assert not (year / JOURNAL_NAME).exists()  # folded into manifest.json at the end
    entries = json.loads((year / "manifest.json").read_text(encoding="utf-8"))["reports"]
    for sid in schools:
        timings = entries[f"school_report:{sid}"]["timings"]
        assert {"kernel_wait", "kernel_start", "kernel_ahead", "cells", "execute", "write"} <= set(timings)
    for sid in schools[1:]:  # each later report's kernel began starting before the report asked for it
        assert entries[f"school_report:{sid}"]["timings"]["kernel_ahead"] > 0, entries[f"school_report:{sid}"]

    # what a report sees is what it would see in a kernel started for it by papermill
    spec = load_run_file(make_project(tmp_path / "papermill", schools[:1]))
    assert run_batch(spec, executor=PapermillExecutor(), progress=False,
                     out=io.StringIO()).exit_code == 0
    fresh = seen(executed(tmp_path / "papermill", "001"))
    for key in ("names", "execution_count", *clean):
        assert fresh[key] == views[0][key], key
    assert "kernelfork.py" not in fresh["parent"]
    pool_cells = [c.get("execution_count") for c in nbformat.read(executed(tmp_path / "pool", "001"), 4).cells]
    fresh_cells = [c.get("execution_count") for c in nbformat.read(executed(tmp_path / "papermill", "001"), 4).cells]
    assert pool_cells == fresh_cells


def test_hang_failure_and_crash_do_not_reach_the_next_kernel(tmp_path: Path) -> None:
    schools = ["001", "002", "003", "004"]
    pids = tmp_path / "pids"
    behaviour = {"hang": {"001": 120}, "fail": ["002"], "die": ["003"], "pid_dir": str(pids)}
    spec = load_run_file(make_project(tmp_path, schools, behaviour, cell_timeout=2))
    report = run_batch(spec, progress=False, out=io.StringIO())  # 001's 120 s hang is cut at 2 s (below)
    entries = json.loads((tmp_path / "out" / "2024" / "manifest.json").read_text(encoding="utf-8"))["reports"]
    status = {k.split(":")[1]: (e["status"], e["error"] or "") for k, e in entries.items()}
    assert status["001"][0] == "failed" and "超过 2 秒" in status["001"][1]
    assert status["002"][0] == "failed" and "planned failure for '002'" in status["002"][1]
    assert status["003"][0] == "failed" and "内核意外退出" in status["003"][1]
    assert status["004"] == ("done", "")
    assert report.count("failed") == 3
    view = seen(executed(tmp_path, "004"))
    assert view["global"] is None and view["env"] is None and view["module_attr"] is None
    failed = tmp_path / "out" / "2024" / "schools" / "001" / "001_2024_报告.failed.ipynb"
    assert "本报告执行失败" in failed.read_text(encoding="utf-8")
    deadline = time.monotonic() + 10
    while any(alive(int(p.name)) for p in pids.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p.read_text() for p in pids.iterdir() if alive(int(p.name))]  # the hung kernel too
    assert len(list(pids.iterdir())) == 4


def test_without_the_template_kernels_are_started_and_warmed_up_and_still_isolated(tmp_path: Path) -> None:
    spec = load_run_file(make_project(tmp_path, ["001", "002", "003"], {"fail": ["002"]}))
    report = run_batch(spec, executor=KernelPoolExecutor(fork=False), progress=False, out=io.StringIO())
    assert [o.status for o in sorted(report.outcomes, key=lambda o: o.job.school_id)] == ["done", "failed", "done"]
    first, last = seen(executed(tmp_path, "001")), seen(executed(tmp_path, "003"))
    assert last["global"] is None and last["module_attr"] is None and last["pandas_option"] == 60
    assert "kernelfork.py" not in last["parent"] and first["pid"] != last["pid"]
    assert first["names"] == last["names"] and "__evalkit_warm_up" not in last["names"]


def test_manifest_journal_keeps_every_report_and_rewrites_the_json_at_most_once_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from evalkit.planner import manifest

    clock = SimpleNamespace(now=1000.0)  # the manifest's clock, moved by the test only
    monkeypatch.setattr(manifest, "time", SimpleNamespace(monotonic=lambda: clock.now))
    m = Manifest(tmp_path)
    for i in range(100):
        m.set_report(f"school_report:{i:03d}", {"status": "done", "n": i})
    assert m.saves == 1 and m.dirty  # the first report at once, the next 99 only journaled
    clock.now += 0.999
    m.set_report("school_report:100", {"status": "done", "n": 100})
    assert m.saves == 1  # less than a second since the rewrite
    clock.now += 0.001
    m.set_report("school_report:101", {"status": "done", "n": 101})
    assert m.saves == 2 and not m.dirty  # a second after it: rewritten (journal dropped)
    assert len(json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["reports"]) == 102
    clock.now += 1.0
    for i in range(102, 200):
        m.set_report(f"school_report:{i:03d}", {"status": "done", "n": i})
    assert m.saves == 3  # once more, for the first of these
    # a run killed now (kill -9) leaves the journal: loading replays it, a torn last line ignored
    with open(tmp_path / JOURNAL_NAME, "ab") as f:
        f.write(b'{"key": "school_report:999", "ent')
    again = Manifest.load(tmp_path)
    assert len(again.reports) == 200 and again.reports["school_report:199"] == {"status": "done", "n": 199}
    assert again.dirty
    again.save()
    assert not (tmp_path / JOURNAL_NAME).exists()
    data = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert len(data["reports"]) == 200 and data["schema"] == 1
    lines = (tmp_path / "manifest.json").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith('    "school_report:') for line in lines) == 200  # one line per report


def test_school_digests_are_computed_at_once_and_follow_each_schools_rows() -> None:
    import pandas as pd

    from evalkit.planner.fingerprints import frame_digest, grouped_digests

    frame = pd.DataFrame({"school_id": ["1", "2", "1", "3", "2"], "x": [1.0, 2.0, 3.0, None, 5.0],
                          "y": ["a", "b", "c", "d", "e"]})
    digests = grouped_digests(frame, "school_id")
    assert digests == {sid: frame_digest(rows) for sid, rows in frame.groupby("school_id")}
    assert frame_digest(frame) == frame_digest(frame.iloc[::-1])  # row order does not count
    changed = frame.copy()
    changed.loc[2, "x"] = 3.5
    after = grouped_digests(changed, "school_id")
    assert after["1"] != digests["1"] and after["2"] == digests["2"] and after["3"] == digests["3"]


def test_preloaded_scores_are_shared_read_only_and_dropped_when_the_folder_changes(tmp_path: Path) -> None:
    import numpy as np

    from evalkit.analysis.examples import example_results
    from evalkit.api import load_results, preload_results
    from evalkit.results import Results

    saved = example_results()
    saved.save(tmp_path / "scores")
    year = saved.years[-1]
    preload_results(tmp_path / "scores")
    a, b = load_results(scores=str(tmp_path / "scores")), load_results(scores=str(tmp_path / "scores"))
    assert np.shares_memory(a.indicators["points"].to_numpy(), b.indicators["points"].to_numpy())  # read once
    first = load_results(year, scores=str(tmp_path / "scores"))
    assert first.schools.equals(Results.load(tmp_path / "scores").schools[lambda t: t["year"] <= year]
                                .reset_index(drop=True))
    first.schools.loc[0, "total"] = -1.0  # a report changing what it was given…
    first.meta["year"] = -1
    again = load_results(year, scores=str(tmp_path / "scores"))
    assert again.schools.loc[0, "total"] != -1.0 and again.meta["year"] == year  # …changes nothing for the next
    changed = example_results()
    changed.schools["total"] = 1.0
    changed.save(tmp_path / "scores")  # new files: the preloaded copy is not used any more
    assert (load_results(year, scores=str(tmp_path / "scores")).schools["total"] == 1.0).all()


def test_preloaded_registry_start_years_are_read_once_and_again_when_the_file_changes(tmp_path: Path) -> None:
    from evalkit.analysis.history import preload_registry, registry_start_years
    from evalkit.runtime.kernelfork import preload
    from evalkit.runtime.kernelpool import _ahead

    registry = tmp_path / "registry.csv"
    registry.write_text("school_id,school_name,active_from\n001,城关一小,2021\n002,石门小学,\n", encoding="utf-8")
    assert preload_registry(registry) is True  # read now…
    assert preload_registry(registry) is False  # …and only once while unchanged
    assert registry_start_years(str(registry)) == {"001": 2021}
    registry.write_text("school_id,school_name,active_from\n001,城关一小,2022\n002,石门小学,2023\n", encoding="utf-8")
    assert preload({"registries": [str(registry)]}) is True  # the template reads the new file
    assert registry_start_years(str(registry)) == {"001": 2022, "002": 2023}
    job = SimpleNamespace(parameters={"scores": "s", "framework": "f", "registry": str(registry)})
    assert _ahead(job)["registries"] == [str(registry)]  # what the pool asks the template to read
    assert _ahead(SimpleNamespace(parameters={"registry": ""}))["registries"] == []
