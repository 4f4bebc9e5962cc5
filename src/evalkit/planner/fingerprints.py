"""What a report depends on, as sha256 fingerprints — the basis of incremental runs.

A report is redone when one of its fingerprints changes:

``data``
    *School reports and trends*: everything the report shows, so that no report is ever left
    stale (and a report not redone is one whose content would not change):

    - the school's own observation rows (every year up to the run year, evidence notes
      included) and its own rows of the scored Results (indicator and area points, base, bonus,
      total, grade after veto and quota, rank in the county and in its type, number of schools,
      vetoes, bonus, flags) for those years, and its registry entry (name, type, township);
    - its rows of the tables added after scoring (``robustness``: its rank interval; its rater
      marks), which depend on every school's data, and those tables without school rows
      (``sensitivity``);
    - the *county figures* it shows as context (:func:`county_figures`): for each year up to
      the run year, the county's mean points per indicator and per area, the mean total, base
      and bonus, the number of schools and the count per grade (quota included); and the same
      means and counts for each school type the school had (the same-type means).

    So changing one school's value redoes every report whose county or same-type means moved
    (in practice every school report of that year, since the county mean of the changed
    indicator moves), and a change that moves no shown figure (an evidence note) redoes only
    that school's reports and the county's.

    *County summary and audit*: all observations up to the run year and all scored Results
    (and the added tables) up to it.
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
from evalkit.results import EXTRA_TABLES, TABLES, Results


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


def county_figures(tables: dict[str, pd.DataFrame], by: list[str]) -> dict[str, pd.DataFrame]:
    """The county figures a school report shows as context, per ``by`` (``["year"]`` for the
    county, ``["year", "school_type"]`` for each type): mean points per indicator and per area,
    mean total/base/bonus, number of schools and count per grade."""
    schools = tables.get("schools")
    out: dict[str, pd.DataFrame] = {}
    if schools is None or not len(schools):
        return out
    types = schools[["school_id", "year", "school_type"]] if "school_type" in schools else None
    for name, key in (("indicators", "indicator_id"), ("areas", "area_id")):
        t = tables.get(name)
        if t is None or not len(t) or key not in t.columns:
            continue
        if "school_type" in by and types is not None:
            t = t.merge(types, on=["school_id", "year"], how="left")
        out[name] = t.groupby([*by, key], dropna=False)["points"].mean().round(9).reset_index()
    cols = [c for c in ("total", "base", "bonus") if c in schools.columns]
    means = schools.groupby(by, dropna=False)[cols].mean().round(9)
    means["n"] = schools.groupby(by, dropna=False).size()
    out["means"] = means.reset_index()
    if "grade" in schools.columns:
        out["grades"] = schools.groupby([*by, "grade"], dropna=False).size().reset_index(name="count")
    return out


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
        extra = {n: t for n, t in results.extra.items() if n in EXTRA_TABLES and n != "registry"}
        extra = {n: t[t["year"] <= self.year] if "year" in t.columns else t for n, t in extra.items()}
        self._tables = {n: (list(t.columns), grouped_digests(t, "school_id"))
                        for n, t in sorted({**tables, **{f"extra.{k}": v for k, v in extra.items()}}.items())
                        if "school_id" in t.columns}
        figures = county_figures(tables, ["year"])
        figures.update({f"extra.{n}": t for n, t in extra.items() if "school_id" not in t.columns})  # sensitivity
        self._county_figures = _combine(f"{n}:{frame_digest(t)}" for n, t in sorted(figures.items()))
        self._type_figures: dict[str, str] = {}
        self._school_types: dict[str, list[str]] = {}
        schools = tables.get("schools")
        if schools is not None and len(schools) and "school_type" in schools.columns:
            by_type = county_figures(tables, ["year", "school_type"])
            digests = {n: grouped_digests(t.astype({"school_type": str}), "school_type") for n, t in by_type.items()}
            for kind in schools["school_type"].astype(str).unique():
                self._type_figures[kind] = _combine(f"{n}:{d.get(kind, '')}" for n, d in sorted(digests.items()))
            pairs = schools[["school_id", "school_type"]].astype(str).drop_duplicates()
            for sid, kind in zip(pairs["school_id"], pairs["school_type"], strict=True):
                self._school_types.setdefault(sid, []).append(kind)
        self.county = _combine(
            [
                observations_fingerprint(obs),
                *(f"{n}:{frame_digest(t)}" for n, t in sorted(tables.items())),
                *(f"extra.{n}:{frame_digest(t)}" for n, t in sorted(extra.items())),
            ]
        )

    def school(self, school_id: str) -> str:
        """The data fingerprint of one school's reports (see the module docstring)."""
        parts = [self._obs.get(school_id, "no observations")]
        empty = np.zeros(0, dtype=np.uint64)
        for name, (columns, digests) in self._tables.items():
            parts.append(f"{name}:{digests.get(school_id) or _digest(columns, empty)}")
        parts.append(f"county figures:{self._county_figures}")
        for kind in sorted(self._school_types.get(str(school_id), [])):
            parts.append(f"type figures {kind}:{self._type_figures.get(kind, '')}")
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
