"""Worker processes started ahead (``Executor.expect``): started while the run prepares its
reports only when every worker is sure to get reports, taken over by the run's ``run_jobs``
(the reports run in them, after what ``warm`` started), ended when never used; a kernel pool's
workers started ahead start the kernel template, and the reports' kernels are forked from it."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import nbformat
import pytest

from evalkit.planner.manifest import MANIFEST_NAME
from evalkit.planner.run import _sure_reports, run_batch
from evalkit.planner.runfile import load_run_file
from evalkit.runtime import executor as executor_module
from evalkit.runtime.executor import PRESTART_REPORTS_PER_WORKER, LocalExecutor
from evalkit.runtime.job import Job, JobResult, now
from evalkit.runtime.kernelpool import KernelPoolExecutor, notebook_kernel_name
from evalkit.runtime.processes import StartedWorkers, run_in_processes
from test_batch_pool import alive, executed, make_project, seen

WARMED = "EVALKIT_TEST_WARMED"


def _warm_mark() -> None:
    """What a worker started ahead does as it starts (here: say so, with its pid)."""
    os.environ[WARMED] = str(os.getpid())


def _who_ran(job: Job) -> JobResult:
    """A job that reports the worker that ran it and whether that worker was warmed."""
    return JobResult(key=job.key, status="done", started=now(), finished=now(), seconds=0.0,
                     error=json.dumps({"pid": os.getpid(), "warmed": os.environ.get(WARMED)}))


def _jobs(n: int, tmp_path: Path) -> list[Job]:
    return [Job(key=f"k{i}", kind="school_report", school_id=f"{i:03d}", school_name="", year=2024,
                notebook=tmp_path / "nb.ipynb", parameters={}, fingerprints={}) for i in range(n)]


def _ran(jobs: list[Job], started: StartedWorkers | None, workers: int) -> list[dict]:
    seen_by: list[dict] = []
    run_in_processes(jobs, _who_ran, workers, lambda job, result: seen_by.append(json.loads(result.error or "{}")),
                     progress=False, started=started)
    return seen_by


def test_workers_started_ahead_run_the_jobs_after_warming(tmp_path: Path) -> None:
    started = StartedWorkers(2, _warm_mark)
    ran = _ran(_jobs(6, tmp_path), started, 2)
    assert len(ran) == 6
    assert all(r["warmed"] == str(r["pid"]) for r in ran), ran  # each ran where warm had run first
    assert started.pool is None  # taken over (and shut down by run_in_processes at its end)


def test_workers_started_ahead_for_another_count_are_ended_and_not_used(tmp_path: Path) -> None:
    started = StartedWorkers(1, _warm_mark)
    started._thread.join()
    assert started.pool is not None
    ahead = list(started.pool._processes)
    ran = _ran(_jobs(3, tmp_path), started, 2)
    assert len(ran) == 3
    assert all(r["warmed"] is None for r in ran)  # the run's own workers, not warmed
    assert not set(ahead) & {r["pid"] for r in ran}


def test_workers_started_ahead_are_ended_when_there_is_no_job(tmp_path: Path) -> None:
    started = StartedWorkers(1)
    started._thread.join()
    pids = list(started.pool._processes)
    assert _ran([], started, 1) == []
    assert started.pool is None
    assert not any(alive(pid) for pid in pids)  # ended by run_in_processes


class _Recording(LocalExecutor):
    """A local executor whose workers are never used (``expect`` is the one under test)."""

    def run(self, job: Job) -> JobResult:  # pragma: no cover - not run
        raise AssertionError


@pytest.mark.parametrize(("reports", "workers", "starts"), [
    (PRESTART_REPORTS_PER_WORKER * 2 - 1, 2, False),  # fewer than 4 per worker: a short run, left alone
    (PRESTART_REPORTS_PER_WORKER * 2, 2, True),
    (PRESTART_REPORTS_PER_WORKER, 1, True),
])
def test_expect_starts_workers_only_for_enough_reports_per_worker(reports: int, workers: int, starts: bool) -> None:
    ex = _Recording()
    try:
        ex.expect([], reports, workers=workers)
        started = executor_module._STARTED.get(ex)
        assert (started is not None) == starts
        if started is not None:
            assert started.workers == workers
    finally:
        ex.close()
    assert ex not in executor_module._STARTED


def test_sure_reports_counts_schools_only_when_every_report_will_run(tmp_path: Path) -> None:
    import pandas as pd

    class County:
        def year_folder(self, year: int) -> Path:
            return tmp_path / str(year)

    class Scored:
        schools = pd.DataFrame({"school_id": ["001", "002", "003", "001"], "year": [2024, 2024, 2024, 2023]})

    todo = [(County(), None, Scored(), [], 2024, None), (County(), None, Scored(), [], 2023, ["001"])]
    assert _sure_reports(todo, force=False, only_failed=False) == 3 + 1  # fresh folders: all will run
    assert _sure_reports(todo, force=True, only_failed=True) == 0  # only the failed ones: unknown
    (tmp_path / "2023").mkdir()
    (tmp_path / "2023" / MANIFEST_NAME).write_text("{}", encoding="utf-8")
    assert _sure_reports(todo, force=False, only_failed=False) == 0  # some may be up to date
    assert _sure_reports(todo, force=True, only_failed=False) == 4


def _spy_expect(monkeypatch: pytest.MonkeyPatch, calls: list[tuple[int, int | None]]) -> None:
    """``KernelPoolExecutor.expect`` calls recorded (reports, workers), in this process."""
    expect = KernelPoolExecutor.expect

    def spy(self: KernelPoolExecutor, notebooks: list[Path], reports: int, *, workers: int | None = None) -> None:
        calls.append((reports, workers))
        expect(self, notebooks, reports, workers=workers)

    monkeypatch.setattr(KernelPoolExecutor, "expect", spy)


def test_a_pools_workers_started_ahead_fork_every_report_from_the_template_they_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of 4 schools on one worker (``jobs: 1``) into a new folder: its worker is started
    ahead, starts the kernel template, and is taken over by the run; every report's kernel is
    forked from that one template (the same parent process for all) and sees what it always
    sees. Run again, with every report up to date, nothing is started ahead."""
    taken: list[bool] = []
    take = StartedWorkers.take
    monkeypatch.setattr(StartedWorkers, "take", lambda self, workers: taken.append(
        (pool := take(self, workers)) is not None) or pool)
    schools = ["001", "002", "003", "004"]
    run_file = make_project(tmp_path / "ahead", schools)
    spec = load_run_file(run_file)
    notebook = spec.notebooks["school_report"]
    assert notebook_kernel_name(notebook) == nbformat.read(notebook, 4).metadata.kernelspec.name
    calls: list[tuple[int, int | None]] = []
    _spy_expect(monkeypatch, calls)
    with KernelPoolExecutor() as ex:
        report = run_batch(spec, executor=ex, progress=False, out=io.StringIO())
        assert ex not in executor_module._STARTED
    assert report.exit_code == 0
    assert calls == [(4, 1)] and taken == [True]
    views = [seen(executed(tmp_path / "ahead", sid)) for sid in schools]
    assert all("kernelfork.py" in v["parent"] for v in views)
    assert len({v["ppid"] for v in views}) == 1  # one template
    assert len({v["pid"] for v in views}) == len(schools)  # a new kernel per report, as always
    assert all(v["cwd"] == str(notebook.parent) for v in views)

    calls.clear()
    again = run_batch(load_run_file(run_file), progress=False, out=io.StringIO())
    assert again.exit_code == 0 and calls == [] and taken == [True]  # up to date: nothing started


def test_workers_started_ahead_are_ended_when_the_jobs_cannot_be_given(tmp_path: Path) -> None:
    """A lazy feed that raises before its first job (a county-year that cannot be opened)."""
    started = StartedWorkers(1)
    started._thread.join()
    pids = list(started.pool._processes)

    def feed():  # type: ignore[no-untyped-def]
        raise RuntimeError("县区打不开")
        yield

    with pytest.raises(RuntimeError, match="县区打不开"):
        run_in_processes(feed(), _who_ran, 1, lambda job, result: None, progress=False, started=started)
    assert started.pool is None
    assert not any(alive(pid) for pid in pids)
