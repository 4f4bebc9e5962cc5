"""``outputs/<year>/manifest.json``: every report of a year, with how it was made and how it ended.

Each finished report is appended at once, as one JSON line, to ``manifest.journal`` next to it
(constant cost per report, so a run that is killed — even with ``kill -9`` — loses nothing that
finished), and ``manifest.json`` is rewritten atomically (temporary file, then rename) at most
about once a second — less often when it is large: at least 20 times as long as the last rewrite
took, so a county of thousands of schools does not spend its time rewriting it — and at the end
of the run; then the journal is removed. :meth:`Manifest.load` replays a journal left by a killed
run. The manifest is also what makes runs incremental: a report is skipped when its entry says
``done``, its fingerprints equal the planned ones and its output files exist.

``manifest.json`` has one line per report (compact JSON), the rest indented.

Layout::

    {
      "schema": 1, "year": 2024, "updated": "…", "evalkit_version": "…",
      "run": {"run_file": "…", "started": "…", "finished": "…", "state": "finished", "jobs": 2,
              "formats": ["ipynb", "html", "pdf"], "counts": {"done": 30, "skipped": 1, "failed": 0}},
      "scores": {"path": "scores", "data_fingerprint": "…", "framework_fingerprint": "…", …},
      "scoreboard": "scoreboard.xlsx",
      "reports": {
        "school_report:001": {
          "kind": "school_report", "school_id": "001", "school_name": "…", "year": 2024,
          "notebook": "/…/school_report.ipynb", "parameters": {…},
          "fingerprints": {"data": "…", "framework": "…", "notebook": "…", "evalkit": "0.1.0", "params": "…"},
          "status": "done" | "failed", "last_run": "done" | "skipped" | "failed",
          "started": "…", "finished": "…", "seconds": 8.1,
          "timings": {"kernel_wait": 0.0, "kernel_start": 0.4, "cells": 0.8, "execute": 1.0,
                      "html": 0.05, "pdf": 0.8, "write": 0.01},                # seconds
          "outputs": {"ipynb": "schools/001/001_2024_报告.ipynb", …},   # relative to outputs/<year>
          "failed_notebook": null, "error": null
        }, …
      }
    }
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from evalkit.io.atomic import atomic_write_text

SCHEMA = 1
MANIFEST_NAME = "manifest.json"
JOURNAL_NAME = "manifest.journal"
MIN_SAVE_INTERVAL = 1.0
"""Seconds between two rewrites of ``manifest.json`` during a run (at least)."""


def now() -> str:
    """Local time, ISO 8601 with offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def dumps(data: dict[str, Any]) -> str:
    """``data`` as JSON text: top-level fields indented, one compact line per report (fast to
    write for thousands of reports, and still readable and diffable line by line)."""

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    parts = [f"  {one(k)}: {one(v)}" for k, v in data.items() if k != "reports"]
    reports = data.get("reports") or {}
    if reports:
        lines = ",\n".join(f"    {one(k)}: {one(v)}" for k, v in reports.items())
        parts.append(f'  "reports": {{\n{lines}\n  }}')
    else:
        parts.append('  "reports": {}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


class Manifest:
    """The manifest of one year's output folder (``folder/manifest.json`` and its journal)."""

    def __init__(self, folder: Path, data: dict[str, Any] | None = None, *, min_interval: float = MIN_SAVE_INTERVAL):
        self.folder = Path(folder)
        self.data: dict[str, Any] = data or {"schema": SCHEMA, "reports": {}}
        self.data.setdefault("reports", {})
        self.min_interval = min_interval
        self.dirty = False
        self.saves = 0
        self._last_save = 0.0
        self._save_seconds = 0.0

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST_NAME

    @property
    def journal_path(self) -> Path:
        return self.folder / JOURNAL_NAME

    @property
    def reports(self) -> dict[str, dict[str, Any]]:
        return self.data["reports"]

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The manifest in ``folder`` with its journal replayed; an empty one when there is none
        (or it is unreadable). Lines of the journal that cannot be read (a line cut short by a
        kill) are ignored."""
        path = Path(folder) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            data = None
        manifest = cls(folder, data)
        try:
            lines = manifest.journal_path.read_bytes().splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                record = json.loads(line)
                key, entry = record["key"], record["entry"]
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(key, str) and isinstance(entry, dict):
                manifest.reports[key] = entry
                manifest.dirty = True
        return manifest

    @property
    def interval(self) -> float:
        """Seconds to wait between two rewrites: :data:`MIN_SAVE_INTERVAL`, or 20 times the last
        rewrite's duration when that is longer."""
        return max(self.min_interval, 20 * self._save_seconds)

    def save(self) -> Path:
        """Rewrite ``manifest.json`` atomically (everything recorded so far), then drop the journal."""
        t0 = time.monotonic()
        self.data["updated"] = now()
        path = atomic_write_text(self.path, dumps(self.data))
        self.journal_path.unlink(missing_ok=True)
        self.dirty = False
        self.saves += 1
        self._last_save = time.monotonic()
        self._save_seconds = self._last_save - t0
        return path

    def save_if_due(self) -> bool:
        """Rewrite ``manifest.json`` when something changed and :attr:`interval` has passed
        since the last rewrite; return whether it was rewritten."""
        if self.dirty and time.monotonic() - self._last_save >= self.interval:
            self.save()
            return True
        return False

    def set_report(self, key: str, entry: dict[str, Any]) -> None:
        """Record one report's entry (replacing the previous one): appended to the journal at
        once, ``manifest.json`` rewritten when due (:meth:`save_if_due`)."""
        self.reports[key] = entry
        line = (json.dumps({"key": key, "entry": entry}, ensure_ascii=False) + "\n").encode("utf-8")
        self.folder.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: never append through a symbolic link planted in place of the journal
        fd = os.open(
            self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666
        )
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        self.dirty = True
        self.save_if_due()
    def output_paths(self, key: str) -> dict[str, Path]:
        """Absolute output paths recorded for a report (empty when none), each checked to lie
        inside the folder (:func:`evalkit.planner.confine.confined`; raises otherwise)."""
        from evalkit.planner.confine import confined

        entry = self.reports.get(key) or {}
        outputs = entry.get("outputs") if isinstance(entry, dict) else None
        return {
            fmt: confined(self.folder, rel, f"manifest.json 中“{key}”的 outputs.{fmt}")
            for fmt, rel in (outputs if isinstance(outputs, dict) else {}).items()
        }

    def is_fresh(self, key: str, fingerprints: dict[str, str], formats: tuple[str, ...]) -> bool:
        """Whether the report finished with these fingerprints and every wanted output exists."""
        entry = self.reports.get(key)
        if not entry or entry.get("status") != "done" or entry.get("fingerprints") != fingerprints:
            return False
        paths = self.output_paths(key)
        return all(fmt in paths and paths[fmt].is_file() for fmt in formats)
