"""The one interface every executor implements, and the simplest executor.

An :class:`Executor` runs :class:`~evalkit.runtime.job.Job` objects and reports each one's
:class:`~evalkit.runtime.job.JobResult` as it finishes; it never raises for a failing notebook.
Its life: ``start(notebooks)`` (connect, check and warm up workers; problems raise an
:class:`~evalkit.errors.EvalkitError`), ``run_jobs(...)`` any number of times, ``close()``. It is
a context manager that closes itself::

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
from evalkit.runtime.processes import run_in_processes
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

    def close(self) -> None:  # noqa: B027 - optional step, nothing to do by default
        """Release what the executor holds (kernels, a cluster connection)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class LocalExecutor(Executor):
    """An executor that runs one job at a time in the current process (:meth:`run`), and many
    in local worker processes (:meth:`run_jobs`)."""

    @abc.abstractmethod
    def run(self, job: Job) -> JobResult:
        """Execute ``job``; return how it ended (failures are results, not exceptions)."""

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
                         progress=progress, desc=desc, tick=tick)


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
