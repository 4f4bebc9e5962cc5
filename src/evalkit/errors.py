"""The common base of every error a user can cause, and the command line's exit codes.

Every exception that carries a message for the evaluator (a framework, run file, registry or data
file with problems, an unsafe path, a missing font, a file evalkit cannot read) derives from
:class:`EvalkitError`, so a caller catches one type, prints ``str(err)`` (Chinese, naming the
file, sheet, cell or YAML path) and exits with ``err.exit_code``. Anything else that escapes is a
defect in evalkit: :mod:`evalkit.cli.app` writes its traceback to a log file (:func:`log_dir`) and
exits with :data:`EXIT_INTERNAL`.

Exit codes of every ``evalkit`` command:

====  ==========================================================================================
0     done; nothing failed (warnings allowed)
1     the data has errors (``validate``, ``score``) or some report failed (``run``)
2     a problem with the input files, the run file, the options or the output path; nothing done
70    an unexpected error inside evalkit (a defect): the traceback is in the log file named
130   interrupted (Ctrl-C or ``kill``)
141   the output went to a pipe that was closed (``evalkit score … | head``); nothing more printed
====  ==========================================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE in BSD sysexits.h
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command killed by it

LOG_DIR_VARIABLE = "EVALKIT_LOG_DIR"


class EvalkitError(Exception):
    """A problem the user can fix; ``str(err)`` is the Chinese message for them."""

    exit_code = EXIT_USAGE


class UnreadableFileError(EvalkitError):
    """An input file evalkit cannot read (missing, a folder, encrypted, too large, not a table)."""

    def __init__(self, file: str, reason: str):
        self.file = file
        self.reason = reason
        super().__init__(f"文件 {file}：{reason}")


class OutputPathError(EvalkitError):
    """An output path that would overwrite something that is not evalkit's own output."""

    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"不能写入 {path}：{reason}")


def check_replaceable(folder: Path) -> None:
    """Refuse to replace ``folder`` whole (as :meth:`evalkit.results.Results.save` does) when it is
    a file, or a folder holding anything but saved results (``meta.json``): ``evalkit score -o
    ~/文档`` must not delete 文档."""
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(str(folder), "这是一个已有的文件；评分结果要写入一个文件夹，请换一个名称")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "meta.json").is_file():
        raise OutputPathError(
            str(folder), "这个文件夹已有其他内容，写入评分结果会替换整个文件夹；请指定一个新的或空的文件夹"
        )


def log_dir() -> Path:
    """Where tracebacks of unexpected errors go: ``$EVALKIT_LOG_DIR``, else
    ``$XDG_CACHE_HOME/evalkit/logs`` (``~/.cache/evalkit/logs``)."""
    configured = os.environ.get(LOG_DIR_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "evalkit" / "logs"
