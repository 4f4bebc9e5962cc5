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
    start = by_category(sid, reg["start"])
    end = by_category(sid, reg["end"])
    with np.errstate(invalid="ignore"):
        inactive = (~np.isnan(start) & (y < start)) | (~np.isnan(end) & (y > end))
    out = ~known | inactive
    names = f["school_name"]
    named = (names != "").to_numpy()
    if named.any():
        codes, uniques = pd.factorize(names[named])
        folded = np.array([_same_name(str(u)) for u in uniques], dtype=object)[codes]
        expected = by_category(sid, reg["name"], dtype=object)[named]
        differs = np.zeros(len(f), dtype=bool)
        differs[named] = folded != expected
        out |= differs
    return out


def by_category(column: pd.Series, lookup: pd.Series, dtype: type = float) -> np.ndarray:
    """``column.map(lookup)`` for a categorical column, looked up once per category."""
    cats = column.cat.categories
    table = np.empty(len(cats) + 1, dtype=dtype)
    table[:-1] = lookup.reindex(cats).to_numpy(dtype=dtype)
    table[-1] = np.nan if dtype is float else None
    return table[column.cat.codes.to_numpy()]


def shared_codes(parts: list) -> np.ndarray:
    """Codes of the parts' values concatenated, equal values (across parts) equal codes; a
    categorical part is coded through its categories (no value touched per row), a part
    ``(value, n)`` is ``n`` times ``value``. See :func:`coded` for the values of the codes."""
    return coded(parts)[0]


def coded(parts: list) -> tuple[np.ndarray, list]:
    """(:func:`shared_codes`, the value of each code)."""
    lookup: dict = {}
    out = []
    for part in parts:
        if isinstance(part, tuple):
            value, n = part
            out.append(np.full(n, lookup.setdefault(value, len(lookup)), dtype=np.int64))
            continue
        if isinstance(part.dtype, pd.CategoricalDtype):
            cats, codes = part.cat.categories, part.cat.codes.to_numpy()
        else:
            codes, cats = pd.factorize(part)
        table = np.array([lookup.setdefault(c, len(lookup)) for c in cats] + [-1], dtype=np.int64)
        out.append(table[codes])
    return (np.concatenate(out) if out else np.zeros(0, dtype=np.int64)), list(lookup)


def _combine(columns: list[np.ndarray]) -> np.ndarray:
    """One int64 code per distinct combination of the coded columns (row-aligned; codes ≥ -1):
    mixed-radix, compacted only when the radix product would overflow."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for codes in columns:
        width = int(codes.max(initial=-1)) + 2
        if span * width >= 2**62:
            key, uniques = pd.factorize(key)
            key, span = np.asarray(key, dtype=np.int64), len(uniques)
        key = key * width + (codes + 1)
        span *= width
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
    has_value = [r.value is not None for r in live]
    frames = [rec_keys, *(b.frame for b in col.bulk)]
    n = sum(len(f) for f in frames)
    if not n:
        return
    coded = [shared_codes([f[c] for f in frames]) for c in KEY[:5]]
    raters = shared_codes([pd.Series([""], dtype=object), *(f["rater"] for f in frames)])
    coded.append(raters[1:])
    no_rater = raters[1:] == raters[0]
    full = _combine(coded)
    ordered = np.sort(full)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    dup = pd.Series(full).isin(repeated).to_numpy() if len(repeated) else np.zeros(n, dtype=bool)
    item = _combine(coded[:5])
    valued = np.concatenate([np.array(has_value, dtype=bool), np.ones(n - len(live), dtype=bool)])
    single = valued & no_rater
    marks = valued & ~no_rater
    flagged = dup
    if marks.any() and single.any():  # items with a single value and raters' marks (hash sets)
        hit = pd.Series(item[single]).isin(pd.Series(item[marks])).to_numpy()
        if hit.any():
            both = np.unique(item[single][hit])
            flagged = dup | (pd.Series(item).isin(both).to_numpy() & valued)
    block = np.concatenate([np.full(len(f), i - 1) for i, f in enumerate(frames)])
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
    years = sorted({y for _, y in school_years})
    where = {k: i for i, k in enumerate(school_years)}
    ind_index = pd.Index(indicators)
    for b in col.bulk:
        f = b.frame
        cats = f["school_id"].cat.categories
        table = np.array([[where.get((sid, y), -1) for y in years] for sid in cats] + [[-1] * len(years)],
                         dtype=np.int64)
        y = f["year"].to_numpy(dtype=np.int64)
        y_at = np.searchsorted(years, y).clip(0, len(years) - 1)
        at = table[f["school_id"].cat.codes.to_numpy(), y_at]
        at[np.asarray(years, dtype=np.int64)[y_at] != y] = -1
        seen = at >= 0
        has[at[seen]] = True
        ind_cats = f["indicator_id"].cat.categories
        j_table = np.append(ind_index.get_indexer(ind_cats), -1)
        j = j_table[f["indicator_id"].cat.codes.to_numpy()]
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



def implausible_rows(col: Collector, specs: dict[str, ValueSpec]) -> list[tuple]:
    """(bulk block, Excel row, cell, school id, value, raw value, spec) of every bulk value
    above its indicator's ``plausible_max``, block by block in row order."""
    limits = {s.id: s for s in specs.values() if s.plausible_max is not None}
    out: list[tuple] = []
    for b in col.bulk:
        f = b.frame
        ind = f["indicator_id"]
        cats = ind.cat.categories
        limit_of = np.array([limits[c].plausible_max if c in limits else np.inf for c in cats] + [np.inf])
        limit = limit_of[ind.cat.codes.to_numpy()]
        over = np.flatnonzero(f["number"].to_numpy() > limit)  # NaN (not a float) is never over
        if not len(over):
            continue
        rows = f["row"].to_numpy()[over]
        sids = f["school_id"].to_numpy()[over]
        vals, raws = f["value"].to_numpy()[over], f["raw"].to_numpy()[over]
        names = ind.to_numpy()[over]
        out.extend(
            (b, int(r), f"{b.letter}{r}", str(sid), v, raw, limits[str(i)])
            for r, sid, v, raw, i in zip(rows, sids, vals, raws, names, strict=True)
        )
    return out
