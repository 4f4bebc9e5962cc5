"""Atomic file output: nothing half-written is ever visible under the final name.

Every writer puts its data into a temporary file in the *same directory* as the target (so the
final :func:`os.replace` is an atomic rename on one file system), flushes it to disk, and only
then renames it over the target. On any failure the temporary file is removed and the target is
left as it was (absent, or its previous complete version).

Temporary names are hidden and keep the target's suffix, ``.report.3f9a1c2e.tmp.pdf`` for
``report.pdf``, so tools that choose a format from the file name (matplotlib's ``savefig``,
pandas' ``to_excel``) still work inside :func:`atomic_path`. The parent directory is created
when missing. Files get the usual permissions (``0o666`` minus the umask), not ``0o600``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "temp_name_for"]

_TMP_MARK = ".tmp"


def temp_name_for(path: str | os.PathLike[str]) -> Path:
    """A fresh hidden temporary path next to ``path``, with the same suffix (not created)."""
    target = Path(path)
    token = secrets.token_hex(4)
    return target.with_name(f".{target.stem}.{token}{_TMP_MARK}{target.suffix}")


def _create_temp(path: str | os.PathLike[str]) -> tuple[Path, int]:
    """Create (exclusively) a temporary file next to ``path``; return its path and open fd."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = temp_name_for(path)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:  # pragma: no cover - 2**32 names; retry on the unlikely clash
            continue
        return tmp, fd


def _remove_quietly(tmp: Path) -> None:
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass


def _fsync_file(tmp: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; return the target path.

    ``fsync=False`` skips flushing to disk (still atomic for readers, but not crash-safe).
    """
    target = Path(path)
    tmp, fd = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        _remove_quietly(tmp)
        raise
    return target


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", fsync: bool = True
) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 by default, newlines untranslated)."""
    return atomic_write_bytes(path, text.encode(encoding), fsync=fsync)


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` for a tool that writes the file itself.

    The temporary file already exists (empty) when yielded, reserving its name; the tool may
    overwrite or replace it. When the ``with`` block ends normally the file is renamed to
    ``path``; when it raises (including ``KeyboardInterrupt``) the file is removed and the
    exception propagates. Example::

        with atomic_path("outputs/2024/chart.png") as tmp:
            fig.savefig(tmp)          # format chosen from the kept ".png" suffix
    """
    target = Path(path)
    tmp, fd = _create_temp(target)
    os.close(fd)
    try:
        yield tmp
        if fsync:
            _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        _remove_quietly(tmp)
        raise
