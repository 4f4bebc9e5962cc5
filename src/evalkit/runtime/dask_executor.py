"""Running the reports on a Dask cluster (``executor: dask`` / ``--cluster tcp://…`` /
``dask-local:N``).

The reports are executed exactly as locally — papermill with the ``evalkit`` engine on a fresh
kernel forked from a warm template (:class:`~evalkit.runtime.kernelpool.KernelPoolExecutor`) — but
in Dask workers, each running one report at a time (one thread per worker process):

- **Set-up once per worker** (:class:`EvalkitWorkerPlugin`, a Dask ``WorkerPlugin``): imports the
  rendering stack (nbconvert, WeasyPrint and their fonts) and starts the worker's kernel template
  with a first kernel ready, before its first report.
- **Inputs once per worker**: the saved scores of a county-year (and a framework, registry or
  intake-notes file given by path) are read by the client into one :class:`RunInputs`; a run's
  inputs travel in one :class:`EvalkitInputsPlugin` (a Dask ``WorkerPlugin`` the scheduler keeps
  and gives every worker, including workers that join later or replace a lost one). A worker
  writes them once to a local folder; tasks carry only the inputs' digest and point the reports'
  ``scores``/``framework``/``registry``/``intake_notes`` at the local copy. They are not scattered
  data: the scheduler's active memory manager keeps one replica of scattered data that no task is
  waiting for, and a worker lost with that replica took the inputs with it ("lose scattered
  data, which can't be recovered"), cancelling every report still to run. With
  ``shared_output: true`` nothing is shipped: every worker sees the same paths.
- **Outputs come back to the client** (no shared file system needed): a worker renders into a
  private staging folder and returns the files' bytes; the client writes them atomically to their
  final names and records the report in the manifest, exactly once per report. With
  ``shared_output: true`` workers write the outputs themselves (atomically, as locally).
- **Lost workers**: a worker that dies mid-report (``kill -9``, a machine lost) has its reports
  rerun on another worker by the scheduler (up to ``distributed.scheduler.allowed-failures``
  times, default 3, then the report fails with the reason); an unexpected exception in a task is
  retried once (``retries=1``). Nothing a lost worker was writing reaches a final name (it wrote
  to its own staging folder, or atomically through hidden temporary files swept by the run).
- **Same software everywhere**: before the first report the client asks every worker for its
  evalkit version and the sha256 of each notebook file, and refuses the run naming the worker(s)
  that differ; a worker joining later checks itself before each report and fails the report
  naming itself.
"""

from __future__ import annotations

import hashlib
import operator
import os
import shutil
import socket
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.io.atomic import atomic_write_bytes
from evalkit.runtime.choice import ExecutorChoice
from evalkit.runtime.executor import Executor, OnResult
from evalkit.runtime.job import Job, JobResult

__all__ = [
    "ClusterError",
    "DaskExecutor",
    "EvalkitInputsPlugin",
    "EvalkitWorkerPlugin",
    "RunInputs",
    "WorkerMismatchError",
]

SHIPPED_PARAMETERS = ("scores", "framework", "intake_notes", "registry")
"""Notebook parameters naming client files that workers get through :class:`RunInputs`."""


class ClusterError(EvalkitError):
    """The cluster cannot be used: its scheduler does not answer, or no worker joins."""


class WorkerMismatchError(EvalkitError):
    """Workers whose evalkit version or notebooks differ from the client's (nothing was run)."""


LOCAL_WORKER_CONFIG: dict[str, Any] = {
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers (and so in the kernels they
    # start): reports allocate and free a lot and ran slower with it than with glibc's default,
    # which the local executor keeps (docs/benchmarks.md).
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # A report is one long task that mostly waits for its kernel; a worker's own housekeeping
    # (the statistical profiler, system and memory monitors, loop ticks) took a noticeable share
    # of a core (docs/benchmarks.md). Reports need none of that at such rates.
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "2s",
    "distributed.admin.tick.interval": "500ms",
}
"""Dask configuration of the workers ``dask-local:N`` starts (see docs/cluster.md for worker
machines of a real cluster)."""

# --------------------------------------------------------------------------- inputs shipped once


@dataclass(frozen=True)
class RunInputs:
    """The client files a county-year's reports read (saved scores, framework, registry and
    intake-notes files given by path), as bytes: ``files`` maps ``<parameter>/<relative path>`` to content;
    ``roots`` maps each shipped parameter to its value on the client."""

    digest: str
    files: dict[str, bytes]
    roots: dict[str, str]

    @classmethod
    def collect(cls, parameters: dict[str, Any]) -> RunInputs:
        files: dict[str, bytes] = {}
        roots: dict[str, str] = {}
        for name in SHIPPED_PARAMETERS:
            value = str(parameters.get(name) or "")
            path = Path(value)
            if not value or not path.is_absolute() or not path.exists():
                continue  # a built-in framework's name, or nothing
            roots[name] = value
            if path.is_dir():
                for p in sorted(p for folder in _shipped_folders(name, path, parameters) for p in folder.rglob("*")):
                    if p.is_file() and not p.name.startswith("."):
                        files[f"{name}/{p.relative_to(path).as_posix()}"] = p.read_bytes()
            else:
                files[f"{name}/{path.name}"] = path.read_bytes()
        h = hashlib.sha256()
        for key in sorted(files):
            h.update(key.encode("utf-8") + b"\0" + hashlib.sha256(files[key]).digest())
        return cls(h.hexdigest()[:24], files, roots)


def _shipped_folders(name: str, path: Path, parameters: dict[str, Any]) -> list[Path]:
    """The folders of a folder parameter that reports read: all of it, except a region summary's
    ``scores`` (the year's output folder, ``<output>/<year>``, with ``counties``): only each
    county's ``<county>/scores``, not the reports being written beside them."""
    counties = [c for c in str(parameters.get("counties") or "").split(",") if c]
    if name == "scores" and counties:
        return [path / county / "scores" for county in counties]
    return [path]


_MATERIALISED: dict[str, dict[str, str]] = {}
_HOLDERS: dict[str, int] = {}  # digest → runs (inputs plugins) on this worker that use it
_MATERIALISE_LOCK = threading.Lock()


def _worker_root() -> Path:
    return Path(tempfile.gettempdir()) / f"evalkit-worker-{os.getpid()}"


def materialise(inputs: RunInputs) -> dict[str, str]:
    """Write ``inputs`` once per worker process into a local folder; return the local value of
    each shipped parameter. Each call holds the copy until a matching :func:`forget`."""
    with _MATERIALISE_LOCK:
        _HOLDERS[inputs.digest] = _HOLDERS.get(inputs.digest, 0) + 1
        done = _MATERIALISED.get(inputs.digest)
        if done is not None:
            return done
        base = _worker_root() / "inputs" / inputs.digest
        for key, data in inputs.files.items():
            target = base / key
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, data, fsync=False)
        local: dict[str, str] = {}
        for name, value in inputs.roots.items():
            local[name] = str(base / name) if Path(value).is_dir() else str(base / name / Path(value).name)
        _MATERIALISED[inputs.digest] = local
        return local


def forget(digest: str) -> None:
    """Release one hold on the inputs ``digest`` (a run ended); the local copy is removed when
    no run on this worker holds it any more (two runs may ship identical scores)."""
    with _MATERIALISE_LOCK:
        left = _HOLDERS.pop(digest, 0) - 1
        if left > 0:
            _HOLDERS[digest] = left
        elif _MATERIALISED.pop(digest, None) is not None:
            shutil.rmtree(_worker_root() / "inputs" / digest, ignore_errors=True)


# --------------------------------------------------------------------------- on the worker


def identify(notebooks: list[str]) -> dict[str, Any]:
    """This process's evalkit version, host and the sha256 of each notebook (``None``: missing)."""
    import evalkit
    from evalkit.planner.fingerprints import sha256_file

    shas: dict[str, str | None] = {}
    for path in notebooks:
        try:
            shas[path] = sha256_file(Path(path))
        except OSError:
            shas[path] = None
    return {"evalkit": evalkit.__version__, "host": socket.gethostname(), "notebooks": shas}


def mismatch(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """How a worker differs from the client (Chinese and English), empty when it does not."""
    problems = []
    if found.get("evalkit") != expected["evalkit"]:
        problems.append(
            f"evalkit 版本为 {found.get('evalkit')}，本机为 {expected['evalkit']} / evalkit version differs"
        )
    for path, sha in expected["notebooks"].items():
        theirs = found.get("notebooks", {}).get(path)
        if theirs is None:
            problems.append(f"没有笔记本 {path} / notebook missing")
        elif theirs != sha:
            problems.append(f"笔记本 {Path(path).name} 与本机不同 / notebook differs")
    return problems


@dataclass
class RemoteResult:
    """What a task sends back: the result (paths as on the client) and, unless outputs are
    shared, the files' bytes by client path."""

    result: JobResult
    files: dict[str, bytes] | None = None
    worker: str = ""


def _this_worker() -> str:
    try:
        from distributed import get_worker

        w = get_worker()
        return f"{w.name}（{w.address}）" if str(w.name) != w.address else w.address
    except Exception:  # pragma: no cover - not in a worker
        return socket.gethostname()


def run_remote(job: Job, inputs: str | None, expected: dict[str, Any], shared_output: bool) -> RemoteResult:
    """The task: execute and render ``job`` in this worker (a fresh kernel from its pool);
    ``inputs`` is the digest of the :class:`RunInputs` the worker got from the run's
    :class:`EvalkitInputsPlugin`."""
    from evalkit.runtime.kernelpool import KernelPoolExecutor

    worker = _this_worker()
    notebook = str(job.notebook)
    wanted = {"evalkit": expected["evalkit"], "notebooks": {notebook: expected["notebooks"][notebook]}}
    problems = mismatch(wanted, identify([notebook]))
    if problems:
        refused = JobResult.failure(job, f"工作节点 {worker}：{'；'.join(problems)}")
        return RemoteResult(refused, None if shared_output else {}, worker)
    if inputs is not None:
        local = _MATERIALISED.get(inputs)
        if local is None:
            missing = JobResult.failure(
                job, f"工作节点 {worker} 没有收到本次评价的输入（评分结果）/ the run's inputs did not reach this worker"
            )
            return RemoteResult(missing, None if shared_output else {}, worker)
        job = replace(job, parameters={**job.parameters, **local})
    if shared_output:
        return RemoteResult(KernelPoolExecutor().run(job), None, worker)
    stage = _worker_root() / "stage" / uuid.uuid4().hex
    try:
        staged = replace(
            job,
            outputs={fmt: stage / "out" / path.name for fmt, path in job.outputs.items()},
            failed_notebook=stage / "failed" / (job.failed_notebook or Path("failed.ipynb")).name,
            work_dir=stage / ".work",
            render_only=False,
        )
        result = KernelPoolExecutor().run(staged)
        back = {str(p): str(job.outputs[fmt]) for fmt, p in staged.outputs.items()}
        files = {back[p]: Path(p).read_bytes() for p in result.outputs.values()}
        result.outputs = {fmt: back[p] for fmt, p in result.outputs.items()}
        if result.failed_notebook:
            data = Path(result.failed_notebook).read_bytes()
            result.failed_notebook = str(job.failed_notebook)
            files[result.failed_notebook] = data
        return RemoteResult(result, files, worker)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _plugin_base() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class EvalkitWorkerPlugin(_plugin_base()):  # type: ignore[misc]
    """Sets a worker up once, before its first report: imports the rendering stack and starts
    the kernel template of each ``(kernel name, notebook folder)`` in ``warm`` with a kernel
    ready (the same pool :func:`run_remote` uses)."""

    name = "evalkit"
    idempotent = False

    def __init__(self, warm: list[tuple[str, str]]):
        self.warm = list(warm)

    async def setup(self, worker: Any) -> None:
        import asyncio

        from evalkit.publish.markup import STYLESHEET_PROVIDED

        os.environ[STYLESHEET_PROVIDED] = "1"  # the reports' template brings the blocks' stylesheet
        await asyncio.to_thread(self._warm_up)

    def _warm_up(self) -> None:
        import importlib

        for module in ("evalkit.publish.render", "nbconvert", "weasyprint", "papermill",
                       "evalkit.runtime.papermill_engine"):
            try:
                importlib.import_module(module)
            except Exception:  # pragma: no cover - reported by the first report instead
                pass
        from evalkit.runtime.kernelpool import KernelPoolExecutor

        for kernel_name, cwd in self.warm[:1]:  # one spare kernel at a time per worker
            try:  # (nothing when an earlier run on this long-lived worker set it up)
                KernelPoolExecutor().warm_up(kernel_name, cwd)
            except Exception:  # pragma: no cover - the first report starts one itself
                pass

    def teardown(self, worker: Any) -> None:
        """Remove the worker's local copies of the scores and its staging folder."""
        shutil.rmtree(_worker_root(), ignore_errors=True)
        _MATERIALISED.clear()
        _HOLDERS.clear()


class EvalkitInputsPlugin(_plugin_base()):  # type: ignore[misc]
    """A run's inputs (one :class:`RunInputs` per county-year): written once into each worker's
    local folder when the plugin is registered, and by each worker that joins while the run goes
    on (the scheduler keeps registered plugins for new workers); removed again when the run
    unregisters it."""

    idempotent = False

    def __init__(self, inputs: list[RunInputs]):
        self.inputs = list(inputs)

    async def setup(self, worker: Any) -> None:
        import asyncio

        await asyncio.to_thread(lambda: [materialise(i) for i in self.inputs])

    def teardown(self, worker: Any) -> None:
        for i in self.inputs:
            forget(i.digest)


# --------------------------------------------------------------------------- on the client


def _kernel_name(notebook: Path) -> str:
    import nbformat
    from papermill.engines import papermill_engines

    return papermill_engines.nb_kernel_name(engine_name=None, nb=nbformat.read(notebook, as_version=4))


@dataclass(eq=False)
class DaskExecutor(Executor):
    """Runs jobs on a Dask cluster (see the module docstring). ``choice`` says which;
    ``shared_output``: workers write the outputs themselves to paths all of them see."""

    choice: ExecutorChoice
    shared_output: bool = False
    out: Any = None
    _client: Any = field(default=None, repr=False)
    _cluster: Any = field(default=None, repr=False)
    _plugin_for: tuple | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ cluster

    def client(self) -> Any:
        """The Dask client (connects, or starts the local cluster, on first use)."""
        if self._client is None:
            import logging

            from distributed import Client, LocalCluster

            if self.choice.kind == "dask-local":
                dashboard = ":0" if _has_bokeh() else None
                import dask

                with dask.config.set(LOCAL_WORKER_CONFIG):
                    self._cluster = LocalCluster(
                        n_workers=self.choice.workers, threads_per_worker=1, processes=True,
                        dashboard_address=dashboard, silence_logs=logging.ERROR,
                    )
                self._client = Client(self._cluster, set_as_default=False)
            else:
                try:
                    self._client = Client(self.choice.address, timeout=30, set_as_default=False)
                except OSError as err:
                    raise ClusterError(
                        f"无法连接 Dask 调度器 {self.choice.address}：{err} / cannot reach the scheduler"
                    ) from None
            out = self.out or sys.stderr
            link = _dashboard(self._client)
            if link:
                print(f"Dask 仪表板 / dashboard: {link}", file=out, flush=True)
        return self._client

    def close(self) -> None:
        """Disconnect (and stop the local cluster)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def workers(self) -> dict[str, str]:
        """Address → name of every worker."""
        client = self.client()
        info = client.scheduler_info(n_workers=-1) if _accepts_n_workers() else client.scheduler_info()
        return {addr: str(w.get("name", addr)) for addr, w in info.get("workers", {}).items()}

    def check_workers(self, expected: dict[str, Any]) -> None:
        """Refuse (:class:`WorkerMismatchError`) when a worker's evalkit version or notebooks differ."""
        client = self.client()
        try:
            client.wait_for_workers(1, timeout=120)
        except TimeoutError:
            raise ClusterError("Dask 调度器 120 秒内没有可用的工作节点 / no worker joined the cluster") from None
        found = client.run(identify, list(expected["notebooks"]))
        names = self.workers()
        bad = []
        for addr, info in sorted(found.items()):
            problems = mismatch(expected, info)
            if problems:
                name = names.get(addr, addr)
                who = f"{name}（{addr}）" if name != addr else addr
                bad.append(f"工作节点 {who}：{'；'.join(problems)}")
        if bad:
            raise WorkerMismatchError(
                "Dask 工作节点与本机的 evalkit 不一致，已拒绝运行 / workers differ from this machine:\n  "
                + "\n  ".join(bad)
            )

    def start(self, notebooks: list[Path]) -> dict[str, Any]:
        """Connect, check every worker against this machine (evalkit version, the notebooks'
        sha256) and set them up (:class:`EvalkitWorkerPlugin`, warming the first notebook's
        kernels); return what tasks check on their worker. Raises :class:`WorkerMismatchError`."""
        import evalkit
        from evalkit.planner.fingerprints import sha256_file

        paths = sorted({str(p) for p in notebooks})
        expected = {"evalkit": evalkit.__version__, "notebooks": {p: sha256_file(Path(p)) for p in paths}}
        self.check_workers(expected)
        warm_key = tuple((_kernel_name(Path(p)), str(Path(p).parent)) for p in [str(notebooks[0]), *paths])
        if self._plugin_for != warm_key:
            self.client().register_plugin(EvalkitWorkerPlugin(list(warm_key)), name="evalkit")
            self._plugin_for = warm_key
        self._expected = expected
        return expected

    def _expect(self, job: Job) -> dict[str, Any]:
        """What tasks check on their worker, the workers checked for ``job``'s notebook too."""
        expected = getattr(self, "_expected", None)
        if expected is None or str(job.notebook) not in expected["notebooks"]:
            known = list(expected["notebooks"]) if expected is not None else []
            expected = self.start([job.notebook, *map(Path, known)])
        return expected

    # ------------------------------------------------------------------ running

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
        """Run ``jobs`` on the cluster, writing each report's files and calling ``on_result`` (in
        this process) as each finishes, ``tick`` after each; a tqdm bar on stderr. ``workers``
        is not used: the cluster runs as many reports at once as it has workers. Each job is
        submitted as soon as ``jobs`` gives it (a lazy feed's later counties join the running
        ones), with its ``priority``; the inputs of each new county-year are shipped when its
        first job comes (one :class:`EvalkitInputsPlugin` each). On ``KeyboardInterrupt`` (or
        an exception from ``jobs``) the pending tasks are cancelled and it propagates."""
        from distributed import as_completed
        from tqdm import tqdm

        source = iter(jobs)
        first = next(source, None)
        if first is None:
            return
        client = self.client()
        token = uuid.uuid4().hex[:8]
        digests: dict[str, str | None] = {}  # scores folder → digest of its RunInputs
        plugins: list[str] = []
        futures: dict[Any, Job] = {}
        finished = as_completed([], loop=client.loop)
        bar = tqdm(total=operator.length_hint(jobs) or None, unit="份", desc=desc, disable=not progress,
                   file=sys.stderr, dynamic_ncols=True)

        def submit(n: int, job: Job) -> None:
            expected = self._expect(job)
            source_key = str(job.parameters.get("scores", ""))
            if source_key not in digests:
                digests[source_key] = None
                if not self.shared_output:
                    inputs = RunInputs.collect(job.parameters)
                    plugins.append(f"evalkit-inputs-{token}-{len(plugins)}")
                    client.register_plugin(EvalkitInputsPlugin([inputs]), name=plugins[-1])
                    digests[source_key] = inputs.digest
            fut = client.submit(
                run_remote, job, digests[source_key], expected, self.shared_output,
                key=f"evalkit-{token}-{n}-{job.key}", pure=False, retries=1, priority=job.priority,
            )
            futures[fut] = job
            finished.add(fut)
            bar.total = max(bar.total or 0, operator.length_hint(jobs), len(futures) + bar.n)

        def land(batch: list[Any]) -> None:
            for fut in batch:
                job = futures.pop(fut)
                try:
                    remote: RemoteResult = fut.result()
                    result = self._land(job, remote)
                except Exception as err:  # a report that killed its workers, or an executor bug
                    result = JobResult.failure(job, _describe_task_error(err))
                    _remove_all([*job.outputs.values()])
                on_result(job, result)
                bar.set_postfix_str(job.label[:60], refresh=False)
                bar.update(1)
                if tick is not None:
                    tick()

        try:
            submit(0, first)
            for n, job in enumerate(source, start=1):  # may wait for the feed: tasks run meanwhile
                submit(n, job)
                if finished.has_ready():
                    land(finished.next_batch(block=False))
            for batch in finished.batches():
                land(batch)
        except BaseException:
            client.cancel(list(futures), force=True)
            raise
        finally:
            bar.close()
            for plugin in plugins:
                _unregister(client, plugin)

    def _land(self, job: Job, remote: RemoteResult) -> JobResult:
        """Write a finished report's files (unless workers wrote them) and return its result."""
        result = remote.result
        if remote.files is None:
            return result
        if result.status == "done":
            for path in result.outputs.values():
                atomic_write_bytes(Path(path), remote.files[path])
            _remove_all([job.failed_notebook])
        else:
            _remove_all([*job.outputs.values()])
            if result.failed_notebook and result.failed_notebook in remote.files:
                atomic_write_bytes(Path(result.failed_notebook), remote.files[result.failed_notebook])
        return result


def _unregister(client: Any, name: str) -> None:
    """Unregister a run's inputs plugin (its teardown removes the workers' copies); a cluster
    already gone has nothing left to remove."""
    try:
        client.unregister_worker_plugin(name)
    except Exception:  # pragma: no cover - the scheduler is gone or the run was interrupted
        pass


def _remove_all(paths: list[Path | None]) -> None:
    for p in paths:
        if p is not None:
            Path(p).unlink(missing_ok=True)


def _describe_task_error(err: BaseException) -> str:
    name = type(err).__name__
    if name == "KilledWorker":
        return f"执行本报告的工作节点多次意外退出（可能内存不足）/ the report's workers died: {err}"
    return f"{name}: {err}"


def _dashboard(client: Any) -> str | None:
    """The dashboard's address when it answers (it needs ``bokeh`` on the scheduler)."""
    import urllib.request

    try:
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return None
        link = client.dashboard_link
        with urllib.request.urlopen(link, timeout=3) as response:
            return link if response.status == 200 else None
    except Exception:
        return None


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def _accepts_n_workers() -> bool:
    import inspect

    from distributed import Client

    return "n_workers" in inspect.signature(Client.scheduler_info).parameters
