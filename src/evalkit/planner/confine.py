"""Keeping everything ``evalkit run`` writes or deletes inside the run's output folder.

A year's folder (``<output>/<year>/``) is rewritten by every run: reports are replaced, stale
outputs deleted, temporary files swept. The paths involved come partly from files a user can
edit — ``manifest.json`` and its journal record each report's ``outputs`` and
``failed_notebook`` — and the folder may hold symbolic links (a copied or restored folder, or a
planted link). An edited ``outputs`` entry (``"/home/…/paper.docx"`` or
``"../../paper.docx"``) once made the next run *delete* that file. So:

* :func:`confined` resolves a path (relative paths against the folder, every symbolic link
  followed) and refuses it unless it lies inside the folder;
* :func:`check_output_entries` runs before a run reads its manifest: the files and folders the
  run itself uses (``manifest.json``, ``manifest.journal``, ``scores``, ``.work``, ``county``,
  ``schools``, ``scoreboard.xlsx``) must not be symbolic links leading outside, and must be what
  the run makes them (a folder or a regular file: a pipe or ``/dev/zero`` in place of the
  manifest would hang the run reading it);
* :func:`check_output_folder` runs before a run writes or deletes anything in the folder: every
  path in the manifest (and its journal) must be confined. Anything else
  stops the run with a Chinese message naming the entry, the path and what to do — nothing
  is written or deleted.

Paths planned from data (school ids as folder names) are checked by
:func:`evalkit.planner.names.safe_child`, which resolves links the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evalkit.planner.names import UnsafePathError, display

FIXED_ENTRIES = (
    "manifest.json",
    "manifest.journal",
    "scores",
    ".work",
    "county",
    "schools",
    "scoreboard.xlsx",
)
"""What a run itself creates directly in a year's folder."""


class OutsideOutputError(UnsafePathError):
    """A path that would make a run write or delete outside its output folder."""


def is_inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (symbolic links followed) lies inside ``root`` (itself resolved)."""
    return path.resolve().is_relative_to(root.resolve())


def confined(root: Path, path: Any, what: str) -> Path:
    """``root / path`` (``path`` relative to ``root``, or absolute), once checked to lie inside
    ``root`` with every symbolic link followed; raise :class:`OutsideOutputError` otherwise.

    ``what`` names the path's origin in the message (e.g. ``manifest.json 中 school_report:001
    的 outputs.pdf``)."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise OutsideOutputError(f"{what} 不是有效的文件路径：{display(repr(path))} / not a path")
    full = Path(path) if Path(path).is_absolute() else root / path
    target = full.resolve()
    if not target.is_relative_to(root.resolve()) or target == root.resolve():
        via = f"（实际位置 {display(target)}）" if str(target) != path else ""
        raise OutsideOutputError(
            f"{what} 的路径“{display(path)}”{via}不在本次运行的输出文件夹 {root.resolve()} 之内，已拒绝："
            "evalkit 只在输出文件夹之内写入或删除文件 / path outside the output folder"
        )
    return full


def manifest_problems(folder: Path, reports: Mapping[str, Any]) -> list[str]:
    """Every report entry of a manifest whose recorded paths are not confined to ``folder``."""
    out: list[str] = []
    for key, entry in reports.items():
        where = f"manifest.json 中“{display(key)}”"
        if not isinstance(entry, dict):
            out.append(f"{where} 不是键值表 / not a mapping")
            continue
        outputs = entry.get("outputs") or {}
        if not isinstance(outputs, dict):
            out.append(f"{where} 的 outputs 不是键值表 / not a mapping")
            continue
        paths = [(f"outputs.{fmt}", p) for fmt, p in outputs.items()]
        if entry.get("failed_notebook") is not None:
            paths.append(("failed_notebook", entry["failed_notebook"]))
        for field, value in paths:
            try:
                confined(folder, value, f"{where} 的 {field}")
            except OutsideOutputError as err:
                out.append(str(err))
    return out


FIXED_FOLDERS = frozenset({"scores", ".work", "county", "schools"})


def link_problems(folder: Path) -> list[str]:
    """The run's own entries of ``folder`` (:data:`FIXED_ENTRIES`) that are symbolic links
    leading outside it, or not what the run makes them (a folder, or a regular file — a pipe
    or device named ``manifest.json`` would hang the run reading it)."""
    out = []
    for name in FIXED_ENTRIES:
        path = folder / name
        if path.is_symlink() and name == "manifest.journal":  # appended to in place: no link at all
            out.append(f"{display(path)} 是符号链接，已拒绝 / the journal must not be a symbolic link")
        elif path.is_symlink() and not is_inside(folder, path):
            out.append(
                f"{display(path)} 是指向输出文件夹之外（{display(path.resolve())}）的符号链接，已拒绝 / "
                "a symbolic link leading outside the output folder"
            )
        elif path.exists() and name in FIXED_FOLDERS and not path.is_dir():
            out.append(f"{display(path)} 应为文件夹，却是文件 / should be a folder")
        elif path.exists() and name not in FIXED_FOLDERS and not path.is_file():
            out.append(f"{display(path)} 应为普通文件（不是文件夹、设备或管道）/ should be a regular file")
    return out


def check_output_entries(folder: Path) -> None:
    """Raise :class:`OutsideOutputError` for :func:`link_problems`; called before a run reads
    its manifest."""
    _raise(folder, link_problems(folder))


def check_output_folder(folder: Path, reports: Mapping[str, Any]) -> None:
    """Raise :class:`OutsideOutputError` listing every problem of :func:`manifest_problems`
    and :func:`link_problems`; called before a run writes or deletes anything in ``folder``."""
    _raise(folder, link_problems(folder) + manifest_problems(folder, reports))


def _raise(folder: Path, problems: list[str]) -> None:
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise OutsideOutputError(
            f"输出文件夹 {folder} 中有 {len(problems)} 处问题（路径通向文件夹之外，或不是 evalkit 留下的样子），"
            f"运行已停止，未写入或删除任何文件：\n{lines}\n"
            f"manifest.json 应由 evalkit 自己写，不要手工修改。请删除 {folder / 'manifest.json'}"
            f"（及 manifest.journal）和上面列出的符号链接后重新运行，全部报告会重新生成。"
            " / paths outside the output folder: nothing was written or deleted"
        )


def input_file_problem(path: Path, output: Path | None) -> str | None:
    """Why ``path`` cannot be an input of a run (data, registry, framework, notebook, intake
    notes), in Chinese; ``None`` when it can. An input must be an existing regular file (not a
    folder, device, pipe or socket) outside the output folder ``output`` (which runs rewrite
    and sweep)."""
    if path.is_dir():
        return f"是文件夹，不是文件 / a folder, not a file: {display(path)}"
    if not path.exists():
        return f"找不到文件 / file not found: {display(path)}"
    if not path.is_file():
        return f"不是普通文件（设备、管道或套接字）/ not a regular file: {display(path)}"
    if output is not None and is_inside(output, path):
        return (
            f"位于输出文件夹 {display(output)} 之内：evalkit 每次运行都会改写和清理输出文件夹，"
            f"输入文件请放在它之外 / an input inside the output folder: {display(path)}"
        )
    return None


def output_folder_problem(output: Path) -> str | None:
    """Why ``output`` cannot be a run's output folder (it exists and is not a folder)."""
    if output.exists() and not output.is_dir():
        return f"输出路径已存在且不是文件夹 / the output path is not a folder: {display(output)}"
    return None
