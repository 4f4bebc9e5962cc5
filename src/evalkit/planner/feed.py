"""The jobs of a run fed to its executor while later county-years are still being opened.

Opening a county-year (:func:`~evalkit.planner.year.open_year`: robustness tables, saved
scores, the scoreboard workbook, the county's documents, the plan) takes seconds per county;
done for every county before the first report, it left every worker idle for a region's first
minute. A :class:`JobFeed` runs the opening in a thread of this process and hands each
county-year's jobs to the executor as soon as that county-year is open, so county *k*'s reports
run while county *k*+1 is opened (and the region summary, once every county's scores are saved,
runs beside the last counties' reports rather than after them).

Order: among the jobs available when a worker asks for one, the dearest first
(:data:`PRIORITY`: a county summary or audit takes several times a school report, a region
summary about two, a trend report about half; measured in docs/benchmarks.md), then in the
order they were opened — so the batch ends on the cheap reports and its tail is short.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from evalkit.planner.year import YearRun, interrupt_years
from evalkit.runtime.executor import Executor
from evalkit.runtime.job import Job, JobResult

PRIORITY = {"county_summary": 3, "framework_audit": 3, "region_summary": 2, "school_report": 1, "school_trend": 0}
"""A job's ``priority`` by kind: higher is dearer, taken first (other kinds: 1)."""

_END = float("inf")
_FAILED = float("-inf")


class JobFeed:
    """The jobs of the county-years ``opening`` yields (a generator run in a thread, started
    here), as an iterable for :meth:`~evalkit.runtime.executor.Executor.run_jobs`: iterating it
    gives the dearest available job, waits while more are being opened, and ends when
    ``opening`` is exhausted; an exception in ``opening`` is raised to the iterating thread.
    ``opened``: the county-years opened so far; :meth:`owner` the one a job belongs to."""

    def __init__(self, opening: Iterator[YearRun]):
        self.opened: list[YearRun] = []
        self._owner: dict[str, YearRun] = {}
        self._queue: queue.PriorityQueue[tuple[float, int, Any]] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._known = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, args=(opening,), name="evalkit-open", daemon=True)
        self._thread.start()

    def _produce(self, opening: Iterator[YearRun]) -> None:
        try:
            for year_run in opening:
                jobs = [replace(job, priority=PRIORITY.get(job.kind, 1)) for job in year_run.runnable]
                year_run.runnable = jobs
                for job in jobs:
                    self._owner[_key(job)] = year_run
                self.opened.append(year_run)
                self._known += len(jobs)
                for job in jobs:
                    self._queue.put((-job.priority, next(self._seq), job))
                if self._stop.is_set():
                    break
        except BaseException as err:  # raised again in the iterating thread
            self._queue.put((_FAILED, next(self._seq), err))
        finally:
            close = getattr(opening, "close", None)
            if close is not None:
                close()
            self._queue.put((_END, next(self._seq), None))

    def __iter__(self) -> Iterator[Job]:
        while True:
            try:
                rank, _, item = self._queue.get(timeout=0.5)  # a timeout: Ctrl-C is seen while waiting
            except queue.Empty:
                continue
            if rank == _END:
                self._queue.put((rank, next(self._seq), None))  # a second iteration ends too
                return
            if rank == _FAILED:
                raise item
            yield item

    def __length_hint__(self) -> int:
        """The number of jobs known so far (more may come while county-years are opened)."""
        return self._known

    def owner(self, job: Job) -> YearRun:
        """The opened county-year ``job`` belongs to."""
        return self._owner[_key(job)]

    def stop(self) -> None:
        """Open no further county-year (the one being opened is finished) and wait for that."""
        self._stop.set()
        self._thread.join()

    def join(self) -> None:
        """Wait until the opening is over (after the feed was iterated to its end)."""
        self._thread.join()


def _key(job: Job) -> str:
    """A job's identity across the run: its output folder and its key."""
    where = job.work_dir or job.failed_notebook or next(iter(job.outputs.values()), None)
    return f"{where}|{job.key}"


def execute_feed(feed: JobFeed, executor: Executor, *, workers: int | None, progress: bool, desc: str) -> None:
    """Run the jobs of every county-year ``feed`` opens on ``executor`` as they come (workers
    go from one county to the next without waiting for a county's last report, and start a
    county's reports while the next is opened), recording each result in its own year's
    manifest. On ``KeyboardInterrupt``, or an error while opening a later county-year, nothing
    more is opened, each opened year's manifest is marked interrupted (what finished is kept
    and recorded) and the exception propagates."""

    def record(job: Job, result: JobResult) -> None:
        feed.owner(job).record(job, result)

    def tick() -> None:
        for year_run in list(feed.opened):
            year_run.manifest.save_if_due()

    try:
        executor.run_jobs(feed, record, workers=workers, progress=progress, desc=desc, tick=tick)
        feed.join()
    except BaseException:
        feed.stop()
        interrupt_years(feed.opened)
        raise
