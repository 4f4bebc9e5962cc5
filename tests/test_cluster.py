"""Reports on a real Dask cluster: a ``dask scheduler`` process and two ``dask worker`` processes
on 127.0.0.1, started and stopped here (``evalkit.runtime.dask_executor``).

A synthetic city of two counties with three schools each (``evalkit.demo.city``, seed 20240901),
school reports only, HTML only, robustness off. The reference is the local executor's run of the
same run file: the Dask run must give the same totals, grades and ranks (the ``data-*`` markers of
each report's HTML, written by ``evalkit.publish.present``). The first test runs the real
``school_report`` notebook on the cluster; the tests of faults (a worker of another version, a
worker killed, every worker lost) run the light one of ``tests/fixtures/batch/headline.ipynb`` (the
real report's parameters and its headline block, hence the same markers) against a local reference
made with it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.demo.city import generate_city
from evalkit.planner.manifest import Manifest
from evalkit.planner.run import RunError, run_batch
from evalkit.planner.runfile import load_run_file

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).parent / "dask"
FAKE_VERSION = Path(__file__).parent / "fixtures" / "cluster" / "fake_version.py"
LIGHT_REPORT = Path(__file__).parent / "fixtures" / "batch" / "headline.ipynb"
MARKERS = re.compile(r'data-(total|grade|rank|school-id)="([^"]*)"')


class Cluster:
    """A scheduler and named workers as separate processes (killed at the end)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.file = folder / "scheduler.json"
        self.procs: dict[str, subprocess.Popen] = {}
        log = open(folder / "scheduler.log", "wb")
        self.procs["scheduler"] = subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(self.file)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        import json

        while time.monotonic() < deadline:
            try:
                self.address = json.loads(self.file.read_text())["address"]
                break
            except (ValueError, KeyError):
                time.sleep(0.2)

    def add_worker(self, name: str, *extra: str) -> None:
        log = open(self.folder / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(
            [str(DASK), "worker", "--scheduler-file", str(self.file), "--host", "127.0.0.1", "--nthreads", "1",
             "--no-nanny", "--no-dashboard", "--name", name, *extra],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.folder)
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                names = {w.get("name") for w in client.scheduler_info()["workers"].values()}
                if name in names:
                    return
                time.sleep(0.3)
        raise AssertionError(f"worker {name} did not join")

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def close(self) -> None:
        for name in [n for n in self.procs if n != "scheduler"] + ["scheduler"]:
            if name in self.procs:
                self.stop(name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        c.add_worker("w1")
        c.add_worker("w2")
        yield c
    finally:
        c.close()


def _city(root: Path, school_report: Path | None = None) -> Path:
    """The synthetic city's run file: school reports only (``school_report`` instead of the real
    notebook when given), HTML only, robustness off."""
    run_file = generate_city(root, counties=2, years=(2024,), sizes=(3, 3), notebooks=ROOT / "notebooks")
    text = run_file.read_text(encoding="utf-8")
    text = re.sub(r"  county_summary: .*\n|  region_summary: .*\n", "", text).replace("[ipynb, html]", "[html]")
    if school_report is not None:
        text = re.sub(r"(  school_report: ).*\n", lambda m: f"{m.group(1)}{school_report}\n", text)
    run_file.write_text(text + "robustness: false\n", encoding="utf-8")
    return run_file


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def light_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same city with the light school report (tests/fixtures/batch/headline.ipynb)."""
    return _city(tmp_path_factory.mktemp("light_city"), LIGHT_REPORT)


def _reference(run_file: Path) -> dict[str, list[tuple[str, str]]]:
    local = run_batch(with_output(run_file, "local"), progress=False)
    assert (local.count("done"), local.count("failed")) == (6, 0)
    return markers(run_file.parent / "local" / "2024")


@pytest.fixture(scope="module")
def reference(city: Path) -> dict[str, list[tuple[str, str]]]:
    """The local executor's reports of the city (the kernel pool, no Dask)."""
    return _reference(city)


@pytest.fixture(scope="module")
def light_reference(light_city: Path) -> dict[str, list[tuple[str, str]]]:
    """The local executor's light reports of the city: each school's total, grade and rank, as
    the real report shows them."""
    found = _reference(light_city)
    assert len(found) == 6 and all(len(m) == 4 for m in found.values()), found
    return found


def with_output(run_file: Path, output: str, cluster: str | None = None):
    spec = load_run_file(run_file)
    from dataclasses import replace

    spec = replace(spec, output=run_file.parent / output,
                   counties=tuple(replace(c, output=run_file.parent / output) for c in spec.counties))
    return spec.with_options(cluster=cluster) if cluster else spec


def markers(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Report (relative path) → its total, grade, rank and school id markers."""
    return {p.relative_to(folder).as_posix(): MARKERS.findall(p.read_text(encoding="utf-8"))
            for p in sorted(folder.rglob("*_报告.html"))}


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files, work folders and failed notebooks: nothing may remain."""
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if (p.name.startswith(".") and p.name != ".lock") or p.name.endswith(".failed.ipynb")]


class Background:
    """``run_batch`` of a run file in a thread, so the test can kill workers while it runs."""

    def __init__(self, spec) -> None:  # type: ignore[no-untyped-def]
        self.box: dict[str, object] = {}
        self.thread = threading.Thread(target=lambda: self.box.setdefault("report", run_batch(spec, progress=False)))
        self.thread.start()

    def wait_until(self, ready, what: str) -> None:  # type: ignore[no-untyped-def]
        """Wait (up to 300 s) until ``ready()``, asserting the run is still going then."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and self.thread.is_alive() and not ready():
            time.sleep(0.1)
        assert self.thread.is_alive(), f"the run ended before {what}"

    def finish(self):  # type: ignore[no-untyped-def]
        """Wait for the run; assert every report is done (naming the reasons of any that is not)."""
        self.thread.join(timeout=600)
        report = self.box["report"]
        reasons = [(o.job.label, o.reason) for o in report.outcomes if o.status != "done"]  # type: ignore[attr-defined]
        assert (report.count("done"), report.count("failed"), reasons) == (6, 0, [])  # type: ignore[attr-defined]
        return report


def test_dask_cluster_gives_the_same_reports_as_the_local_executor(
    city: Path, cluster: Cluster, reference: dict
) -> None:
    on_dask = run_batch(with_output(city, "dask", cluster.address), progress=False)
    assert (on_dask.count("done"), on_dask.count("failed")) == (6, 0)
    a, b = reference, markers(city.parent / "dask" / "2024")
    assert len(a) == 6 and all(a.values())
    assert a == b
    # both counties have a school 001, each ranked in its own county only (n = 3 schools)
    assert {"东川县/schools/001/001_2024_报告.html", "西江县/schools/001/001_2024_报告.html"} <= set(b)
    html = (city.parent / "dask" / "2024" / "东川县" / "schools" / "001" / "001_2024_报告.html").read_text()
    assert "西江" not in html  # a school's report never shows another county's schools
    assert leftovers(city.parent / "dask") == []
    # a second run on the cluster skips everything: the client journaled the manifest
    again = run_batch(with_output(city, "dask", cluster.address), progress=False)
    assert again.count("skipped") == 6


def test_a_worker_with_another_evalkit_version_is_refused_by_name(light_city: Path, cluster: Cluster) -> None:
    cluster.add_worker("odd-worker", "--preload", str(FAKE_VERSION))
    try:
        with pytest.raises(RunError, match=r"odd-worker.*0\.0\.0\+fake"):
            run_batch(with_output(light_city, "refused", cluster.address), progress=False)
    finally:
        cluster.stop("odd-worker")
    assert not list((light_city.parent / "refused").rglob("*.html"))  # nothing was run


def test_a_worker_killed_mid_run_has_its_reports_rerun_elsewhere(
    light_city: Path, cluster: Cluster, light_reference: dict
) -> None:
    out = light_city.parent / "killed"
    run = Background(with_output(light_city, "killed", cluster.address))
    from distributed import Client

    with Client(cluster.address, timeout=30) as client:
        w2 = next(a for a, w in client.scheduler_info()["workers"].items() if w.get("name") == "w2")
        # kill w2 while the scheduler says it is processing a report, after a first report landed
        run.wait_until(lambda: client.processing().get(w2) and list(out.rglob("*_报告.html")), "a worker was killed")
        cluster.stop("w2", signal.SIGKILL)
    run.finish()
    found = sorted(p.relative_to(out).as_posix() for p in out.rglob("*_报告.html"))
    assert len(found) == len(set(found)) == 6
    assert leftovers(out) == []
    for county in ("东川县", "西江县"):
        manifest = Manifest.load(out / "2024" / county)
        assert sorted(e["status"] for e in manifest.reports.values()) == ["done"] * 3
        assert not manifest.journal_path.exists()
    assert markers(out / "2024") == light_reference


def test_a_run_whose_workers_are_all_lost_finishes_on_a_worker_that_joins_later(
    light_city: Path, cluster: Cluster, light_reference: dict
) -> None:
    """Machines lost and replaced: once a first report has landed, every worker is killed
    (SIGKILL) and a new one joins. It gets the run's scores from the scheduler (the inputs
    plugin) and runs the rest. Scattered inputs, used before, were lost with the last worker
    holding them ("lose scattered data, which can't be recovered") and the reports still to run
    were cancelled; this also happened with one worker lost once the scheduler's memory manager
    had dropped the other copies (CI, 2026-12-01: 2 of 6 reports "cancelled: already forgotten")."""
    out = light_city.parent / "replaced"
    run = Background(with_output(light_city, "replaced", cluster.address))
    run.wait_until(lambda: list(out.rglob("*_报告.html")), "its workers were killed")
    for name in [n for n in cluster.procs if n != "scheduler"]:
        cluster.stop(name, signal.SIGKILL)
    cluster.add_worker("w3")
    run.finish()
    assert leftovers(out) == []
    assert markers(out / "2024") == light_reference


def test_every_input_file_a_report_reads_is_shipped_to_workers(tmp_path: Path) -> None:
    """No shared file system: the scores folder and the framework, registry and intake-notes files
    are copied into the worker's own folder and the parameters point there (before the registry
    was shipped, a report on another machine looked for the client's registry path)."""
    from evalkit.runtime.dask_executor import RunInputs, materialise

    (tmp_path / "scores").mkdir()
    (tmp_path / "scores" / "meta.json").write_text("{}", encoding="utf-8")
    for name in ("fw.yaml", "registry.csv", "notes.csv"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    params = {"scores": str(tmp_path / "scores"), "framework": str(tmp_path / "fw.yaml"),
              "registry": str(tmp_path / "registry.csv"), "intake_notes": str(tmp_path / "notes.csv"),
              "data": str(tmp_path / "obs.csv")}
    inputs = RunInputs.collect(params)
    assert sorted(inputs.files) == ["framework/fw.yaml", "intake_notes/notes.csv", "registry/registry.csv",
                                    "scores/meta.json"]
    local = materialise(inputs)
    assert sorted(local) == ["framework", "intake_notes", "registry", "scores"]
    assert Path(local["registry"]).read_text(encoding="utf-8") == "registry.csv"
    assert not Path(local["registry"]).is_relative_to(tmp_path)
    import shutil

    shutil.rmtree(Path(local["scores"]).parent, ignore_errors=True)  # the worker folder of this test


def _worker_settings(dask_worker) -> tuple:  # type: ignore[no-untyped-def]
    import dask

    return (os.environ.get("MALLOC_TRIM_THRESHOLD_"), "profile" in dask_worker.periodic_callbacks,
            dask.config.get("distributed.admin.system-monitor.interval"))


def test_local_cluster_workers_skip_dasks_housekeeping_that_slowed_reports() -> None:
    """Dask's nanny would set MALLOC_TRIM_THRESHOLD_=65536 in every worker (reports ran ~10 %
    slower with it) and each worker would sample its task thread every 10 ms for Dask's
    profiler; ``dask-local:N`` workers start without either, and monitor every 5 s."""
    from evalkit.runtime.choice import parse_executor
    from evalkit.runtime.dask_executor import DaskExecutor

    executor = DaskExecutor(parse_executor("dask-local:1"))
    try:
        assert list(executor.client().run(_worker_settings).values()) == [(None, False, "5s")]
    finally:
        executor.close()


def test_a_region_summary_ships_only_the_counties_saved_scores(tmp_path: Path) -> None:
    """The region summary's ``scores`` is the year's output folder; a worker gets each listed
    county's ``<county>/scores`` from it, not the reports being written beside them."""
    from evalkit.runtime.dask_executor import RunInputs

    for county in ("东川县", "西江县", "南山县"):
        (tmp_path / county / "scores").mkdir(parents=True)
        (tmp_path / county / "scores" / "meta.json").write_text(county, encoding="utf-8")
        (tmp_path / county / "schools").mkdir()
        (tmp_path / county / "schools" / "001_报告.html").write_text("<html/>", encoding="utf-8")
    inputs = RunInputs.collect({"scores": str(tmp_path), "counties": "东川县,西江县"})
    assert sorted(inputs.files) == ["scores/东川县/scores/meta.json", "scores/西江县/scores/meta.json"]
    assert inputs.roots == {"scores": str(tmp_path)}


def test_a_regions_reports_and_its_summary_run_in_one_batch_on_a_dask_cluster(tmp_path: Path, cluster: Cluster) -> None:
    """Issue 22 on a real Dask cluster (the module's scheduler and worker processes): both counties' reports and
    the region summary go to the cluster in one ``run_jobs`` call (the summary used to run
    afterwards on a kernel pool of this machine), the summary reading the counties' scores the
    workers were sent; it is the same summary (its league table) as the local executor writes."""
    from evalkit.runtime.choice import parse_executor
    from evalkit.runtime.dask_executor import DaskExecutor
    from evalkit.runtime.executor import Executor

    run_file = generate_city(tmp_path, counties=2, years=(2024,), sizes=(3, 3), notebooks=ROOT / "notebooks")
    text = re.sub(r"  county_summary: .*\n", "", run_file.read_text(encoding="utf-8"))
    text = text.replace("[ipynb, html]", "[html]")
    text = re.sub(r"(  school_report: ).*\n", lambda m: f"{m.group(1)}{LIGHT_REPORT}\n", text)
    run_file.write_text(text + "robustness: false\n", encoding="utf-8")

    class Recording(Executor):
        def __init__(self, inner: Executor) -> None:
            self.inner, self.calls, self.kinds = inner, 0, []

        def start(self, notebooks):  # type: ignore[no-untyped-def]
            self.inner.start(notebooks)

        def run_jobs(self, jobs, on_result, **kw):  # type: ignore[no-untyped-def]
            self.calls += 1

            def watch():  # type: ignore[no-untyped-def]
                for job in jobs:
                    self.kinds.append(job.kind)
                    yield job

            self.inner.run_jobs(watch(), on_result, **kw)

        def close(self) -> None:
            self.inner.close()

    with Recording(DaskExecutor(parse_executor(cluster.address))) as executor:
        on_dask = run_batch(with_output(run_file, "dask"), progress=False, executor=executor)
    assert (on_dask.count("done"), on_dask.count("failed")) == (7, 0)
    assert executor.calls == 1 and sorted(executor.kinds) == ["region_summary"] + ["school_report"] * 6
    local = run_batch(with_output(run_file, "local"), progress=False)
    assert (local.count("done"), local.count("failed")) == (7, 0)

    def league(output: str) -> str:
        html = (tmp_path / output / "2024" / "region" / "区域汇总_2024.html").read_text(encoding="utf-8")
        return re.sub(r"<[^>]+>", " ", html.split('data-table="league"')[1].split("</table>")[0])

    assert "东川县" in league("dask") and "西江县" in league("dask")
    assert league("dask") == league("local")
    entry = Manifest.load(tmp_path / "dask" / "2024" / "region").reports["region_summary"]
    assert entry["status"] == "done" and entry["seconds"] > 0
    assert leftovers(tmp_path / "dask") == []
