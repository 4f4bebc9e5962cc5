"""Kernels forked from a pre-warmed template process (a "fork server").

Starting an IPython kernel the usual way (``python -m ipykernel_launcher``) and importing what a
report needs (pandas, pyarrow, matplotlib with its font cache, evalkit) costs about a second of
CPU per report — on a 2-core machine that is most of a report's cost. Here one *template*
process per batch worker imports all of that once, then forks a new kernel process for each
report. Each kernel is a new process with a new IPython shell and an empty user namespace; it
inherits only modules that were imported, never run, by the template (and matplotlib's chart
set-up and open CJK font, :func:`warm_charts`, the same for every report), so no state can pass from
one report to the next (a report's changes to a module, ``os.environ`` or a global stay in its
own process, which is killed after the report).

What the kernel sees is what ``python -m ipykernel_launcher -f <connection file>`` would give it:
the same interpreter and flags, the kernel manager's environment (``JPY_PARENT_PID`` names the
template, which outlives the kernel), its own session and process group, the notebook's folder as
working directory, ``sys.path`` without the template's folder (IPython puts the working
directory first, as usual), ``/dev/null`` as stdin, and re-seeded random generators.

Pieces:

* :func:`serve` — the template's main loop (``python -m evalkit.runtime.kernelfork``): imports
  :data:`PRELOAD`, then forks a kernel per request read from a pipe, reaps them, and when the
  pipe closes (its worker ended, however it ended) kills the kernels still running and exits.
* :class:`ForkServer` — the worker's handle on its template (spawn, ``fork``, ``fork_shell``,
  ``close``). ``fork_shell`` forks, instead of a kernel, a process that runs a report's cells in
  an IPython shell without Jupyter's messaging (:mod:`evalkit.runtime.shell_child`), set up
  exactly as a kernel is (environment, working directory, session, seeds).
* :func:`forked_provisioner` — a ``jupyter_client`` provisioner that launches through a
  :class:`ForkServer` instead of ``Popen``; everything else (connection file, signals, kill,
  shutdown) is ``jupyter_client``'s.

Linux only; :func:`fork_supported` says whether it can be used (elsewhere the pool starts kernels
the usual way).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["PRELOAD", "ForkServer", "ForkServerError", "fork_supported", "forked_provisioner", "serve"]

PRELOAD: tuple[str, ...] = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    # what every kernel imports while it starts (measured: the modules a forked kernel has at its
    # first cell that the template had not): the debugger (debugpy and pydevd, ~0.05 s of CPU
    # per kernel, imported by IPythonKernel.__init__), the shell's history (sqlite3), pdb, the
    # inspector, the completer and the storemagic extension
    "ipykernel.debugger",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.core.completerlib",
    "IPython.extensions.storemagic",
    "sqlite3",
    "IPython.display",
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.font_manager",
    "matplotlib.backends.backend_agg",
    "matplotlib_inline.backend_inline",
    "evalkit",
    "evalkit.api",
    "evalkit.results",
    "evalkit.framework",
    "evalkit.analysis",
    "evalkit.publish.present",
    "evalkit.charts.figures",
    "evalkit.charts.fonts",
    # what every school report imports besides (the issuer block, the robustness block, and the
    # registry reader behind 首次参评: ~0.05 s of CPU per kernel, docs/benchmarks.md)
    "evalkit.publish.official",
    "evalkit.analysis.uncertainty",
    "evalkit.charts.uncertainty",
    "evalkit.intake.registry",
    # a report run in a shell without a kernel (evalkit.runtime.shell_child): its connection
    "multiprocessing.connection",
    "evalkit.runtime.shell_child",
)
"""Modules the template imports (imported only: of their functions only :func:`warm_charts` and
:func:`preload` are called)."""

LAUNCHER = "ipykernel_launcher"


class ForkServerError(RuntimeError):
    """The template process could not be started or stopped answering."""


def fork_supported() -> bool:
    """Whether kernels are forked here: on Linux (macOS forbids forking a process that may have
    loaded system frameworks without ``exec``; Windows has no ``fork``)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


# --------------------------------------------------------------------------- the template process


def _reap(children: set[int]) -> None:
    """Collect every finished child (non-blocking)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)


def _kill_all(children: set[int]) -> None:
    """SIGKILL every kernel still running (with its process group) and wait for them."""
    for pid in list(children):
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
                break
            except OSError:
                continue
    for pid in list(children):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        children.discard(pid)


def _enter_child(request: dict[str, Any], close_fds: Sequence[int]) -> None:
    """In a forked child: what a process started for a report would be (own session and process
    group, default signals, ``/dev/null`` as stdin, the request's environment and working
    directory, a re-seeded numpy generator)."""
    os.setsid()
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    for fd in close_fds:
        os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    os.chdir(request["cwd"])
    if "numpy" in sys.modules:  # a fresh process seeds numpy's global generator from the OS
        sys.modules["numpy"].random.seed()


def _exit_child(code: int) -> None:
    """Run the child's exit functions, flush, and end the process (never returns)."""
    try:
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _run_child(request: dict[str, Any], close_fds: Sequence[int], body: Callable[[], None]) -> None:
    """In a forked child: :func:`_enter_child`, then ``body()``; the exit status is 0 when it
    returns, a ``SystemExit``'s code, or 1 after printing any other exception. Never returns."""
    code = 1
    try:
        _enter_child(request, close_fds)
        body()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc(file=sys.__stderr__)
    finally:
        _exit_child(code)


def _become_kernel(request: dict[str, Any], close_fds: Sequence[int]) -> None:
    """In the forked child: turn into ``python -m ipykernel_launcher <args>``; never returns."""

    def kernel() -> None:
        import ipykernel

        sys.argv = [os.path.join(os.path.dirname(os.path.dirname(ipykernel.__file__)), f"{LAUNCHER}.py"),
                    *request["args"]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=list(request["args"]))

    _run_child(request, close_fds, kernel)


def _become_shell(request: dict[str, Any], close_fds: Sequence[int]) -> None:
    """In the forked child: connect to the worker at ``request["shell"]`` (a Unix socket) and run
    the report's cells it sends in an IPython shell (:mod:`evalkit.runtime.shell_child`); never
    returns."""

    def shell() -> None:
        import socket
        from multiprocessing.connection import Connection

        from evalkit.runtime import shell_child

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(request["shell"])
        shell_child.serve(Connection(sock.detach()))

    _run_child(request, close_fds, shell)


def warm_charts(modules: Sequence[str] = PRELOAD) -> None:
    """When ``modules`` include :mod:`evalkit.charts.fonts`: its :func:`~evalkit.charts.fonts.warm_up`
    (matplotlib's rcParams for the reports, the CJK font opened, Agg's text path drawn once), and
    when they include :mod:`evalkit.publish.present`: :func:`evalkit.publish.markup.warm_up` (the
    report blocks' templates compiled), and when they include :mod:`evalkit.runtime.shell_child`: its
    shell class, so every kernel forked afterwards starts with them. The
    same rcParams every chart sets itself, the same templates every report renders; nothing
    school-specific. A failure is ignored (the report's first chart or block then says why)."""
    if "evalkit.runtime.shell_child" in modules:  # the report shell's class (traitlets' set-up)
        try:
            from evalkit.runtime.shell_child import warm_up as warm_shell

            warm_shell()
        except Exception:
            pass
    if "evalkit.publish.present" in modules:  # the report blocks' Jinja templates, compiled
        try:
            from evalkit.publish.markup import warm_up as warm_markup

            warm_markup()
        except Exception:
            pass
    if "evalkit.charts.fonts" not in modules:
        return
    try:
        from evalkit.charts.fonts import warm_up

        warm_up()
    except Exception:
        pass


def preload(what: dict[str, Sequence[str]]) -> bool:
    """Read what the next reports will read into this process: saved Results folders
    (``"scores"``, :func:`evalkit.api.preload_results`), frameworks (``"frameworks"``,
    :func:`evalkit.analysis.inputs.preload_framework`) and registry files' start years
    (``"registries"``, :func:`evalkit.analysis.history.preload_registry`); each is a no-op when already read and
    unchanged on disk. Failures are ignored: the report then reads the file itself and reports
    the problem. Returns whether anything was read."""
    read = False
    for folder in what.get("scores") or ():
        try:
            from evalkit.api import preload_results

            read = preload_results(folder) or read
        except Exception:
            pass
    for framework in what.get("frameworks") or ():
        try:
            from evalkit.analysis.inputs import preload_framework

            read = preload_framework(framework) or read
        except Exception:
            pass
    for registry in what.get("registries") or ():
        try:
            from evalkit.analysis.history import preload_registry

            read = preload_registry(registry) or read
        except Exception:
            pass
    return read


def serve(request_fd: int, reply_fd: int, modules: Sequence[str] = PRELOAD) -> None:
    """The template's main loop: import ``modules``, answer ``ready``, then fork one kernel per
    request line (JSON ``{"args", "cwd", "env", "preload"}``, answered with ``{"pid"}``; what
    ``preload`` names is read first, see :func:`preload`) — or, for a request with ``"shell"``
    (a Unix socket's path) instead of ``"args"``, a process running a report's cells in an IPython
    shell (:func:`_become_shell`) — until the request pipe closes; then kill the kernels still
    running and return."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the main process
    # what ipykernel sets before a notebook imports matplotlib
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # ipykernel reads its parent's pid when imported: the kernels' parent is this process
    os.environ["JPY_PARENT_PID"] = str(os.getpid())
    children: set[int] = set()
    reply = os.fdopen(reply_fd, "w", buffering=1, encoding="utf-8")
    try:
        for name in modules:
            importlib.import_module(name)
    except BaseException as exc:
        reply.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return
    warm_charts(modules)
    import gc

    gc.collect()
    gc.freeze()  # keep the template's objects out of the kernels' collections (copy-on-write)
    reply.write(json.dumps({"ready": os.getpid()}) + "\n")
    requests = os.fdopen(request_fd, "r", encoding="utf-8")
    try:
        for line in requests:
            _reap(children)
            try:
                request = json.loads(line)
            except ValueError:
                continue
            if preload(request.get("preload") or {}):
                gc.collect()
                gc.freeze()  # what was read, too
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                if request.get("shell"):
                    _become_shell(request, (request_fd, reply_fd))
                _become_kernel(request, (request_fd, reply_fd))
            children.add(pid)
            reply.write(json.dumps({"pid": pid}) + "\n")
    finally:
        _kill_all(children)


def _main(argv: Sequence[str]) -> None:
    """Entry point of the template process, run as a script so that it imports nothing but
    :data:`PRELOAD` (not the ``evalkit.planner`` package)."""
    del sys.path[0]  # this file's folder; kernels get the working directory instead, as usual
    serve(int(argv[0]), int(argv[1]))


# --------------------------------------------------------------------------- the worker's side


class ForkServer:
    """A template process (started at once) and the pipe to ask it for kernels.

    ``python`` is the interpreter and its flags (e.g. ``[".venv/bin/python",
    "-Xfrozen_modules=off"]``), which must be the kernel spec's; ``cwd`` the kernels' working
    directory (the template imports there too, as a kernel would).
    """

    def __init__(self, python: Sequence[str], cwd: str, *, start_timeout: float = 60):
        self.python = list(python)
        self.cwd = str(cwd)
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._ready: int | None = None
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        try:
            self.process = subprocess.Popen(
                [*self.python, os.path.abspath(__file__), str(req_r), str(rep_w)],
                stdin=subprocess.DEVNULL,
                pass_fds=(req_r, rep_w),
                cwd=self.cwd,  # matplotlib reads a matplotlibrc there at import, as in a kernel
            )
        finally:
            os.close(req_r)
            os.close(rep_w)
        self._buffer = b""

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read_reply(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ForkServerError("内核模板进程无响应 / the kernel template did not answer")
            ready, _, _ = select.select([self._rep_r], [], [], left)
            if ready:
                chunk = os.read(self._rep_r, 65536)
                if not chunk:
                    raise ForkServerError(
                        f"内核模板进程已退出 / the kernel template exited ({self.process.poll()})"
                    )
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def wait_ready(self) -> None:
        """Block until the template has imported everything (raises :class:`ForkServerError`)."""
        if self._ready is not None:
            return
        answer = self._read_reply(self.start_timeout)
        if "ready" not in answer:
            raise ForkServerError(f"内核模板进程启动失败 / the kernel template failed: {answer.get('error')}")
        self._ready = int(answer["ready"])

    def fork(
        self, args: Sequence[str], cwd: str, env: dict[str, str], ahead: dict[str, Sequence[str]] | None = None
    ) -> int:
        """A new kernel process running ``ipykernel_launcher args`` in ``cwd``, with what ``ahead``
        names (see :func:`preload`) already in memory; return its pid."""
        return self._request({"args": list(args)}, cwd, env, ahead)

    def fork_shell(
        self, address: str, cwd: str, env: dict[str, str], ahead: dict[str, Sequence[str]] | None = None
    ) -> int:
        """A new process running a report's cells in an IPython shell (no kernel) in ``cwd``, which
        connects to the Unix socket ``address`` (:mod:`evalkit.runtime.shell_session`); return its
        pid. ``ahead`` as for :meth:`fork`."""
        return self._request({"shell": address}, cwd, env, ahead)

    def _request(
        self, what: dict[str, Any], cwd: str, env: dict[str, str], ahead: dict[str, Sequence[str]] | None
    ) -> int:
        """Send one fork request (``what`` and the child's working directory, environment and
        what to read ahead); return the child's pid."""
        request = {**what, "cwd": str(cwd), "env": dict(env),
                   "preload": {k: list(v) for k, v in (ahead or {}).items()}}
        with self._lock:
            self.wait_ready()
            line = json.dumps(request) + "\n"
            try:
                os.write(self._req_w, line.encode("utf-8"))
            except OSError as exc:
                raise ForkServerError(f"内核模板进程已退出 / the kernel template exited: {exc}") from None
            return int(self._read_reply(self.start_timeout)["pid"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self, timeout: float = 10) -> None:
        """Close the pipe: the template kills its kernels still running and exits; wait for it."""
        for fd in (self._req_w, self._rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _ForkedProcess:
    """The ``Popen``-like view of a forked kernel that ``jupyter_client`` needs (``poll``,
    ``wait``, ``send_signal``, ``kill``, ``terminate``). The kernel is the template's child, not
    ours, so it is watched through a pidfd (immune to pid reuse) where the system has them."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._fd: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self._fd = os.pidfd_open(pid)
            except OSError:  # already gone, or no pidfd support
                self._fd = None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if self._fd is not None:
            ready, _, _ = select.select([self._fd], [], [], 0)
            exited = bool(ready)
        else:
            exited = not _pid_running(self.pid)
        if exited:
            self.returncode = -signal.SIGKILL  # the template reaps it; its status is not ours
            self._close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is not None:
            return
        if self._fd is not None and hasattr(signal, "pidfd_send_signal"):
            signal.pidfd_send_signal(self._fd, signum)
        else:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self._close()


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def launcher_args(cmd: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """Split a kernel command ``[python, *flags, "-m", "ipykernel_launcher", *args]`` into
    (``[python, *flags]``, ``args``); ``None`` for any other command (it cannot be forked)."""
    cmd = list(cmd)
    for i in range(len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] == LAUNCHER:
            return cmd[:i], cmd[i + 2 :]
    return None


@functools.cache
def _provisioner_class() -> type:
    import asyncio

    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ForkedKernelProvisioner(LocalProvisioner):  # type: ignore[misc]
        """Launches the kernel by asking :attr:`fork_server` to fork one (see the module)."""

        fork_server: ForkServer | None = None
        preload: dict[str, Sequence[str]] | None = None

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            split = launcher_args(cmd)
            if self.fork_server is None or split is None:
                return await super().launch_kernel(cmd, **kwargs)
            _, args = split
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            loop = asyncio.get_running_loop()  # the first fork waits for the template's imports
            pid = await loop.run_in_executor(None, self.fork_server.fork, args, cwd, env, self.preload)
            self.process = _ForkedProcess(pid)
            self.pid = self.pgid = pid  # the kernel called setsid(): its own process group
            self.cwd = cwd
            return self.connection_info

    return ForkedKernelProvisioner


def forked_provisioner(km: Any, server: ForkServer, ahead: dict[str, Sequence[str]] | None = None) -> Any:
    """A provisioner for the kernel manager ``km`` (before its ``start_kernel``) that forks the
    kernel from ``server`` (with what ``ahead`` names read into the template first, see
    :func:`preload`); install it with ``km.provisioner = …``."""
    import uuid

    km.kernel_id = km.kernel_id or str(uuid.uuid4())
    provisioner = _provisioner_class()(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
    provisioner.fork_server = server
    provisioner.preload = ahead
    return provisioner


if __name__ == "__main__":
    _main(sys.argv[1:])
