"""A report's cells run in an IPython shell of a forked process, without a Jupyter kernel.

A Jupyter kernel wraps every cell in messages: the client sends ``execute_request`` over ZeroMQ,
the kernel publishes each output (``stream``, ``display_data``, ``execute_result``, ``error``) on
its IOPub socket, nbclient turns them back into notebook outputs. For a report of 20 cells that
is about 0.2 s of CPU (kernel start-up 0.05, messaging 0.07, nbclient 0.08; ``docs/benchmarks.md``),
a fifth of a school report's cells. Here the forked process runs the same IPython shell class a
kernel runs (:class:`IPython.core.interactiveshell.InteractiveShell`, with the history in memory as
nbclient asks of its kernels) and records the outputs itself, as notebook outputs, through the
shell's own extension points:

* ``display_pub_class`` — ``display(...)`` becomes a ``display_data`` output (``update`` and
  ``clear_output`` as a notebook front end applies them);
* ``displayhook_class`` — a cell's value becomes an ``execute_result`` with its execution count;
* ``_showtraceback`` (what ipykernel's shell overrides too) — an exception becomes an ``error``
  output with the same ``ename``, ``evalue`` and ``traceback`` lines;
* ``sys.stdout`` / ``sys.stderr`` — ``stream`` outputs, in order with the rest; what is written
  to the file descriptors 1 and 2 (C code, ``!commands``) is added as a stream when the cell ends,
  as ipykernel captures it.

The worker's side (:mod:`evalkit.runtime.shell_session`) sends each cell's code over a Unix
socket and gets back ``{"outputs", "execution_count", "status", "updates"}``; the process is
forked for one report and killed after it, exactly like a kernel, so nothing passes from one
report to the next.
"""

from __future__ import annotations

import functools
import io
import json
import os
import sys
import tempfile
import time
from typing import Any

__all__ = ["serve", "warm_up"]


class _Cell:
    """The outputs of the cell being run, in notebook form (``nbformat`` v4 output dicts)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.updates: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.by_display_id: dict[str, list[dict[str, Any]]] = {}
        self.clear_pending = False

    def reset(self) -> None:
        self.items, self.updates, self.by_display_id, self.clear_pending = [], [], {}, False

    def add(self, output: dict[str, Any]) -> None:
        if self.clear_pending:
            self.items.clear()
            self.clear_pending = False
        self.items.append(output)

    def stream(self, name: str, text: str) -> None:
        if not text:
            return
        last = self.items[-1] if self.items and not self.clear_pending else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text  # consecutive writes: one stream output, as a notebook shows them
        else:
            self.add({"output_type": "stream", "name": name, "text": text})

    def display(self, data: dict[str, Any], metadata: dict[str, Any], display_id: str | None, update: bool) -> None:
        if update:
            if display_id is None:
                return
            for output in self.by_display_id.get(display_id, []):  # shown earlier in this cell
                output["data"], output["metadata"] = data, metadata
            self.updates.append((display_id, data, metadata))  # for those of earlier cells
            return
        output = {"output_type": "display_data", "data": data, "metadata": metadata}
        self.add(output)
        if display_id is not None:
            output["_display_id"] = display_id  # for the worker, which removes it
            self.by_display_id.setdefault(display_id, []).append(output)

    def clear(self, wait: bool) -> None:
        if wait:
            self.clear_pending = True
        else:
            self.items.clear()


_CELL = _Cell()


class _Stream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` of the shell: each write becomes stream output (a text
    stream that can only be written, as ipykernel's ``OutStream``; ``writelines``, ``flush`` and
    ``isatty`` are :class:`io.TextIOBase`'s)."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str, fd: int):
        super().__init__()
        self.name = name
        self._fd = fd

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        _CELL.stream(self.name, text)
        return len(text)

    def fileno(self) -> int:
        return self._fd

    def writable(self) -> bool:
        return True


class _FdCapture:
    """File descriptors 1 and 2 pointed at unnamed temporary files; :meth:`drain` adds what was
    written to them since the last call as ``stdout`` / ``stderr`` stream output."""

    def __init__(self) -> None:
        self.files: dict[int, tuple[str, int]] = {}
        self.read_to = {1: 0, 2: 0}
        for fd, name in ((1, "stdout"), (2, "stderr")):
            tmp = tempfile.TemporaryFile()
            os.dup2(tmp.fileno(), fd)
            self.files[fd] = (name, os.dup(tmp.fileno()))
            tmp.close()

    def drain(self) -> None:
        for fd, (name, own) in self.files.items():
            end = os.fstat(own).st_size
            if end > self.read_to[fd]:
                data = os.pread(own, end - self.read_to[fd], self.read_to[fd])
                self.read_to[fd] = end
                _CELL.stream(name, data.decode("utf-8", errors="replace"))


@functools.cache
def _shell_class() -> type:
    """The shell class, made once per process (:func:`warm_up`; about 4 ms of traitlets' class
    set-up)."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Publisher(DisplayPublisher):  # type: ignore[misc]
        def publish(self, data: dict[str, Any], metadata: dict[str, Any] | None = None, source: Any = None,
                    *, transient: dict[str, Any] | None = None, update: bool = False, **kwargs: Any) -> None:
            display_id = (transient or {}).get("display_id")
            _CELL.display(data, metadata or {}, display_id, update)

        def clear_output(self, wait: bool = False) -> None:
            _CELL.clear(wait)

    class Hook(DisplayHook):  # type: ignore[misc]
        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict: dict[str, Any], md_dict: dict[str, Any] | None = None) -> None:
            _CELL.add({"output_type": "execute_result", "execution_count": self.prompt_count,
                       "data": format_dict, "metadata": md_dict or {}})

        def finish_displayhook(self) -> None:
            pass

    class ReportShell(InteractiveShell):  # type: ignore[misc]
        """An IPython shell whose outputs become notebook outputs (see the module)."""

        displayhook_class = Hook
        display_pub_class = Publisher

        def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
            _CELL.add({"output_type": "error", "ename": str(getattr(etype, "__name__", etype)),
                       "evalue": str(evalue), "traceback": list(stb)})

    return ReportShell


def warm_up() -> None:
    """Make the shell class now (traitlets' class set-up): the kernel template calls it before it
    forks (:func:`evalkit.runtime.kernelfork.warm_charts`), so each report's process has it."""
    _shell_class()


def make_shell() -> Any:
    """The shell of this process (history in memory, as nbclient's kernels have it)."""
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    return _shell_class().instance(config=config)


def language_info() -> dict[str, Any]:
    """The notebook's ``language_info``, as ipykernel's ``kernel_info`` reply gives it."""
    try:
        from ipykernel.ipkernel import IPythonKernel

        return dict(IPythonKernel.language_info)
    except Exception:  # pragma: no cover - ipykernel is a dependency
        return {}


def _as_json(value: Any) -> Any:
    """``value`` as a kernel's message would carry it: through JSON with jupyter_client's
    ``json_default`` (bytes in base64, as a ``_repr_png_`` returning bytes becomes; tuples as
    lists; dates in ISO form)."""
    from jupyter_client.jsonutil import json_default

    return json.loads(json.dumps(value, default=json_default))


def run_cell(shell: Any, code: str, fds: _FdCapture | None) -> dict[str, Any]:
    """Run one cell; return its outputs, execution count and status (``ok`` or ``error``)."""
    _CELL.reset()
    result = shell.run_cell(code, store_history=True)
    if fds is not None:
        fds.drain()
    return {
        "outputs": _as_json(_CELL.items),
        "updates": _as_json(_CELL.updates),
        "execution_count": result.execution_count,
        "status": "ok" if result.success else "error",
    }


def serve(conn: Any) -> None:
    """The child's loop: make the shell, say ``{"ready": pid, "language_info", "at"}`` (``at``: when
    it was ready, ``time.monotonic()``, the system-wide clock), then run each
    ``{"code": …}`` received on ``conn`` and send back its result, until ``None`` or the connection
    closes. Like a kernel, the process ends when its template (its parent) ends, however it ends
    (ipykernel's parent poller); when its worker ends, the template kills it."""
    from ipykernel.parentpoller import ParentPollerUnix

    ParentPollerUnix(parent_pid=os.getppid()).start()  # ends with its template, as a kernel does
    fds = _FdCapture()
    sys.stdout, sys.stderr = _Stream("stdout", 1), _Stream("stderr", 2)
    shell = make_shell()
    conn.send({"ready": os.getpid(), "language_info": language_info(), "at": time.monotonic()})
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message is None:
            break
        conn.send(run_cell(shell, message["code"], fds))
