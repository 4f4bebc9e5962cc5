"""``<year>/history/v<n>/``: the previous versions of a corrected year's files, under the same
relative paths as in the year's folder (``history/v1/schools/001/001_2024_报告.html``)."""

from __future__ import annotations

import shutil
from pathlib import Path

HISTORY_DIR = "history"


def _paths(folder: Path, rel: str, version: int) -> tuple[Path, Path] | None:
    """(``folder/rel``, ``folder/history/v<version>/rel`` with its parent made), or ``None``
    when ``folder/rel`` does not exist."""
    source = Path(folder) / rel
    if not source.exists():
        return None
    target = Path(folder) / HISTORY_DIR / f"v{int(version)}" / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    return source, target


def move_to_history(folder: Path, rel: str, version: int) -> Path | None:
    """Move ``folder/rel`` to ``folder/history/v<version>/rel`` (a file kept there already is
    kept); return where it went, ``None`` when there was nothing to move."""
    if (paths := _paths(folder, rel, version)) is None:
        return None
    source, target = paths
    if target.exists():
        if source.is_dir():
            shutil.rmtree(source)
        else:
            source.unlink()
        return target
    shutil.move(str(source), str(target))
    return target


def copy_to_history(folder: Path, rel: str, version: int) -> Path | None:
    """Copy ``folder/rel`` (file or folder) to ``folder/history/v<version>/rel``."""
    if (paths := _paths(folder, rel, version)) is None:
        return None
    source, target = paths
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
    return target
