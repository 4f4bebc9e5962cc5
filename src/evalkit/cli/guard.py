"""The command line's last line of defence: no traceback ever reaches the user.

:func:`guarded` runs a command and turns whatever escapes it into one Chinese answer and an exit
code (see :mod:`evalkit.errors` for the codes):

- an :class:`~evalkit.errors.EvalkitError` (a problem the user can fix) → its message, its code;
- an ``OSError`` about a file (not found, a folder where a file is expected, a file where a folder
  is expected, no permission, disk full) → which file and what is wrong with it, code 2;
- Ctrl-C → code 130; output piped into a program that stopped reading (``| head``) → quietly, 141;
- anything else is a defect in evalkit → its traceback is written to a log file under
  :func:`~evalkit.errors.log_dir` and one line names that file, code 70.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from evalkit.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, EvalkitError, log_dir

OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中有一段是文件而不是文件夹",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.EEXIST: "这里需要一个文件夹，但已有同名的文件",
    errno.EACCES: "没有读写权限",
    errno.EPERM: "没有读写权限",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "位于只读的磁盘上",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EMFILE: "同时打开的文件太多",
}


def guarded(command: Callable[[], int], argv: Sequence[str] | None = None, stderr: TextIO | None = None) -> int:
    """``command()``'s exit status, or the status of the problem it raised (reported on ``stderr``)."""
    err_out = stderr or sys.stderr
    try:
        return command()
    except EvalkitError as err:
        print(f"错误 / error: {err}", file=err_out)
        return err.exit_code
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=err_out)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the output was piped into ``head`` or a closed pager: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as err:
        if err.errno in OS_REASONS or err.filename:
            print(f"错误 / error: {os_message(err)}", file=err_out)
            return EXIT_USAGE
        return _internal(err, argv, err_out)
    except Exception as err:
        return _internal(err, argv, err_out)


def os_message(err: OSError) -> str:
    """A file problem in Chinese: ``无法读写 out/x.csv：路径中有一段是文件而不是文件夹``."""
    reason = OS_REASONS.get(err.errno or -1, err.strerror or str(err))
    where = str(err.filename2 or err.filename or "")  # a rename's destination, not its temporary source
    return f"无法读写 {where}：{reason}" if where else f"文件操作失败：{reason}"


def _internal(err: BaseException, argv: Sequence[str] | None, err_out: TextIO) -> int:
    """Write the traceback to a log file and name it in one line."""
    try:
        path = write_log(err, argv)
    except OSError as log_err:
        print(f"evalkit 内部错误（{type(err).__name__}: {_first_line(err)}），且无法写入日志：{log_err} / "
              "internal error", file=err_out)
        return EXIT_INTERNAL
    print(f"evalkit 内部错误，请把日志文件 {path} 发给维护人员 / internal error, traceback in {path}", file=err_out)
    return EXIT_INTERNAL


def write_log(err: BaseException, argv: Sequence[str] | None) -> Path:
    """A new log file holding the command line, versions and ``err``'s traceback."""
    from evalkit import __version__

    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    path = folder / f"evalkit-{now:%Y%m%d-%H%M%S}-{os.getpid()}.log"
    text = (
        f"time: {now.isoformat(timespec='seconds')}\n"
        f"command: evalkit {' '.join(argv if argv is not None else sys.argv[1:])}\n"
        f"evalkit {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n\n"
        + "".join(traceback.format_exception(err))
    )
    path.write_text(text, encoding="utf-8")
    return path


def _first_line(err: BaseException) -> str:
    return (str(err).splitlines() or [""])[0][:200]
