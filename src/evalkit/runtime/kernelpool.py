"""The default executor of ``evalkit run``: every report in a new process that was started (and
warmed) while the previous report ran.

:class:`KernelPoolExecutor` keeps, in each worker process, the next report's process started and
ready. When a report comes, it takes that process, at once starts the next one in the
background, executes the report's notebook in the taken one and afterwards kills it. So a report
never waits for a start, and no process ever runs two reports: each report has a new process, a
new IPython shell and an empty namespace, exactly as with ``papermill``.

The process is, by default (``shell=True``), a forked IPython shell without a Jupyter kernel
(:mod:`evalkit.runtime.shell_session`: the cells go over a Unix socket, the outputs come back as
notebook outputs, ~0.2 s of CPU less per report than a kernel's messaging); with ``shell=False``,
or where the template cannot be used, a Jupyter kernel (ipykernel) driven by papermill's client.

Both are forked from a template process that has imported pandas, pyarrow, matplotlib (with its
font cache), IPython and evalkit once (:mod:`evalkit.runtime.kernelfork`), so starting one costs
a few hundredths of a second of CPU instead of about 1 s. Where forking is not available (or with
``fork=False``) kernels are started as usual and then run a silent warm-up cell importing the
same modules, before the report is known (it leaves no name in the namespace and does not count
as an execution).

The saved Results and the framework a report reads (its ``scores`` and ``framework`` parameters,
the same for every report of a year) are read once per worker by the template — or by each
warm-up cell — before the next process is forked (:func:`evalkit.api.preload_results`,
:func:`evalkit.analysis.inputs.preload_framework`): the notebook then gets them from memory while
their files are unchanged (Results as shallow copy-on-write copies, frameworks frozen), so a
report changing them changes nothing for the next one. Nothing school-specific is loaded ahead.

Execution is papermill's: ``papermill.execute_notebook`` with the ``evalkit`` engine
(:mod:`evalkit.runtime.papermill_engine`), which runs the cells on the pool's ready shell (in the
worker's main thread) or runs papermill's own client on the pool's ready kernel (in the pool's
kernel thread, whose event loop also starts and kills kernels in the background). The per-cell
timeout (``cell_timeout``) kills the process, as does any failure; the next report gets a new one
either way.

Timings recorded per report (seconds): ``kernel_start`` (how long its process took to be ready,
in the background), ``kernel_wait`` (how long the report waited for it: about 0 when it was
ready), ``kernel_ahead`` (how long before the report asked for its process that process's start
began: positive when it was started ahead, negative when it was started for the report),
``cells`` (executing the notebook), ``html``, ``pdf``, ``write``; ``execute`` as for every executor.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.runtime.executor import LocalExecutor, ipc_kernel_manager_class
from evalkit.runtime.job import Job, JobResult
from evalkit.runtime.kernelfork import (
    PRELOAD,
    ForkServer,
    ForkServerError,
    fork_supported,
    forked_provisioner,
    launcher_args,
)
from evalkit.runtime.render_job import cell_seconds, run_and_render
from evalkit.runtime.shell_session import ShellSession

__all__ = ["WARM_UP", "KernelPoolExecutor"]

WARM_UP = (
    "def __evalkit_warm_up(ahead):\n"
    "    import importlib\n"
    f"    for name in {PRELOAD!r}:\n"
    "        try:\n"
    "            importlib.import_module(name)\n"
    "        except Exception:\n"
    "            pass\n"
    "    try:\n"
    "        importlib.import_module('evalkit.runtime.kernelfork').warm_charts()\n"
    "    except Exception:\n"
    "        pass\n"
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
:func:`evalkit.runtime.kernelfork.preload` does in the template): no names left behind."""

HISTORY_ARGS = ("--HistoryManager.hist_file=:memory:",)  # what nbclient gives its kernels

Ahead = dict[str, list[str]]
"""What a kernel should have read before its report:
``{"scores": [...], "frameworks": [...], "registries": [...]}``."""


def _ahead(job: Job) -> Ahead:
    """The saved scores, the framework and the registry file ``job`` reads — the same for every
    report of a year, so the next report most likely reads them too (never anything
    school-specific)."""
    scores, framework = job.parameters.get("scores"), job.parameters.get("framework")
    registry = job.parameters.get("registry")
    return {"scores": [str(scores)] if scores else [], "frameworks": [str(framework)] if framework else [],
            "registries": [str(registry)] if isinstance(registry, str) and registry.strip() else []}


@dataclass(frozen=True)
class KernelPoolExecutor(LocalExecutor):
    """Executes each report in a fresh, pre-started kernel (see the module docstring).

    ``kernel_name`` overrides the notebook's kernel; ``fork`` forks kernels from a pre-warmed
    template process where possible; ``ipc`` talks to kernels over Unix sockets; ``shell`` runs the
    cells, where they are forked, in a forked IPython shell without a kernel
    (:mod:`evalkit.runtime.shell_session`) rather than in a forked kernel.
    """

    kernel_name: str | None = None
    fork: bool = True
    ipc: bool = os.name == "posix"
    shell: bool = True

    def run(self, job: Job) -> JobResult:
        """Execute ``job``; return how it ended (failures are results, not exceptions)."""
        return run_and_render(job, _pool(self).execute)

    def warm_up(self, kernel_name: str, notebook_dir: str) -> None:
        """Start, in this process, the template and a first kernel (or shell process, see
        ``shell``) for notebooks of ``kernel_name`` in ``notebook_dir``, so the first report does
        not wait for them (a Dask worker's set-up); nothing when one is ready already."""
        pool = _pool(self)
        if self.shell and pool.spare_shell is None and pool._start_spare_shell((kernel_name, notebook_dir), {}):
            return
        if pool.spare is None:
            pool._start_spare((kernel_name, notebook_dir), 60, {})

    def warm(self, notebooks: list[Path]) -> None:
        """In a worker process started ahead: start the kernel template for these notebooks
        (one per notebook folder and kernel), which imports in the background while the run
        prepares its reports; the first report then forks its kernel from it at once. Only the
        template: the first kernel is forked for the first report, with its saved scores read
        into the template first (they do not exist yet now)."""
        pool = _pool(self)
        for notebook in notebooks:
            name = self.kernel_name or notebook_kernel_name(notebook)
            if name:
                pool._server(name, str(notebook.parent))  # started at once, importing on its own

    def close(self) -> None:
        """Stop this process's kernels and template (done anyway when the worker exits), and the
        worker processes started ahead and never used."""
        super().close()
        pool = _POOLS.pop(self, None)
        if pool is not None:
            pool.close()


def notebook_kernel_name(notebook: Path) -> str | None:
    """The kernel a notebook names (``metadata.kernelspec.name``, as papermill reads it);
    ``None`` when it names none or cannot be read."""
    import json

    try:
        with open(notebook, encoding="utf-8") as f:
            name = json.load(f)["metadata"]["kernelspec"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) and name else None


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
    """A started kernel, a client already connected to it, how long that took, and when
    (``time.monotonic()``) its start began."""

    km: Any
    kc: Any
    key: tuple[str, str]
    seconds: float
    began: float = 0.0


class _Pool:
    """One worker process's kernels: an event loop in a thread (the kernel thread) runs every
    kernel operation (start, execute, kill); the worker's main thread waits for it and renders."""

    def __init__(self, executor: KernelPoolExecutor):
        self.executor = executor
        self.commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self.stopping = False
        self._wake: asyncio.Future[None] | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), name="evalkit-kernels", daemon=True)
        self.thread.start()
        ready.wait()
        self.servers: dict[tuple[tuple[str, ...], str], ForkServer | None] = {}
        self.spare: tuple[tuple[str, str], Future[_Kernel]] | None = None
        self.current: _Kernel | None = None
        self.spare_shell: tuple[tuple[str, str], ShellSession] | None = None
        self.current_shell: ShellSession | None = None
        self.shell_envs: dict[str, dict[str, str]] = {}
        self.killing: set[Future[None]] = set()
        self.pythons: dict[str, tuple[str, ...] | None] = {}
        self.closed = False
        self._register_exit()

    # ------------------------------------------------------------------ the kernel thread

    def _serve(self, ready: threading.Event) -> None:
        """The kernel thread: its event loop (the one papermill's client uses in this thread,
        ``jupyter_core``'s loop of the thread) runs every kernel operation, also while idle;
        commands (a report's client) run here one at a time, the loop running in their awaits."""
        from jupyter_core.utils import ensure_event_loop

        self.loop = ensure_event_loop()
        ready.set()
        while not self.stopping:
            try:
                fn, fut = self.commands.get_nowait()
            except queue.Empty:
                self._wake = self.loop.create_future()
                self.loop.run_until_complete(self._wake)
                continue
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as err:
                    fut.set_exception(err)

    def _poke(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def run_in_kernel_thread(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` (sync code driving a kernel client) in the kernel thread; return its result."""
        fut: Future[Any] = Future()
        self.commands.put((fn, fut))
        self.loop.call_soon_threadsafe(self._poke)
        return fut.result()

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
        for session in (self.current_shell, self.spare_shell[1] if self.spare_shell else None):
            if session is not None:
                session.kill()
        self.current_shell = self.spare_shell = None
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
        self.stopping = True
        self.loop.call_soon_threadsafe(self._poke)
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
        return _Kernel(km, kc, key, round(time.monotonic() - t0, 3), t0)

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

    def _shell_server(self, key: tuple[str, str]) -> tuple[ForkServer, dict[str, str]] | None:
        """The running template that forks shells for ``key`` and their environment; ``None``
        when there is none."""
        kernel_name, cwd = key
        server = self._server(kernel_name, cwd)
        if server is None or not server.alive():
            return None
        if kernel_name not in self.shell_envs:
            self.shell_envs[kernel_name] = _shell_env(kernel_name)
        return server, self.shell_envs[kernel_name]

    def _take_shell(self, key: tuple[str, str], timeout: float, ahead: Ahead) -> ShellSession | None:
        """A ready shell process for ``key`` (the spare when it matches, else a new one; the next
        spare is forked before returning); ``None`` when shells cannot be forked for it."""
        where = self._shell_server(key)
        if where is None:
            return None
        server, env = where
        cwd = key[1]
        session = None
        if self.spare_shell is not None:
            spare_key, spare = self.spare_shell
            self.spare_shell = None
            if spare_key == key:
                session = spare
            else:
                spare.kill()
        for attempt in (1, 2):  # a spare that failed to start: one more try
            try:
                if session is None:
                    session = ShellSession(server, cwd, env, ahead)
                session.wait_ready(timeout)
                break
            except ForkServerError:
                if session is not None:
                    session.kill()
                self._forget_server(key)
                return None
            except Exception:
                if session is not None:
                    session.kill()
                session = None
                if attempt == 2:
                    raise
        self._start_spare_shell(key, ahead)
        return session

    def _start_spare_shell(self, key: tuple[str, str], ahead: Ahead) -> bool:
        """Fork the next report's shell process for ``key`` now; whether it was forked."""
        where = self._shell_server(key)
        if where is None:
            return False
        try:
            self.spare_shell = (key, ShellSession(where[0], key[1], where[1], ahead))
        except ForkServerError:
            return False
        return True

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
        """Execute ``job`` with papermill and the ``evalkit`` engine on a ready kernel of this
        pool, writing the executed notebook to ``work``; raise like papermill for a failing
        notebook. The kernel is killed afterwards, in the background."""
        import papermill as pm
        from papermill.iorw import write_ipynb

        from evalkit.runtime.papermill_engine import ENGINE_NAME, register

        register()  # (also registered by its entry point)
        source = _JobKernels(self, job, timings)
        try:
            nb = pm.execute_notebook(
                str(job.notebook),
                str(work),
                parameters=dict(job.parameters),
                engine_name=ENGINE_NAME,
                request_save_on_cell_execute=False,  # written once, at the end
                kernel_name=self.executor.kernel_name,
                progress_bar=False,
                log_output=False,
                start_timeout=job.start_timeout,
                execution_timeout=job.cell_timeout,
                kernels=source,
            )
        except Exception as err:
            partial = getattr(err, "evalkit_notebook", None)
            if partial is not None and not work.exists():
                write_ipynb(partial, str(work))
            raise
        timings["cells"] = cell_seconds(nb)


@dataclass
class _JobKernels:
    """The engine's kernel source for one report: the pool's ready kernel for the report's
    notebook folder (the next one is started at once), killed after the report."""

    pool: _Pool
    job: Job
    timings: dict[str, float]

    def execute_with(
        self, kernel_name: str, make_client: Callable[[Any, Any], Any],
        run_in_shell: Callable[[ShellSession], Any] | None = None,
    ) -> Any:
        pool, job = self.pool, self.job
        key = (kernel_name, str(job.notebook.parent))
        if run_in_shell is not None and pool.executor.shell:
            session = self._taken(lambda timeout: pool._take_shell(key, timeout, _ahead(job)))
            if session is not None:
                pool.current_shell = session
                try:
                    return self._interruptible(lambda: run_in_shell(session))
                finally:
                    pool.current_shell = None
                    session.kill()
        kernel = self._taken(lambda timeout: pool._take(key, timeout, _ahead(job)))
        pool.current = kernel
        try:
            return self._interruptible(
                lambda: pool.run_in_kernel_thread(lambda: make_client(kernel.km, kernel.kc).execute()))
        finally:
            if pool.current is not None:
                pool.current = None
                pool._kill_later(kernel)  # off the critical path

    def _taken(self, take: Callable[[float], Any]) -> Any:
        """``take(start_timeout)``: the report's ready shell or kernel (or ``None``), with its
        ``kernel_wait``, ``kernel_start`` and ``kernel_ahead`` timings."""
        t0 = time.monotonic()
        taken = self._interruptible(lambda: take(self.job.start_timeout))
        if taken is not None:
            self.timings["kernel_wait"] = round(time.monotonic() - t0, 3)
            self.timings["kernel_start"] = taken.seconds
            self.timings["kernel_ahead"] = round(t0 - taken.began, 3)
        return taken

    def _interruptible(self, fn: Callable[[], Any]) -> Any:
        """``fn()``; interrupted (Ctrl-C, SIGTERM in a worker), the pool's processes are killed
        at once: none may outlive the worker."""
        try:
            return fn()
        except Exception:
            raise
        except BaseException:
            self.pool.abort()
            raise


def _shell_env(kernel_name: str) -> dict[str, str]:
    """The environment a kernel of ``kernel_name`` would get: this process's, the kernel spec's
    ``env``, and the inline matplotlib backend ipykernel sets when none is chosen."""
    env = dict(os.environ)
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        env.update(KernelSpecManager().get_kernel_spec(kernel_name).env or {})
    except Exception:
        pass
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


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
