"""What a report depends on, as sha256 fingerprints — the basis of incremental runs.

A report is redone when one of its fingerprints changes:

``data``
    *School reports and trends*: the school's own observation rows (every year up to the run
    year, evidence notes included) plus the school's own rows of the scored Results (indicator
    and area points, base, bonus, total, grade after veto and quota, rank in the county and in
    its type, number of schools, vetoes, bonus, flags) for those years, and its registry entry
    (name, type, township, which are in the scored rows). So a change in another school's data
    that moves this school's rank, or demotes it under the grade quota, redoes this report too.

    Deliberately *not* included: county-wide aggregates shown as context (county means, grade
    distribution). Including them would redo every report whenever any school's data changes;
    with this choice, changing one school's data redoes that school's reports (and those whose
    rank or grade it changed) and the county summary. A school report may therefore show county
    means that predate another school's corrected data; ``evalkit run --force`` refreshes all.

    *County summary*: all observations up to the run year and all scored Results up to it.
``framework``
    The framework's fingerprint (of its canonical content, not of the file's formatting).
``notebook``
    sha256 of the notebook file.
``evalkit``
    The evalkit version.
``params``
    sha256 of the notebook parameters (canonical JSON).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.observations import fingerprint as observations_fingerprint
from evalkit.results import TABLES, Results


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_json(value: Any) -> str:
    """sha256 of ``value`` as canonical JSON (sorted keys, UTF-8)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's values as text, independent of row order."""
    if frame.empty:
        return hashlib.sha256(("|".join(map(str, frame.columns))).encode()).hexdigest()
    text = frame.astype(str).sort_values(list(frame.columns), kind="stable")
    return hashlib.sha256(text.to_csv(index=False).encode("utf-8")).hexdigest()


def _combine(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


class DataFingerprints:
    """Per-school and county data fingerprints of one run year, computed once."""

    def __init__(self, observations: pd.DataFrame, results: Results, year: int):
        self.year = int(year)
        obs = observations[observations["year"] <= self.year]
        self._obs_by_school = {str(k): g for k, g in obs.groupby("school_id", sort=False)}
        self._tables = {name: getattr(results, name) for name in TABLES}
        self._tables = {n: t[t["year"] <= self.year] for n, t in self._tables.items() if "year" in t.columns}
        self._by_school = {
            n: {str(k): g for k, g in t.groupby("school_id", sort=False)}
            for n, t in self._tables.items()
            if "school_id" in t.columns
        }
        self.county = _combine(
            [
                observations_fingerprint(obs),
                *(f"{n}:{frame_digest(t)}" for n, t in sorted(self._tables.items())),
            ]
        )

    def school(self, school_id: str) -> str:
        """The data fingerprint of one school's reports (see the module docstring)."""
        empty = pd.DataFrame()
        obs = self._obs_by_school.get(school_id)
        parts = [observations_fingerprint(obs) if obs is not None else "no observations"]
        for name, groups in sorted(self._by_school.items()):
            parts.append(f"{name}:{frame_digest(groups.get(school_id, empty))}")
        return _combine(parts)
