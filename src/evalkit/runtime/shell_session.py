"""The worker's side of a report run in a forked IPython shell (no Jupyter kernel).

A :class:`ShellSession` asks a template (:class:`~evalkit.runtime.kernelfork.ForkServer`) for a
process running :mod:`evalkit.runtime.shell_child`, which connects back over a Unix socket in a
private temporary folder; :meth:`ShellSession.run` sends one cell's code and returns its outputs.
It fails the way a kernel fails, with nbclient's exceptions, so everything after it (papermill's
error cell, :func:`evalkit.runtime.render_job.describe_error`) is the same:

* a cell running longer than its timeout: ``CellTimeoutError`` (the process is killed);
* the process gone (``os._exit``, a crash, killed): ``DeadKernelError``.

:func:`run_cells` is what a papermill engine does with a session: papermill's own per-cell
protocol (``cell_start``, ``cell_exception``, ``cell_complete``: the cells' ``papermill``
metadata and the stop at the first failing cell) around nbclient's rules for which cells run
(code cells with code, not tagged ``skip-execution``) and which errors stop the notebook (all but
cells tagged ``raises-exception``), and nbclient's ``execution`` timestamps per cell.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from evalkit.runtime.kernelfork import ForkServer, _ForkedProcess

__all__ = ["ShellSession", "run_cells"]


class ShellSession:
    """One report's shell process: forked at once; :meth:`wait_ready` connects to it.
    ``seconds``: how long it took from the fork request until the process was ready."""

    def __init__(self, server: ForkServer, cwd: str, env: dict[str, str],
                 ahead: dict[str, list[str]] | None = None):
        self.began = time.monotonic()
        self.seconds = 0.0
        self.language_info: dict[str, Any] = {}
        self.conn: Any = None
        self._folder = tempfile.mkdtemp(prefix="evalkit-shell-")
        self._listener: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.process: _ForkedProcess | None = None
        try:
            address = os.path.join(self._folder, "cells")
            self._listener.bind(address)
            self._listener.listen(1)
            self.process = _ForkedProcess(server.fork_shell(address, cwd, env, ahead))
        except BaseException:
            self.kill()
            raise

    def wait_ready(self, timeout: float) -> None:
        """Accept the process's connection and its ``ready`` (raises ``DeadKernelError`` when it
        ended first, ``TimeoutError`` after ``timeout`` seconds)."""
        if self.conn is not None:
            return
        from multiprocessing.connection import Connection

        from nbclient.exceptions import DeadKernelError

        assert self._listener is not None and self.process is not None
        deadline = time.monotonic() + timeout
        self._listener.settimeout(0.1)
        while True:
            try:
                sock, _ = self._listener.accept()
                break
            except TimeoutError:
                if self.process.poll() is not None:
                    raise DeadKernelError("报告进程启动时退出 / the report's process ended while starting") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"报告进程 {timeout:g} 秒内未就绪 / the report's process was not ready "
                                       f"within {timeout:g} s") from None
        sock.setblocking(True)
        self.conn = Connection(sock.detach())
        self._close_listener()
        hello = self._receive(max(0.1, deadline - time.monotonic()), starting=True)
        self.language_info = hello.get("language_info") or {}
        ready_at = hello.get("at")  # monotonic clock: the same for every process on Linux
        if not isinstance(ready_at, float) or not self.began <= ready_at <= time.monotonic():
            ready_at = time.monotonic()
        self.seconds = round(ready_at - self.began, 3)

    def run(self, code: str, timeout: float | None) -> dict[str, Any]:
        """Run one cell: ``{"outputs", "updates", "execution_count", "status"}``."""
        from nbclient.exceptions import DeadKernelError

        try:
            self.conn.send({"code": code})
        except OSError:
            raise DeadKernelError("报告进程已退出 / the report's process ended") from None
        return self._receive(timeout)

    def _receive(self, timeout: float | None, starting: bool = False) -> dict[str, Any]:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if not self.conn.poll(timeout):
            self.kill()
            if starting:
                raise TimeoutError("报告进程未就绪 / the report's process was not ready")
            raise CellTimeoutError(f"A cell timed out after {timeout:g} seconds")
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise DeadKernelError("报告进程意外退出 / the report's process ended unexpectedly") from None

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        shutil.rmtree(self._folder, ignore_errors=True)

    def kill(self) -> None:
        """End the process (and whatever it started: its process group) and close everything."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._close_listener()
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the child called setsid(): its own group
            except OSError:
                process.kill()


def _timestamp() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def run_cells(nb_man: Any, session: ShellSession, timeout: float | None) -> Any:
    """Execute ``nb_man.nb`` cell by cell on ``session`` (see the module); return the notebook."""
    import nbformat

    nb = nb_man.nb
    displayed: dict[str, list[Any]] = {}
    for index, cell in enumerate(nb.cells):
        try:
            nb_man.cell_start(cell, index)
            tags = cell.get("metadata", {}).get("tags", [])
            if cell.cell_type != "code" or not cell.source.strip() or "skip-execution" in tags:
                continue
            cell.outputs = []
            busy = _timestamp()
            result = session.run(cell.source, timeout)
            cell.execution_count = result["execution_count"]
            cell.outputs = [nbformat.from_dict(output) for output in result["outputs"]]
            for display_id, data, metadata in result["updates"]:  # this cell's own: updated by the child
                for output in displayed.get(display_id, []):
                    output["data"], output["metadata"] = nbformat.from_dict(data), nbformat.from_dict(metadata)
            _remember_displays(cell.outputs, displayed)
            done = _timestamp()
            cell.metadata["execution"] = {"iopub.execute_input": busy, "iopub.status.busy": busy,
                                          "iopub.status.idle": done, "shell.execute_reply": done}
            if result["status"] == "error" and "raises-exception" not in tags:
                nb_man.cell_exception(cell, cell_index=index)
                break
        finally:
            nb_man.cell_complete(cell, cell_index=index)
    if session.language_info:
        nb.metadata["language_info"] = nbformat.from_dict(session.language_info)
    return nb


def _remember_displays(outputs: list[Any], displayed: dict[str, list[Any]]) -> None:
    """Outputs carry no display id in a notebook; the child's ``updates`` name it, so keep the
    display outputs in order of appearance under the ids the child reported for them."""
    for output in outputs:
        display_id = output.pop("_display_id", None) if isinstance(output, dict) else None
        if display_id:
            displayed.setdefault(display_id, []).append(output)
