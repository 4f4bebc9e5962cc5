"""``outputs/<year>/manifest.json``: every report of a year, with how it was made and how it ended.

The manifest is rewritten atomically (temporary file, then rename) each time a report finishes,
so it always shows the progress so far, and a run that is killed loses nothing that finished.
It is also what makes runs incremental: a report is skipped when its entry says ``done``, its
fingerprints equal the planned ones and its output files exist.

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
          "outputs": {"ipynb": "schools/001/001_2024_报告.ipynb", …},   # relative to outputs/<year>
          "failed_notebook": null, "error": null
        }, …
      }
    }
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from evalkit.atomic import atomic_write_text

SCHEMA = 1
MANIFEST_NAME = "manifest.json"


def now() -> str:
    """Local time, ISO 8601 with offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Manifest:
    """The manifest of one year's output folder (``folder/manifest.json``)."""

    def __init__(self, folder: Path, data: dict[str, Any] | None = None):
        self.folder = Path(folder)
        self.data: dict[str, Any] = data or {"schema": SCHEMA, "reports": {}}
        self.data.setdefault("reports", {})

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST_NAME

    @property
    def reports(self) -> dict[str, dict[str, Any]]:
        return self.data["reports"]

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The manifest in ``folder``; an empty one when there is none (or it is unreadable)."""
        path = Path(folder) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return cls(folder)
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            return cls(folder)
        return cls(folder, data)

    def save(self) -> Path:
        """Rewrite ``manifest.json`` atomically."""
        self.data["updated"] = now()
        text = json.dumps(self.data, ensure_ascii=False, indent=2, sort_keys=False)
        return atomic_write_text(self.path, text + "\n")

    def set_report(self, key: str, entry: dict[str, Any]) -> None:
        """Record one report's entry (replacing the previous one) and save."""
        self.reports[key] = entry
        self.save()

    def output_paths(self, key: str) -> dict[str, Path]:
        """Absolute output paths recorded for a report (empty when none)."""
        entry = self.reports.get(key) or {}
        return {fmt: self.folder / rel for fmt, rel in (entry.get("outputs") or {}).items()}

    def is_fresh(self, key: str, fingerprints: dict[str, str], formats: tuple[str, ...]) -> bool:
        """Whether the report finished with these fingerprints and every wanted output exists."""
        entry = self.reports.get(key)
        if not entry or entry.get("status") != "done" or entry.get("fingerprints") != fingerprints:
            return False
        paths = self.output_paths(key)
        return all(fmt in paths and paths[fmt].is_file() for fmt in formats)
