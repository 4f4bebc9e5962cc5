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
    The framework's fingerprint (of its canonical content, not of the file's formatting). When
    the years up to the report's are scored under different frameworks (a run file's per-year
    ``framework`` mapping, or an earlier year read as published), it covers every one of them
    (:func:`framework_fingerprint`).
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

import numpy as np
import pandas as pd

from evalkit.observations import COLUMNS as OBS_COLUMNS
from evalkit.observations import fingerprint as observations_fingerprint
from evalkit.results import TABLES, Results


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_json(value: Any) -> str:
    """sha256 of ``value`` as canonical JSON (sorted keys, UTF-8)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's values (``pandas.util.hash_pandas_object``, index ignored)."""
    if len(frame) == 0:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)


def _digest(columns: Iterable[object], hashes: np.ndarray) -> str:
    h = hashlib.sha256("|".join(map(str, columns)).encode("utf-8"))
    h.update(np.sort(hashes).tobytes())
    return h.hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's column names and row values, independent of row order."""
    return _digest(frame.columns, row_hashes(frame))


def grouped_digests(frame: pd.DataFrame, by: str) -> dict[str, str]:
    """:func:`frame_digest` of each group of rows sharing a value of column ``by`` (as text),
    all computed in one pass over the frame (not one frame per group)."""
    if len(frame) == 0:
        return {}
    hashes = row_hashes(frame)
    codes, uniques = pd.factorize(frame[by].astype(str))
    order = np.lexsort((hashes, codes))
    codes, hashes = codes[order], hashes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    head = hashlib.sha256("|".join(map(str, frame.columns)).encode("utf-8"))
    out = {}
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        h = head.copy()
        h.update(hashes[start:end].tobytes())  # already sorted within the group
        out[str(uniques[codes[start]])] = h.hexdigest()
    return out


def _combine(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


class DataFingerprints:
    """Per-school and county data fingerprints of one run year, computed once for all schools
    (vectorised: one hashing pass per table, whatever the number of schools)."""

    def __init__(self, observations: pd.DataFrame, results: Results, year: int):
        self.year = int(year)
        obs = observations[observations["year"] <= self.year]
        columns = [c for c in OBS_COLUMNS if c in obs.columns]
        self._obs = grouped_digests(obs[columns], "school_id")
        tables = {name: getattr(results, name) for name in TABLES}
        tables = {n: t[t["year"] <= self.year] for n, t in tables.items() if "year" in t.columns}
        self._tables = {n: (list(t.columns), grouped_digests(t, "school_id")) for n, t in sorted(tables.items())
                        if "school_id" in t.columns}
        self.county = _combine(
            [
                observations_fingerprint(obs),
                *(f"{n}:{frame_digest(t)}" for n, t in sorted(tables.items())),
            ]
        )

    def school(self, school_id: str) -> str:
        """The data fingerprint of one school's reports (see the module docstring)."""
        parts = [self._obs.get(school_id, "no observations")]
        empty = np.zeros(0, dtype=np.uint64)
        for name, (columns, digests) in self._tables.items():
            parts.append(f"{name}:{digests.get(school_id) or _digest(columns, empty)}")
        return _combine(parts)


def framework_fingerprint(meta: dict[str, Any], year: int) -> str:
    """The ``framework`` fingerprint of a report of ``year``: the framework's own fingerprint
    (``meta["framework_fingerprint"]``) when every year up to ``year`` was scored under it, else
    a combination of each year's (``meta["frameworks"]``: year → its framework's fingerprint)."""
    own = str(meta.get("framework_fingerprint", ""))
    per_year = {int(y): str(e.get("fingerprint", "")) for y, e in (meta.get("frameworks") or {}).items()
                if int(y) <= int(year)}
    if not per_year or set(per_year.values()) <= {own}:
        return own
    return _combine(f"{y}:{fp}" for y, fp in sorted(per_year.items()))
