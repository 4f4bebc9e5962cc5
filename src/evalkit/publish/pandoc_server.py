"""One long-lived pandoc per process for the Word files, instead of a pandoc process per document.

A pandoc process pays a fixed cost before it converts anything: the Haskell runtime, the Lua
filter compiled, the docx writer's data files. For a school report that was about 0.08 s of a
0.2 s conversion (``docs/benchmarks.md``), on every one of a county's hundred reports. Here the
first Word file of a process starts ``pandoc lua pandoc_server.lua`` (pandoc's own Lua
interpreter, whose ``pandoc.read``, ``pandoc.utils.run_lua_filter`` and ``pandoc.write`` are the
command's reader, filter and writer) and later ones are sent to the same process: one JSON line
per document on its stdin (the input file, the reader format, the reference document, the Lua
filter, the metadata ``lang``, the folder its images are read from, the output file), one line
back (``{"ok": true}`` or ``{"error": …}``). The document is the command's: the same XML in every
part of the ``.docx`` (``tests/test_pandoc_server.py`` unzips both and compares them).

When the server cannot do it — pandoc cannot start, the server process died, an answer that is
not one of the two, a Lua error — :func:`convert` returns ``False`` and the caller runs the pandoc
command for that document, whose error message (in Chinese) is the one a user sees if the
document really cannot be converted. A server that died or gave a malformed answer is dropped;
the next document starts a new one.
A conversion that takes longer than its timeout kills the server and raises
:class:`~evalkit.publish.pandoc.PandocError`, as the command would.

The server reads its stdin until end of file: when the process that started it ends (however it
ends, its end of the pipe closes), the server ends too.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from evalkit.publish.process_exit import call_at_exit

__all__ = ["SERVER_SCRIPT", "close", "convert"]

SERVER_SCRIPT = Path(__file__).with_name("pandoc_server.lua")
"""The Lua program ``pandoc lua`` runs (the request loop; see the module docstring)."""


class _Server:
    """A running ``pandoc lua`` server and the pipes to it."""

    def __init__(self, pandoc: str) -> None:
        self.owner = os.getpid()
        self.log = tempfile.TemporaryFile()  # pandoc's stderr (a crash says why here)
        self.process = subprocess.Popen(
            [pandoc, "lua", str(SERVER_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, close_fds=True)
        self.pending = b""

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send ``request``; the server's answer, or None if it gave none (ended, or a
        malformed line). Raises :class:`TimeoutError` after ``timeout`` seconds."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps(request, ensure_ascii=False).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        try:
            answer = json.loads(line)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    def close(self) -> None:
        """End the server (end of its input; killed if it does not end within a second)."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.log.close()


_lock = threading.Lock()
_server: _Server | None = None


def convert(request: dict[str, Any], *, pandoc: str, timeout: float) -> bool:
    """Have this process's pandoc server convert one document (``request``: see the module
    docstring); True once the output file is written, False when the server could not do it (the
    caller then runs the pandoc command). Raises :class:`TimeoutError` after ``timeout`` seconds
    (the server is then killed)."""
    global _server
    with _lock:
        if _server is not None and (_server.owner != os.getpid() or _server.process.poll() is not None):
            _drop()  # a forked copy of the parent's, or it ended
        if _server is None:
            try:
                _server = _Server(pandoc)
            except OSError:
                return False
            if threading.current_thread() is threading.main_thread():
                call_at_exit(close)
        try:
            answer = _server.ask(request, timeout)
        except TimeoutError:
            _server.process.kill()
            _drop()
            raise
        if answer is None:  # it ended, or said something else
            _drop()
            return False
        return answer.get("ok") is True  # else a Lua error: the command says it in Chinese


def _drop() -> None:
    global _server
    server, _server = _server, None
    if server is not None and server.owner == os.getpid():
        server.close()


def close() -> None:
    """End this process's pandoc server, if it has one (it is started again when needed)."""
    with _lock:
        _drop()

