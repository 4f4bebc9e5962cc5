"""Atomic file output (evalkit.io.atomic): a reader never sees a half-written file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit.io.atomic import atomic_path, atomic_write_bytes, atomic_write_text, temp_name_for


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_bytes_and_text(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "dir" / "a.bin"  # parents are created
    assert atomic_write_bytes(target, b"\x00\x01") == target
    assert target.read_bytes() == b"\x00\x01"
    atomic_write_bytes(target, b"new")  # replaces an existing file
    assert target.read_bytes() == b"new"
    text = tmp_path / "a.html"
    atomic_write_text(text, "党建\n报告\r\n")
    assert text.read_bytes() == "党建\n报告\r\n".encode()  # UTF-8, newlines untouched
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not mkstemp's 0o600
    assert _leftovers(tmp_path) == [] and _leftovers(target.parent) == []


def test_temp_name_is_hidden_sibling_with_same_suffix(tmp_path: Path) -> None:
    tmp = temp_name_for(tmp_path / "report.pdf")
    assert tmp.parent == tmp_path and tmp.name.startswith(".report.") and tmp.suffix == ".pdf"
    assert temp_name_for(tmp_path / "report.pdf") != tmp


def test_atomic_path_renames_on_success(tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    with atomic_path(target) as tmp:
        assert tmp.exists() and tmp.parent == tmp_path and tmp.suffix == ".png"
        assert not target.exists()  # nothing under the final name while writing
        tmp.write_bytes(b"png")
    assert target.read_bytes() == b"png" and _leftovers(tmp_path) == []


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_atomic_path_removes_temp_on_failure(tmp_path: Path, exc: type[BaseException]) -> None:
    fresh, old = tmp_path / "fresh.pdf", tmp_path / "old.pdf"
    old.write_bytes(b"complete old report")
    for target in (fresh, old):
        with pytest.raises(exc), atomic_path(target) as tmp:
            tmp.write_bytes(b"half-writ")
            raise exc("tool crashed")
    assert not fresh.exists()
    assert old.read_bytes() == b"complete old report"
    assert _leftovers(tmp_path) == []


def test_failed_rename_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()  # os.replace(file, directory) fails
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"data")
    with pytest.raises(OSError), atomic_path(target) as tmp:
        tmp.write_bytes(b"data")
    assert target.is_dir() and list(target.iterdir()) == []
    assert _leftovers(tmp_path) == []
