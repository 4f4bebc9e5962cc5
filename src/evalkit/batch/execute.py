"""Executing jobs: the :class:`Executor` interface, the papermill executor, and the parallel
runner that drives executors in worker processes.

An executor turns one :class:`~evalkit.batch.plan.Job` into a :class:`JobResult`; it never
raises for a failing notebook. :class:`PapermillExecutor` starts a fresh kernel per notebook;
a faster executor (e.g. one keeping pre-started kernels) only needs the same ``run`` method.

Files: papermill writes the executed notebook into the year's hidden ``.work/`` folder; HTML,
PDF and Word (``.docx``, from the same HTML: :mod:`evalkit.documents.pandoc`) are rendered in
memory and written atomically (:mod:`evalkit.atomic`), and the executed notebook is then renamed
to its final name. A failed notebook is kept, with its error, as
``<stem>.failed.ipynb`` beside the report, and the report's previous outputs (now stale) are
removed. Nothing is ever left half-written under a final name.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import signal
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from evalkit.atomic import atomic_write_bytes, atomic_write_text
from evalkit.batch.manifest import now
from evalkit.batch.plan import Job


@dataclass
class JobResult:
    """How one job ended: ``status`` is ``done`` or ``failed`` (with ``error``)."""

    key: str
    status: str
    started: str
    finished: str
    seconds: float
    outputs: dict[str, str] = field(default_factory=dict)
    failed_notebook: str | None = None
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def failure(cls, job: Job, error: str, started: str | None = None, seconds: float = 0.0) -> JobResult:
        """A failed result that produced nothing."""
        return cls(
            key=job.key,
            status="failed",
            started=started or now(),
            finished=now(),
            seconds=seconds,
            error=error,
        )


class Executor(Protocol):
    """Runs one job to completion (executes the notebook, writes every requested output)."""

    def run(self, job: Job) -> JobResult:  # pragma: no cover - protocol
        ...


def describe_error(err: BaseException, job: Job) -> str:
    """A one-paragraph Chinese (and English) description of why a notebook failed."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        return (
            f"第 {err.exec_count} 个执行单元格出错 / cell {err.exec_count} raised "
            f"{err.ename}: {err.evalue}".strip()
        )
    if isinstance(err, CellTimeoutError):
        return (
            f"单元格运行超过 {job.cell_timeout:g} 秒，已终止内核 / a cell timed out after "
            f"{job.cell_timeout:g} s and its kernel was killed"
        )
    if isinstance(err, DeadKernelError):
        return f"内核意外退出 / the kernel died: {err}"
    return f"{type(err).__name__}: {err}"


def _remove(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


@functools.cache
def ipc_kernel_manager_class() -> type:
    """A kernel manager talking to its kernel over Unix sockets in the temp folder rather than
    localhost TCP (no open ports; no "running over TCP without encryption" warning)."""
    import tempfile

    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):  # type: ignore[misc]
        def __init__(self, **kwargs: object) -> None:
            kwargs.setdefault("transport", "ipc")
            prefix = os.path.join(tempfile.gettempdir(), f"evalkit-kernel-{uuid.uuid4().hex[:12]}")
            kwargs.setdefault("ip", prefix)
            super().__init__(**kwargs)

    return IPCKernelManager


ExecuteFn = Callable[[Job, Path, dict[str, float]], None]
"""Executes ``job``'s notebook and writes the executed notebook to the given work path, adding
its timings (seconds) to the dict; raises for a failing notebook (leaving at the work path what
was executed, if anything)."""


def run_and_render(job: Job, execute: ExecuteFn) -> JobResult:
    """The part every executor shares: execute with ``execute`` into a work file under the
    year's ``.work/`` folder, render and write the outputs, and turn any failure into a result
    (the executed notebook kept as ``<stem>.failed.ipynb``, stale outputs removed).

    Timings (seconds, in ``JobResult.timings``): ``execute`` (to an executed notebook, kernel
    start included when it is on the critical path), ``html``, ``pdf``, ``write`` (the files),
    and whatever ``execute`` adds (``kernel_start``, ``kernel_wait``, ``cells``)."""
    started, t0 = now(), time.monotonic()
    if job.refused:
        return JobResult.failure(job, job.refused, started)
    assert job.work_dir is not None and job.failed_notebook is not None
    job.work_dir.mkdir(parents=True, exist_ok=True)
    work = job.work_dir / f"{uuid.uuid4().hex}.ipynb"
    timings: dict[str, float] = {}
    try:
        try:
            if job.render_only:  # the executed notebook is up to date: only render it
                written = _render_and_write(job, job.outputs["ipynb"], timings, move=False)
            else:
                execute(job, work, timings)
                timings["execute"] = round(time.monotonic() - t0, 3)
                written = _render_and_write(job, work, timings)
        except Exception as err:  # every failure becomes a result
            error = describe_error(err, job)
            kept = _keep_failed(work, job.failed_notebook, error, err) if work.exists() else None
            _remove(list(job.outputs.values()))
            return JobResult(
                key=job.key,
                status="failed",
                started=started,
                finished=now(),
                seconds=round(time.monotonic() - t0, 3),
                failed_notebook=kept,
                error=error,
                timings=timings,
            )
    finally:
        work.unlink(missing_ok=True)
    _remove([job.failed_notebook])
    return JobResult(
        key=job.key,
        status="done",
        started=started,
        finished=now(),
        seconds=round(time.monotonic() - t0, 3),
        outputs=written,
        timings=timings,
    )


def cell_seconds(nb: object) -> float:
    """Seconds the cells of an executed notebook took (papermill's per-cell ``duration``)."""
    total = 0.0
    for cell in getattr(nb, "cells", []):
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if isinstance(duration, (int, float)):
            total += duration
    return round(total, 3)


@dataclass(frozen=True)
class PapermillExecutor:
    """Executes each notebook with papermill in a fresh kernel started for it, then renders
    HTML/PDF. Simple and slow: each report pays for its kernel's start-up and imports."""

    kernel_name: str | None = None
    ipc: bool = os.name == "posix"

    def run(self, job: Job) -> JobResult:
        """Execute ``job``; return how it ended (failures are results, not exceptions)."""
        return run_and_render(job, self._execute)

    def _execute(self, job: Job, work: Path, timings: dict[str, float]) -> None:
        import papermill as pm

        t0 = time.monotonic()
        nb = pm.execute_notebook(
            str(job.notebook),
            str(work),
            parameters=dict(job.parameters),
            kernel_name=self.kernel_name,
            execution_timeout=job.cell_timeout,
            start_timeout=job.start_timeout,
            progress_bar=False,
            log_output=False,
            cwd=str(job.notebook.parent),
            shutdown_kernel="immediate",
            **({"kernel_manager_class": ipc_kernel_manager_class()} if self.ipc else {}),
        )
        timings["cells"] = cell_seconds(nb)
        # start-up, imports and shut-down are all on the critical path here
        timings["kernel_start"] = timings["kernel_wait"] = round(
            max(0.0, time.monotonic() - t0 - timings["cells"]), 3
        )


def _keep_failed(work: Path, target: Path, error: str, err: BaseException) -> str:
    """Keep the executed notebook of a failed job as ``target``, with the error on top (papermill
    adds its own error cell for exceptions raised by a cell; timeouts and dead kernels get ours)."""
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(err, PapermillExecutionError):
        import nbformat

        nb = nbformat.read(work, as_version=4)
        note = nbformat.v4.new_markdown_cell(
            f"**evalkit run：本报告执行失败 / this report failed**\n\n{error}"
        )
        note.metadata["tags"] = ["evalkit-error"]
        nb.cells.insert(0, note)
        nbformat.write(nb, work)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(work, target)
    return str(target)


def _render_and_write(job: Job, work: Path, timings: dict[str, float], move: bool = True) -> dict[str, str]:
    """Render the executed notebook at ``work`` to the requested formats and (``move``) rename it
    to its final name; return the written paths by format."""
    html = pdf = docx = None
    if "html" in job.outputs or "pdf" in job.outputs or "docx" in job.outputs:
        import nbformat

        from evalkit.render import html_to_pdf_bytes, notebook_to_html

        t = time.monotonic()
        nb = nbformat.read(work, as_version=4)
        html = notebook_to_html(nb, title=job.title, header=job.header, path=job.notebook.parent)
        timings["html"] = round(time.monotonic() - t, 3)
        if "pdf" in job.outputs:
            t = time.monotonic()
            pdf = html_to_pdf_bytes(html, header_left=job.header_left, header_right=job.header_right)
            timings["pdf"] = round(time.monotonic() - t, 3)
        if "docx" in job.outputs:
            from evalkit.documents.pandoc import html_to_docx_bytes

            t = time.monotonic()
            docx = html_to_docx_bytes(html, template=job.docx_template or None)
            timings["docx"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    written: dict[str, str] = {}
    if html is not None and "html" in job.outputs:
        written["html"] = str(atomic_write_text(job.outputs["html"], html))
    if pdf is not None:
        written["pdf"] = str(atomic_write_bytes(job.outputs["pdf"], pdf))
    if docx is not None:
        written["docx"] = str(atomic_write_bytes(job.outputs["docx"], docx))
    target = job.outputs["ipynb"]
    if move:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work, target)
    written["ipynb"] = str(target)
    timings["write"] = round(time.monotonic() - t, 3)
    return written


# --------------------------------------------------------------------------- parallel runner


_in_job = False


def _on_sigterm(signum: int, frame: object) -> None:
    """In a worker: interrupt the running job (its kernel is shut down on the way out), or end
    an idle worker at once."""
    if _in_job:
        raise KeyboardInterrupt(f"signal {signum}")
    os._exit(128 + signum)


def _init_worker() -> None:
    """Workers leave Ctrl-C to the main process, which stops them with SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)


def _run_job(executor: Executor, job: Job) -> JobResult:
    global _in_job
    _in_job = True
    try:
        result = executor.run(job)
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
    collections during the next reports only look at their own objects (~15 % less CPU for a
    PDF). Garbage is collected first; only objects alive then are frozen."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def _new_pool(workers: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        # import once in the fork server, so each worker starts warm
        ctx.set_forkserver_preload(
            ["evalkit.batch.execute", "evalkit.batch.kernelpool", "papermill", "nbclient", "jupyter_client.manager",
             "evalkit.render"]
        )
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker)


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


def run_jobs(
    jobs: list[Job],
    executor: Executor,
    workers: int,
    on_result: Callable[[Job, JobResult], None],
    *,
    progress: bool = True,
    desc: str = "报告",
    tick: Callable[[], object] | None = None,
    tick_seconds: float = 1.0,
) -> None:
    """Run ``jobs`` with ``executor`` in ``workers`` worker processes, at most ``workers`` at a
    time, calling ``on_result`` (in this process) as each finishes, and ``tick`` (e.g. to save
    the manifest when due) after each finished batch and at least every ``tick_seconds``. A
    tqdm bar on stderr names the report being processed. On ``KeyboardInterrupt`` (Ctrl-C, or
    SIGTERM turned into one) the workers are terminated and the interrupt propagates."""
    from tqdm import tqdm

    if not jobs:
        return
    workers = max(1, min(workers, len(jobs)))
    pending = deque(jobs)
    running: dict[Future[JobResult], Job] = {}
    bar = tqdm(
        total=len(jobs), unit="份", desc=desc, disable=not progress, file=sys.stderr, dynamic_ncols=True
    )
    pool = _new_pool(workers)
    try:
        while pending or running:
            while pending and len(running) < workers:
                job = pending.popleft()
                running[pool.submit(_run_job, executor, job)] = job
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
                pool = _new_pool(workers)
            if tick is not None:
                tick()
    except BaseException:
        _stop_pool(pool)
        raise
    finally:
        bar.close()
    pool.shutdown(wait=True)
