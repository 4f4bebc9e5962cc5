"""Running jobs in local worker processes, at most ``workers`` at a time, with a progress bar.

Each worker process runs one job at a time with the executor's own ``run`` (see
:class:`evalkit.runtime.executor.LocalExecutor`); results come back to the calling process,
which records them as they arrive. Ctrl-C (or SIGTERM turned into one) terminates the workers,
whose kernels are shut down by their interrupt handlers.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from evalkit.publish.markup import STYLESHEET_PROVIDED
from evalkit.runtime.job import Job, JobResult

CHART_CACHE_ENV = "EVALKIT_CHART_CACHE"
""":data:`evalkit.charts.cache.CACHE_ENV` (not imported from there: that would import matplotlib
into every process that runs jobs)."""

RunOne = Callable[[Job], JobResult]
"""Runs one job to completion in the worker process (picklable: a bound method of a frozen
dataclass executor); never raises for a failing notebook."""


_in_job = False


def _on_sigterm(signum: int, frame: object) -> None:
    """In a worker: interrupt the running job (its kernel is shut down on the way out), or end
    an idle worker at once."""
    if _in_job:
        raise KeyboardInterrupt(f"signal {signum}")
    os._exit(128 + signum)


def _init_worker(chart_folder: str = "", warm: Callable[[], object] | None = None) -> None:
    """Workers leave Ctrl-C to the main process, which stops them with SIGTERM; their kernels
    render reports whose template brings the blocks' stylesheet (:mod:`evalkit.publish.markup`)
    and share the batch's chart folder (:mod:`evalkit.charts.cache`). ``warm`` (a worker pool
    started ahead, :class:`StartedWorkers`) is then called: it must return at once, starting
    what it starts in the background; its failure is ignored (the first job then starts it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    os.environ[STYLESHEET_PROVIDED] = "1"
    if chart_folder:  # before warm: the kernel template it starts passes it on to every kernel
        os.environ[CHART_CACHE_ENV] = chart_folder
    if warm is not None:
        try:
            warm()
        except Exception:
            pass


def _run_job(run_one: RunOne, job: Job) -> JobResult:
    global _in_job
    _in_job = True
    try:
        result = run_one(job)
    except KeyboardInterrupt:
        os._exit(128 + signal.SIGTERM)  # the kernel is shut down already; end the worker now
    finally:
        _in_job = False
    _freeze_after_first_job()
    return result


_frozen = False


def _freeze_after_first_job() -> None:
    """After a worker's first report, move what is alive then (modules, the HTML exporter, the
    PDF font configuration, caches) out of the cyclic garbage collector's sight, so that its
    collections during the next reports only look at their own objects (measured in
    ``docs/benchmarks.md``). Garbage is collected first; only objects alive then are frozen."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def _new_pool(workers: int, chart_folder: str = "", warm: Callable[[], object] | None = None) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        # import once in the fork server, so each worker starts warm
        ctx.set_forkserver_preload(
            ["evalkit.runtime.lean_imports",  # first: before papermill's nbformat imports jsonschema
             "evalkit.runtime.executor", "evalkit.runtime.kernelpool", "papermill", "nbclient",
             "jupyter_client.manager", "evalkit.publish.render",
             "evalkit.runtime.warm_worker"]  # last: WeasyPrint, the cut fonts, the HTML exporter
        )
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(chart_folder, warm))


class StartedWorkers:
    """``workers`` worker processes started now, in a background thread (starting the first
    one waits for the fork server's imports, about a second), each calling ``warm`` as it
    starts; :func:`run_in_processes` takes them over (``started=``) instead of starting its own.

    For a run that will surely have jobs for every worker (see
    :meth:`evalkit.runtime.executor.Executor.expect`): the workers' start then overlaps what the
    run does before its first report, and costs nothing that the first jobs would not have
    cost. :meth:`close` ends them when they were never taken over."""

    def __init__(self, workers: int, warm: Callable[[], object] | None = None):
        import threading

        self.workers = workers
        self.charts = tempfile.TemporaryDirectory(prefix="evalkit-charts-")  # the batch's charts, drawn once
        self.pool: ProcessPoolExecutor | None = None
        self._thread = threading.Thread(target=self._start, args=(warm,), name="evalkit-workers", daemon=True)
        self._thread.start()

    def _start(self, warm: Callable[[], object] | None) -> None:
        pool = None
        try:
            pool = _new_pool(self.workers, self.charts.name, warm)
            # a process is started per job submitted while none is idle: one no-op job each
            for fut in [pool.submit(os.getpid) for _ in range(self.workers)]:
                fut.result()
            self.pool = pool
        except BaseException:  # the run starts its own workers instead (take() finds no pool)
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def take(self, workers: int) -> ProcessPoolExecutor | None:
        """The started pool when it has ``workers`` workers and started well (it is then the
        caller's); else ``None`` (and whatever was started is ended)."""
        self._thread.join()
        pool, self.pool = self.pool, None
        if pool is not None and workers != self.workers:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        if pool is None:
            self.charts.cleanup()
        return pool

    def close(self) -> None:
        """End the workers if they were not taken over."""
        self._thread.join()
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.charts.cleanup()


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Terminate the workers now (their kernels are shut down by their interrupt handlers)."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public API for this
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 10
    for p in processes:
        p.join(timeout=max(0.1, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(timeout=2)
    pool.shutdown(wait=False, cancel_futures=True)


def _running_text(running: list[Job], limit: int = 60) -> str:
    if not running:
        return ""
    text = running[0].label
    if len(running) > 1:
        text += f" 等 {len(running)} 份"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_in_processes(
    jobs: Iterable[Job],
    run_one: RunOne,
    workers: int,
    on_result: Callable[[Job, JobResult], None],
    *,
    progress: bool = True,
    desc: str = "报告",
    tick: Callable[[], object] | None = None,
    tick_seconds: float = 1.0,
    started: StartedWorkers | None = None,
) -> None:
    """Run ``jobs`` with ``run_one`` in ``workers`` worker processes, at most ``workers`` at a
    time, calling ``on_result`` (in this process) as each finishes, and ``tick`` (e.g. to save
    the manifest when due) after each finished batch and at least every ``tick_seconds``;
    ``started``: workers started ahead, used when they are ``workers`` (else ended). A
    tqdm bar on stderr names the report being processed. ``jobs`` may be lazy (a
    :class:`~evalkit.planner.feed.JobFeed` whose counties are still being opened): a job is
    taken from it when a worker is free to start it, in the order given. On
    ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM turned into one) the workers are terminated and
    the interrupt propagates."""
    from tqdm import tqdm

    source = iter(jobs)
    try:
        first = next(source, None)
    except BaseException:  # the feed could not open its first county-year, or Ctrl-C
        if started is not None:
            started.close()
        raise
    if first is None:
        if started is not None:
            started.close()
        return
    sized = isinstance(jobs, Sized)
    workers = max(1, min(workers, len(jobs))) if sized else max(1, workers)  # type: ignore[arg-type]
    pending = deque([first])
    exhausted = False
    running: dict[Future[JobResult], Job] = {}
    bar = tqdm(
        total=_hint(jobs), unit="份", desc=desc, disable=not progress, file=sys.stderr, dynamic_ncols=True
    )
    pool = started.take(workers) if started is not None else None
    # the batch's charts, drawn once (a pool started ahead brought its own folder)
    charts = started.charts if pool is not None else tempfile.TemporaryDirectory(prefix="evalkit-charts-")
    pool = pool or _new_pool(workers, charts.name)
    try:
        while pending or running or not exhausted:
            while len(running) < workers and (pending or not exhausted):
                job = pending.popleft() if pending else next(source, None)
                if job is None:
                    exhausted = True
                    break
                running[pool.submit(_run_job, run_one, job)] = job
            if not sized:
                bar.total = max(_hint(jobs) or 0, bar.n + len(running))
            if not running:
                continue
            bar.set_postfix_str(_running_text(list(running.values())), refresh=True)
            done, _ = wait(list(running), timeout=tick_seconds if tick else None, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                job = running.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    broken = True
                    result = JobResult.failure(
                        job, "工作进程意外退出（可能内存不足）/ the worker process died"
                    )
                except Exception as err:  # an executor bug must not stop the others
                    result = JobResult.failure(job, f"{type(err).__name__}: {err}")
                on_result(job, result)
                bar.update(1)
            if broken:
                for job in list(running.values()):
                    on_result(job, JobResult.failure(job, "工作进程意外退出 / the worker process died"))
                    bar.update(1)
                running.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _new_pool(workers, charts.name)
            if tick is not None:
                tick()
    except BaseException:
        _stop_pool(pool)
        charts.cleanup()
        raise
    finally:
        bar.close()
    pool.shutdown(wait=True)
    charts.cleanup()


def _hint(jobs: Iterable[Job]) -> int | None:
    """How many jobs there are (a list), or are known so far (a lazy feed); ``None``: unknown."""
    import operator

    return operator.length_hint(jobs) or None
