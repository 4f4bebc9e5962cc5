"""The one interface every executor implements, and the simplest executor.

An :class:`Executor` runs :class:`~evalkit.runtime.job.Job` objects and reports each one's
:class:`~evalkit.runtime.job.JobResult` as it finishes; it never raises for a failing notebook.
Its life: ``start(notebooks)`` (connect, check and warm up workers; problems raise an
:class:`~evalkit.errors.EvalkitError`), optionally ``expect(notebooks, reports)`` (a large batch
is sure to come: get ready for it in the background), ``run_jobs(...)`` any number of times,
``close()``. It is a context manager that closes itself::

    with KernelPoolExecutor() as executor:
        executor.start([notebook])
        executor.run_jobs(jobs, on_result, workers=2)

Implementations: :class:`PapermillExecutor` (a fresh kernel per notebook),
:class:`~evalkit.runtime.kernelpool.KernelPoolExecutor` (the default: kernels started ahead,
forked from a warm template), :class:`~evalkit.runtime.dask_executor.DaskExecutor` (a Dask
cluster). The local ones are :class:`LocalExecutor` objects: one job at a time in this process
(``run``), in parallel through :mod:`evalkit.runtime.processes`.
"""

from __future__ import annotations

import abc
import functools
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from evalkit.runtime.job import Job, JobResult
from evalkit.runtime.processes import StartedWorkers, run_in_processes
from evalkit.runtime.render_job import cell_seconds, run_and_render

OnResult = Callable[[Job, JobResult], None]
"""Called in the calling process as each job finishes (record it, print it)."""


class Executor(abc.ABC):
    """Runs jobs; see the module docstring for its life."""

    def start(self, notebooks: list[Path]) -> None:  # noqa: B027 - optional step, nothing to do by default
        """Get ready to run these notebooks (connect, check and warm up workers). The local
        executors start their worker processes with the first job (started ahead, they cost more
        CPU than they saved: ``docs/benchmarks.md``)."""

    @abc.abstractmethod
    def run_jobs(
        self,
        jobs: Iterable[Job],
        on_result: OnResult,
        *,
        workers: int | None = None,
        progress: bool = True,
        desc: str = "报告",
        tick: Callable[[], object] | None = None,
    ) -> None:
        """Run every job, calling ``on_result`` (in this process) as each finishes and ``tick``
        (e.g. to save a manifest when due) after each finished batch and at least once a second.
        ``workers``: at most this many at once where the executor decides (local processes;
        ``None``: one per CPU core); a cluster runs as many as it has workers. A tqdm bar on
        stderr unless ``progress`` is false. On ``KeyboardInterrupt`` running jobs are stopped,
        nothing partial is left, and the interrupt propagates.

        ``jobs`` may be lazy: a list, or an iterable whose next job may not exist yet (a region's
        :class:`~evalkit.planner.feed.JobFeed` yields a county's reports while later counties are
        still being opened). The executor starts the jobs it has while waiting for more, runs
        them in the order given unless ``Job.priority`` says otherwise (a cluster schedules
        higher priorities first among the jobs it holds), and returns when the iterable is
        exhausted and every job has finished; an exception raised by the iterable stops the
        running jobs as an interrupt does and propagates."""

    def expect(self, notebooks: list[Path], reports: int, *, workers: int | None = None) -> None:  # noqa: B027
        """At least ``reports`` reports of these ``notebooks`` will surely be run by the next
        :meth:`run_jobs` (with this ``workers``), which the caller will call after some seconds
        of its own work (the county's robustness tables, documents and plan): an executor may
        start in the background what they will need. Nothing by default."""

    def close(self) -> None:  # noqa: B027 - optional step, nothing to do by default
        """Release what the executor holds (kernels, a cluster connection)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


PRESTART_REPORTS_PER_WORKER = 4
""":meth:`LocalExecutor.expect` starts the worker processes ahead only for at least this many
reports per worker: then every worker surely gets a report (so starting it ahead costs nothing
that report would not have cost), and a short run (the test suite's, most of them) is left as it
was."""

_STARTED: dict[LocalExecutor, StartedWorkers] = {}
"""Worker processes a :class:`LocalExecutor` started ahead (:meth:`LocalExecutor.expect`), until
its next :meth:`~LocalExecutor.run_jobs` takes them over or :meth:`~LocalExecutor.close` ends them."""


class LocalExecutor(Executor):
    """An executor that runs one job at a time in the current process (:meth:`run`), and many
    in local worker processes (:meth:`run_jobs`)."""

    @abc.abstractmethod
    def run(self, job: Job) -> JobResult:
        """Execute ``job``; return how it ended (failures are results, not exceptions)."""

    def warm(self, notebooks: list[Path]) -> None:
        """In a worker process started ahead (:meth:`expect`), as it starts: begin, in the
        background, what running these notebooks needs (return at once). Nothing by default."""

    def expect(self, notebooks: list[Path], reports: int, *, workers: int | None = None) -> None:
        """Start the worker processes of the next :meth:`run_jobs` now, in the background, each
        calling :meth:`warm` as it starts, when there are at least
        :data:`PRESTART_REPORTS_PER_WORKER` reports per worker (else nothing)."""
        count = workers or os.cpu_count() or 1
        if reports < PRESTART_REPORTS_PER_WORKER * count or self in _STARTED:
            return
        _STARTED[self] = StartedWorkers(count, functools.partial(self.warm, list(notebooks)))

    def run_jobs(
        self,
        jobs: Iterable[Job],
        on_result: OnResult,
        *,
        workers: int | None = None,
        progress: bool = True,
        desc: str = "报告",
        tick: Callable[[], object] | None = None,
    ) -> None:
        run_in_processes(jobs, self.run, workers or os.cpu_count() or 1, on_result,
                         progress=progress, desc=desc, tick=tick, started=_STARTED.pop(self, None))

    def close(self) -> None:
        """End the worker processes started ahead and never used."""
        started = _STARTED.pop(self, None)
        if started is not None:
            started.close()


@functools.cache
def ipc_kernel_manager_class() -> type:
    """A kernel manager talking to its kernel over Unix sockets in the temp folder rather than
    localhost TCP (no open ports; no "running over TCP without encryption" warning)."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):  # type: ignore[misc]
        def __init__(self, **kwargs: object) -> None:
            kwargs.setdefault("transport", "ipc")
            prefix = os.path.join(tempfile.gettempdir(), f"evalkit-kernel-{uuid.uuid4().hex[:12]}")
            kwargs.setdefault("ip", prefix)
            super().__init__(**kwargs)

    return IPCKernelManager


@dataclass(frozen=True)
class PapermillExecutor(LocalExecutor):
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
