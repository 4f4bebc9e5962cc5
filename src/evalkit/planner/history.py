"""``<year>/history/v<n>/``: the previous versions of a corrected year's files, under the same
relative paths as in the year's folder (``history/v1/schools/001/001_2024_报告.html``)."""

from __future__ import annotations

import shutil
from pathlib import Path

HISTORY_DIR = "history"


def move_to_history(folder: Path, rel: str, version: int) -> Path | None:
    """Move ``folder/rel`` to ``folder/history/v<version>/rel`` (a file kept there already is
    kept); return where it went, ``None`` when there was nothing to move."""
    source = Path(folder) / rel
    if not source.exists():
        return None
    target = Path(folder) / HISTORY_DIR / f"v{int(version)}" / rel
    target.parent.mkdir(parents=True, exist_ok=True)
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
    source = Path(folder) / rel
    if not source.exists():
        return None
    target = Path(folder) / HISTORY_DIR / f"v{int(version)}" / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
    return target
