"""The default executor of ``evalkit run``: every report in a new kernel that was started (and
warmed) while the previous report ran.

:class:`KernelPoolExecutor` keeps, in each worker process, one kernel started and ready. When a
report comes, it takes that kernel, at once starts the next one in the background, executes the
report's notebook on the taken kernel and afterwards kills it, also in the background. So a
report never waits for a kernel to start, and no kernel ever runs two reports: each report has a
new process, a new IPython shell and an empty namespace, exactly as with ``papermill``.

Kernels are forked from a template process that has imported pandas, pyarrow, matplotlib (with
its font cache), IPython and evalkit once (:mod:`evalkit.batch.kernelfork`), so starting one
costs about 0.1 s of CPU instead of about 1 s. Where forking is not available (or with
``fork=False``) kernels are started as usual and then run a silent warm-up cell importing the same
modules, before the report is known (it leaves no name in the namespace and does not count as
an execution).

The saved Results and the framework a report reads (its ``scores`` and ``framework`` parameters,
the same for every report of a year) are read once per worker by the template — or by each
warm-up cell — before the next kernel is forked (:func:`evalkit.api.preload_results`,
:func:`evalkit.analysis.inputs.preload_framework`): the notebook then gets them from memory while
their files are unchanged (Results as shallow copy-on-write copies, frameworks frozen), so a
report changing them changes nothing for the next one. Nothing school-specific is loaded ahead.

Execution has papermill's semantics: the notebook is loaded and parameterised by papermill
(``parameterize_notebook``: the injected ``parameters`` cell), executed cell by cell with
papermill's nbclient client and its per-cell metadata, and a failing cell is reported as
papermill reports it. The per-cell timeout (``cell_timeout``) kills the kernel, as does any
failure; the next report gets a new kernel either way.

Timings recorded per report (seconds): ``kernel_start`` (how long its kernel took to start, in
the background), ``kernel_wait`` (how long the report waited for it: about 0 when the kernel was
ready), ``cells`` (executing the notebook), ``html``, ``pdf``, ``write``; ``execute`` as for every
executor.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.batch.execute import JobResult, cell_seconds, ipc_kernel_manager_class, run_and_render
from evalkit.batch.kernelfork import (
    PRELOAD,
    ForkServer,
    ForkServerError,
    fork_supported,
    forked_provisioner,
    launcher_args,
)
from evalkit.batch.plan import Job

__all__ = ["WARM_UP", "KernelPoolExecutor"]

WARM_UP = (
    "def __evalkit_warm_up(ahead):\n"
    "    import importlib\n"
    f"    for name in {PRELOAD!r}:\n"
    "        try:\n"
    "            importlib.import_module(name)\n"
    "        except Exception:\n"
    "            pass\n"
    "    calls = [('evalkit.api', 'preload_results', 'scores'),\n"
    "             ('evalkit.analysis.inputs', 'preload_framework', 'frameworks')]\n"
    "    for module, function, kind in calls:\n"
    "        for arg in ahead.get(kind, []):\n"
    "            try:\n"
    "                getattr(importlib.import_module(module), function)(arg)\n"
    "            except Exception:\n"
    "                pass\n"
    "__evalkit_warm_up({ahead!r})\n"
    "del __evalkit_warm_up\n"
)
"""Run silently in a kernel started without the template (``{ahead!r}``: what to read ahead, as
:func:`evalkit.batch.kernelfork.preload` does in the template): no names left behind."""

HISTORY_ARGS = ("--HistoryManager.hist_file=:memory:",)  # what nbclient gives its kernels

Ahead = dict[str, list[str]]
"""What a kernel should have read before its report: ``{"scores": [...], "frameworks": [...]}``."""


def _ahead(job: Job) -> Ahead:
    """The saved scores and the framework ``job`` reads — the same for every report of a year,
    so the next report most likely reads them too (never anything school-specific)."""
    scores, framework = job.parameters.get("scores"), job.parameters.get("framework")
    return {"scores": [str(scores)] if scores else [], "frameworks": [str(framework)] if framework else []}


@dataclass(frozen=True)
class KernelPoolExecutor:
    """Executes each report in a fresh, pre-started kernel (see the module docstring).

    ``kernel_name`` overrides the notebook's kernel; ``fork`` forks kernels from a pre-warmed
    template process where possible; ``ipc`` talks to kernels over Unix sockets.
    """

    kernel_name: str | None = None
    fork: bool = True
    ipc: bool = os.name == "posix"

    def run(self, job: Job) -> JobResult:
        """Execute ``job``; return how it ended (failures are results, not exceptions)."""
        return run_and_render(job, _pool(self).execute)

    def close(self) -> None:
        """Stop this process's kernels and template (done anyway when the worker exits)."""
        pool = _POOLS.pop(self, None)
        if pool is not None:
            pool.close()


_POOLS: dict[KernelPoolExecutor, _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _pool(executor: KernelPoolExecutor) -> _Pool:
    with _POOLS_LOCK:
        pool = _POOLS.get(executor)
        if pool is None or pool.closed:  # (closed by an interrupt: start afresh)
            pool = _POOLS[executor] = _Pool(executor)
        return pool


@dataclass
class _Kernel:
    """A started kernel, a client already connected to it, and how long that took."""

    km: Any
    kc: Any
    key: tuple[str, str]
    seconds: float


class _Pool:
    """One worker process's kernels: an event loop in a thread runs every kernel operation
    (start, execute, kill); the worker's main thread waits for it and renders."""

    def __init__(self, executor: KernelPoolExecutor):
        self.executor = executor
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="evalkit-kernels", daemon=True)
        self.thread.start()
        self.servers: dict[tuple[tuple[str, ...], str], ForkServer | None] = {}
        self.spare: tuple[tuple[str, str], Future[_Kernel]] | None = None
        self.current: _Kernel | None = None
        self.killing: set[Future[None]] = set()
        self.pythons: dict[str, tuple[str, ...] | None] = {}
        self.closed = False
        self._register_exit()

    # ------------------------------------------------------------------ lifecycle

    def _register_exit(self) -> None:
        """Close when this process ends normally (a pool worker skips ``atexit``; its
        ``multiprocessing`` finalizers run)."""
        try:
            from multiprocessing import util

            util.Finalize(self, _close_pool, args=(self,), exitpriority=10)
        except Exception:  # pragma: no cover - not in a multiprocessing worker
            pass
        import atexit

        atexit.register(_close_pool, self)

    def close(self, wait_spare: float = 30) -> None:
        """Kill every kernel (waiting up to ``wait_spare`` s for a spare still starting), stop
        the templates (which kill any kernel of theirs still running) and the loop."""
        if self.closed:
            return
        self.closed = True
        kernels = [self.current] if self.current is not None else []
        self.current = None
        if self.spare is not None:
            _, fut = self.spare
            self.spare = None
            try:
                kernels.append(fut.result(timeout=wait_spare))
            except BaseException:
                fut.cancel()
        pending = [asyncio.run_coroutine_threadsafe(_kill(k), self.loop) for k in kernels] + list(self.killing)
        deadline = time.monotonic() + 15
        for fut in pending:
            try:
                fut.result(timeout=max(0.1, deadline - time.monotonic()))
            except BaseException:
                pass
        for server in self.servers.values():
            if server is not None:
                server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    def abort(self) -> None:
        """On an interrupt: kill the kernels now, without waiting for a spare to finish starting."""
        self.close(wait_spare=0)

    def _kill_later(self, kernel: _Kernel) -> None:
        fut = asyncio.run_coroutine_threadsafe(_kill(kernel), self.loop)
        self.killing.add(fut)
        fut.add_done_callback(self.killing.discard)

    def _call(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # ------------------------------------------------------------------ kernels

    def _server(self, kernel_name: str, cwd: str) -> ForkServer | None:
        """The template for kernels of ``kernel_name`` in ``cwd`` (started on first use);
        ``None`` when they cannot be forked."""
        if not (self.executor.fork and fork_supported()):
            return None
        if kernel_name not in self.pythons:
            from jupyter_client.kernelspec import KernelSpecManager

            try:
                split = launcher_args(KernelSpecManager().get_kernel_spec(kernel_name).argv)
            except Exception:
                split = None
            self.pythons[kernel_name] = tuple(split[0]) if split else None
        python = self.pythons[kernel_name]
        if python is None:
            return None
        key = (python, cwd)
        if key not in self.servers:
            try:
                self.servers[key] = ForkServer(python, cwd)
            except OSError:
                self.servers[key] = None
        return self.servers[key]

    def _start_spare(self, key: tuple[str, str], timeout: float, ahead: Ahead) -> None:
        kernel_name, cwd = key
        server = self._server(kernel_name, cwd)
        coro = self._start(key, server, timeout, ahead)
        self.spare = (key, asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def _start(
        self, key: tuple[str, str], server: ForkServer | None, timeout: float, ahead: Ahead
    ) -> _Kernel:
        """Start a kernel (forked from ``server`` when given), connect a client and wait until the
        kernel answers (what nbclient would do first, ~0.2 s), and warm it up when it was not
        forked. ``ahead``: the saved scores and framework to have in memory (read by the template
        once, or by the warm-up cell), as the report will most likely read them."""
        kernel_name, cwd = key
        t0 = time.monotonic()
        km = self._manager(kernel_name, server, ahead)
        kc = None
        try:
            await asyncio.wait_for(km.start_kernel(cwd=cwd, extra_arguments=list(HISTORY_ARGS)), timeout)
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=timeout)
            if server is None:
                code = WARM_UP.replace("{ahead!r}", repr(ahead))
                reply = await kc.execute_interactive(code, silent=True, store_history=False, timeout=timeout)
                if reply["content"].get("status") != "ok":  # pragma: no cover - imports guarded
                    raise RuntimeError("warm-up failed")
            kc.allow_stdin = False
        except BaseException:
            await _kill(_Kernel(km, kc, key, 0.0))
            raise
        return _Kernel(km, kc, key, round(time.monotonic() - t0, 3))

    def _manager(self, kernel_name: str, server: ForkServer | None, ahead: Ahead) -> Any:
        if self.executor.ipc:
            km = ipc_kernel_manager_class()(kernel_name=kernel_name)
        else:
            from jupyter_client.manager import AsyncKernelManager

            km = AsyncKernelManager(kernel_name=kernel_name)
        if server is not None and server.alive():
            km.provisioner = forked_provisioner(km, server, ahead)
        return km

    def _take(self, key: tuple[str, str], timeout: float, ahead: Ahead) -> _Kernel:
        """The ready kernel for ``key`` (the spare when it matches, else a new one); the next spare
        is started before returning."""
        kernel: _Kernel | None = None
        if self.spare is not None:
            spare_key, fut = self.spare
            if spare_key == key:
                try:
                    kernel = fut.result(timeout=timeout)
                except ForkServerError:
                    self._forget_server(key)
                except Exception:
                    pass  # a spare that failed (or is too slow) to start: one more try below
            self.spare = None
            if kernel is None:
                fut.add_done_callback(self._discard_future)  # killed if it ever starts
        if kernel is None:
            kernel_name, cwd = key
            try:
                kernel = self._call(self._start(key, self._server(kernel_name, cwd), timeout, ahead))
            except ForkServerError:
                self._forget_server(key)
                kernel = self._call(self._start(key, None, timeout, ahead))
        self._start_spare(key, timeout, ahead)
        return kernel

    def _forget_server(self, key: tuple[str, str]) -> None:
        """A template that failed: start kernels of this kind the usual way from now on."""
        for skey, server in list(self.servers.items()):
            if server is not None and skey[1] == key[1]:
                server.close(timeout=2)
                self.servers[skey] = None

    def _discard_future(self, fut: Future[_Kernel]) -> None:
        try:
            kernel = fut.result()
        except BaseException:
            return
        self._kill_later(kernel)

    # ------------------------------------------------------------------ one report

    def execute(self, job: Job, work: Path, timings: dict[str, float]) -> None:
        """Execute ``job`` on a ready kernel and write the executed notebook to ``work``; raise
        like papermill for a failing notebook. The kernel is killed afterwards, in the background."""
        from papermill.engines import papermill_engines
        from papermill.execute import prepare_notebook_metadata, raise_for_execution_errors, remove_error_markers
        from papermill.iorw import load_notebook_node, write_ipynb
        from papermill.parameterize import parameterize_notebook

        # as papermill.execute_notebook does, up to handing the notebook to its engine
        nb = load_notebook_node(str(job.notebook))
        nb = parameterize_notebook(nb, dict(job.parameters), False, kernel_name=self.executor.kernel_name)
        nb = prepare_notebook_metadata(nb, str(job.notebook), str(work), False)
        nb = remove_error_markers(nb)
        kernel_name = papermill_engines.nb_kernel_name(engine_name=None, nb=nb, name=self.executor.kernel_name)

        t0 = time.monotonic()
        try:
            kernel = self._take((kernel_name, str(job.notebook.parent)), job.start_timeout, _ahead(job))
        except Exception:
            raise
        except BaseException:  # interrupted while waiting for a kernel
            self.abort()
            raise
        timings["kernel_wait"] = round(time.monotonic() - t0, 3)
        timings["kernel_start"] = kernel.seconds
        self.current = kernel
        running = asyncio.run_coroutine_threadsafe(_execute_on(kernel, nb, kernel_name, job), self.loop)
        try:
            nb = running.result()
        except Exception as err:
            partial = getattr(err, "evalkit_notebook", None)
            if partial is not None:
                write_ipynb(partial, str(work))
            raise
        except BaseException:  # interrupted (SIGTERM in a worker): no kernel may outlive us
            running.cancel()
            self.abort()
            raise
        finally:
            if self.current is not None:
                self.current = None
                self._kill_later(kernel)  # off the critical path
        timings["cells"] = cell_seconds(nb)
        write_ipynb(nb, str(work))
        raise_for_execution_errors(nb, str(work))


def _close_pool(pool: _Pool) -> None:
    pool.close()


async def _kill(kernel: _Kernel) -> None:
    """Close the client, kill the kernel at once and clean up its files (errors ignored: it may
    be gone already)."""
    if kernel.kc is not None:
        kernel.kc.stop_channels()
    try:
        await kernel.km.shutdown_kernel(now=True)
    except Exception:
        try:
            await kernel.km.cleanup_resources()
        except Exception:
            pass


def _client_class() -> type:
    from nbclient.exceptions import CellExecutionError
    from nbclient.util import ensure_async
    from papermill.clientwrap import PapermillNotebookClient

    class PooledNotebookClient(PapermillNotebookClient):  # type: ignore[misc]
        """papermill's client, awaited on an already started kernel."""

        async def async_execute_managed(self) -> Any:
            """``PapermillNotebookClient.execute`` as a coroutine (the same steps)."""
            self.reset_execution_trackers()
            async with self.async_setup_kernel():
                for index, cell in enumerate(self.nb.cells):
                    try:
                        self.nb_man.cell_start(cell, index)
                        await self.async_execute_cell(cell, index)
                    except CellExecutionError as ex:
                        self.nb_man.cell_exception(self.nb.cells[index], cell_index=index, exception=ex)
                        break
                    finally:
                        self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)
                info_msg = await self.async_wait_for_reply(await ensure_async(self.kc.kernel_info()))
                self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
                self.set_widgets_metadata()
            return self.nb

    return PooledNotebookClient


_CLIENT: type | None = None


async def _execute_on(kernel: _Kernel, nb: Any, kernel_name: str, job: Job) -> Any:
    """Execute ``nb`` on the started ``kernel`` (through its connected client) as papermill's
    nbclient engine would; on an exception the partial notebook is attached to it as
    ``evalkit_notebook``. The client is left open (closed when the kernel is killed)."""
    global _CLIENT
    from papermill.engines import NotebookExecutionManager
    from papermill.log import logger

    if _CLIENT is None:
        _CLIENT = _client_class()
    nb_man = NotebookExecutionManager(nb, output_path=None, progress_bar=False, log_output=False,
                                      autosave_cell_every=30)
    nb_man.notebook_start()
    client = _CLIENT(
        nb_man,
        km=kernel.km,
        timeout=job.cell_timeout,
        startup_timeout=job.start_timeout,
        kernel_name=kernel_name,
        log=logger,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        shutdown_kernel="immediate",
    )
    client.kc = kernel.kc  # connected and checked while the previous report ran
    try:
        await client.async_execute_managed()
    except BaseException as err:
        err.evalkit_notebook = nb_man.nb  # type: ignore[attr-defined]
        raise
    finally:
        nb_man.cleanup_pbar()
        nb_man.notebook_complete()
    return nb_man.nb
