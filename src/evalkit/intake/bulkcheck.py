"""The checks across rows, over the clean rows kept in bulk (:mod:`evalkit.intake.columnar`).

Before the row-by-row checks of :mod:`evalkit.intake.validate` run, every clean row that one
of them would say something about, or that another row's message depends on, is handed to the
row reader (:meth:`~evalkit.intake.columnar.Bulk.escalate`), computed with masks over the
columns:

- a year not assessed (another year than the one given, or not a year of the framework);
- a school id not in the registry as written (unknown, or matched by number), a school not
  assessed that year, a school name that differs from the registry's;
- a bare rate when the column decides its reading (files; a table in the contract has the
  fraction style and needs nothing);
- a value of an id determined automatically;
- a row with the same school, year, indicator, item, source and rater as another (duplicates),
  and every row of a school's item holding both a single value and raters' marks (conflicts).

The rows left in bulk are then, for the checks, what they are: usable values that nothing is
said about but, possibly, a value above the indicator's plausible maximum — a warning that
rejects nothing, written straight from the columns (:func:`implausible_rows`). The
missing-data check counts them (:func:`coverage`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.intake.ratios import BARE
from evalkit.intake.records import Collector
from evalkit.intake.specs import ValueSpec
from evalkit.io.sheets import nfkc

KEY = ("school_id", "year", "indicator_id", "item", "source", "rater")


def settle_bulk(
    col: Collector,
    specs: dict[str, ValueSpec],
    registry: pd.DataFrame | None,
    year: int | None,
    ratio_style: str | None,
    match,  # type: ignore[no-untyped-def]  # SchoolMatcher.match
) -> None:
    """Escalate the clean rows a check across rows would report (see the module docstring),
    then put ``col.records`` back in reading order."""
    if not col.bulk:
        return
    fw_years = np.array(sorted(col.framework.years), dtype=np.int64)
    auto = [s.id for s in specs.values() if s.auto]
    reg = _registry_lookup(registry)
    for b in col.bulk:
        f = b.frame
        y = f["year"].to_numpy(dtype=np.int64)
        esc = ~np.isin(y, fw_years)
        if year is not None:
            esc |= y != int(year)
        if reg is not None:
            esc |= _school_problems(f, y, reg)
        if ratio_style != "fraction":
            esc |= f["reading"].isin(BARE).to_numpy()
        if auto:
            esc |= f["indicator_id"].isin(auto).to_numpy()
        b.escalate(col, esc)
    _escalate_shared_keys(col, match)
    col.restore_order()


def _registry_lookup(registry: pd.DataFrame | None) -> dict | None:
    if registry is None:
        return None
    first = registry.assign(school_id=registry["school_id"].astype(str)).drop_duplicates("school_id")
    frame = first.set_index("school_id")

    def years(column: str) -> pd.Series:
        if column not in frame.columns:
            return pd.Series(np.nan, index=frame.index)
        return pd.to_numeric(frame[column], errors="coerce").astype(float)

    return {
        "ids": frame.index,
        "start": years("active_from"),
        "end": years("active_to"),
        "name": frame["school_name"].astype(str).map(_same_name),
    }


def _same_name(name: str) -> str:
    return "".join(nfkc(name).split())


def _school_problems(f: pd.DataFrame, y: np.ndarray, reg: dict) -> np.ndarray:
    """Rows whose school is not in the registry as written, not assessed that year, or named
    otherwise than the registry names it."""
    sid = f["school_id"]
    known = sid.isin(reg["ids"]).to_numpy()
    start = sid.map(reg["start"]).to_numpy(dtype=float)
    end = sid.map(reg["end"]).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        inactive = (~np.isnan(start) & (y < start)) | (~np.isnan(end) & (y > end))
    out = ~known | inactive
    names = f["school_name"]
    named = (names != "").to_numpy()
    if named.any():
        codes, uniques = pd.factorize(names[named])
        folded = np.array([_same_name(str(u)) for u in uniques], dtype=object)[codes]
        expected = sid[named].map(reg["name"]).to_numpy(dtype=object)
        differs = np.zeros(len(f), dtype=bool)
        differs[named] = folded != expected
        out |= differs
    return out


def _codes(columns: list[pd.Series]) -> np.ndarray:
    """One int64 code per distinct combination of the columns' values (row-aligned)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column)
        key, _ = pd.factorize(key * (len(uniques) + 1) + (codes.astype(np.int64) + 1))
        key = key.astype(np.int64)
    return key


def _escalate_shared_keys(col: Collector, match) -> None:  # type: ignore[no-untyped-def]
    """Escalate clean rows sharing their key with another row (duplicates) or their item with
    a row of the other kind (a single value beside raters' marks: conflicts)."""
    live = [r for r in col.records if r.status == "ok"]
    rec_keys = pd.DataFrame(
        [(match(r.school_id) or r.school_id, r.year if r.year is not None else -1, r.indicator_id, r.item,
          r.source, r.rater) for r in live],
        columns=list(KEY),
    )
    rec_keys["has_value"] = [r.value is not None for r in live]
    parts = [rec_keys.assign(_block=-1)]
    for i, b in enumerate(col.bulk):
        parts.append(b.frame[list(KEY)].assign(has_value=True, _block=i))
    keys = pd.concat(parts, ignore_index=True)
    if keys.empty:
        return
    columns = [keys[c].astype(str) if c == "year" else keys[c] for c in KEY]
    full = _codes(columns)
    dup = pd.Series(full).duplicated(keep=False).to_numpy()
    item = _codes(columns[:5])
    valued = keys["has_value"].to_numpy(dtype=bool)
    single = valued & (keys["rater"] == "").to_numpy()
    marks = valued & ~single
    n = int(item.max()) + 1
    both = (np.bincount(item, weights=single, minlength=n) > 0) & (np.bincount(item, weights=marks, minlength=n) > 0)
    flagged = dup | (both[item] & valued)
    block = keys["_block"].to_numpy()
    for i, b in enumerate(col.bulk):
        mine = flagged[block == i]
        if mine.any():
            b.escalate(col, mine)


def coverage(
    col: Collector, school_years: list[tuple[str, int]], indicators: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """For the bulk rows: (school-years with any value, shape (len(school_years),); school-year ×
    indicator with a value, shape (len(school_years), len(indicators)))."""
    has = np.zeros(len(school_years), dtype=bool)
    covered = np.zeros((len(school_years), len(indicators)), dtype=bool)
    if not col.bulk or not school_years:
        return has, covered
    index = pd.MultiIndex.from_tuples(school_years, names=["school_id", "year"])
    ind_index = pd.Index(indicators)
    for b in col.bulk:
        f = b.frame
        at = index.get_indexer(pd.MultiIndex.from_arrays([f["school_id"], f["year"].astype(np.int64)]))
        seen = at >= 0
        has[at[seen]] = True
        j = ind_index.get_indexer(f["indicator_id"])
        both = seen & (j >= 0)
        covered[at[both], j[both]] = True
    return has, covered


def bulk_school_years(col: Collector) -> set[tuple[str, int]]:
    """The (school_id, year) pairs of the bulk rows."""
    out: set[tuple[str, int]] = set()
    for b in col.bulk:
        pairs = b.frame[["school_id", "year"]].drop_duplicates()
        out.update(zip(pairs["school_id"], pairs["year"].astype(int), strict=True))
    return out



def implausible_rows(col: Collector, specs: dict[str, ValueSpec]):  # type: ignore[no-untyped-def]
    """(bulk block, row position, spec) of every bulk value above its indicator's
    ``plausible_max``, block by block in row order."""
    limits = {s.id: s for s in specs.values() if s.plausible_max is not None}
    for b in col.bulk:
        f = b.frame
        ind = f["indicator_id"]
        candidates = ind.isin(list(limits)).to_numpy()
        if not candidates.any():
            continue
        values = pd.to_numeric(f["value"][candidates], errors="coerce").to_numpy(dtype=float)
        limit = ind[candidates].map({k: s.plausible_max for k, s in limits.items()}).to_numpy(dtype=float)
        floats = np.fromiter((isinstance(v, float) for v in f["value"][candidates]), dtype=bool)
        over = np.flatnonzero(candidates)[(values > limit) & floats]
        for pos in over.tolist():
            yield b, pos, limits[ind.iat[pos]]
