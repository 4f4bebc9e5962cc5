"""Reading a long table column by column: the rows that need nothing said about them in bulk.

A long sheet (or a table in the Observations contract) of a province holds millions of rows;
read one by one (:func:`evalkit.intake.long._read_row`) they took about 100 s at 5,000 schools
× 5 years. Here each column is factorised and every *distinct* cell content (or distinct pair
with the row's indicator) is parsed once, by the same functions the row reader calls
(:func:`~evalkit.intake.normalise.parse_value`, ``parse_item``, ``parse_source``,
``parse_year``, :func:`~evalkit.intake.cells.school_id_reading`); the result is spread back to
the rows with the factor codes.

A row is **clean** when reading it one by one would record nothing — no problem, no
normalisation, no unused cell — and give a value: then it is kept in a :class:`Bulk` block of
columns, never turned into a :class:`~evalkit.intake.records.Record`. Every other row (a
problem, a normalisation, a number format, a merged cell, an empty value, a bare rate the
column must decide) is read by the row reader exactly as before, so every message keeps its
cell and wording. The checks across rows (:mod:`evalkit.intake.bulkcheck`) later hand the
clean rows they would say something about to the row reader too (:meth:`Bulk.escalate`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.intake.cells import Context, school_id_reading
from evalkit.intake.normalise import parse_item, parse_source, parse_value, parse_year, shown
from evalkit.intake.records import Collector
from evalkit.intake.specs import ValueSpec
from evalkit.io.sheets import Sheet, cell_text, is_blank
from evalkit.issues import column_letter

ROW_BY_ROW = False
"""Read every row one by one (the reference the bulk reading must equal; tests set it)."""
_PLAIN = {str: 0, float: 0, int: 0, type(None): 0, bool: 1}


@dataclass
class Bulk:
    """Clean rows of one long sheet, as columns: ``frame`` (``row`` — the Excel row — then
    school_id, school_name, year, indicator_id, item, source, rater, value, evidence, reading,
    raw, and ``number``: the value when it is a float, else NaN); where they were read
    (``file``, ``sheet``, ``seq``: the sheet's place in reading order; ``letter``: the value
    column's); ``read_row``, the row reader for a row that must be read one by one after all."""

    file: str
    sheet: str
    seq: int
    frame: pd.DataFrame
    read_row: Callable[[int], None] = field(repr=False)
    letter: str = ""  # the value column's letter: a row's value cell is ``f"{letter}{row}"``

    def __len__(self) -> int:
        return len(self.frame)

    def cells(self) -> pd.Series:
        """The value cell of every row (``G12``), as a ``str`` column."""
        return self.letter + self.frame["row"].astype("str").reset_index(drop=True)

    def escalate(self, col: Collector, mask: np.ndarray) -> int:
        """Read the rows under ``mask`` one by one into ``col.records`` (appended; the caller
        restores the reading order) and drop them from the block; returns how many."""
        rows = self.frame["row"].to_numpy()[mask]
        for r in rows.tolist():
            self.read_row(int(r))
        if len(rows):
            self.frame = self.frame[~mask].reset_index(drop=True)
        return len(rows)


_TYPE = np.frompyfunc(type, 1, 1)


def _classify(values: np.ndarray) -> np.ndarray:
    """:data:`_PLAIN` per cell (2 for a type not there), each distinct type looked up once."""
    codes, types = pd.factorize(_TYPE(values))
    table = np.array([_PLAIN.get(t, 2) for t in types] + [0], dtype=np.int8)
    return table[codes]


def kinds(values: np.ndarray) -> np.ndarray | None:
    """Per cell: 0 for text, a number or empty; 1 for a logical value; 2 for anything else
    (a date, an uncomputed formula); ``None`` when every cell is 0 (found without a pass)."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("string", "empty", "floating", "integer", "mixed-integer-float"):
        return None
    return _classify(values)


def _kinds_where_ambiguous(
    values: Callable[[], np.ndarray], codes: np.ndarray, uniques: np.ndarray
) -> np.ndarray | None:
    """:func:`kinds`, looking only at cells whose value equals 1 or 0 (where a logical value
    hides behind a number) or whose distinct value is of another type."""
    suspect = [i for i, u in enumerate(uniques) if u.__class__ not in (str, float, int) or
               (u.__class__ is not str and u in (0, 1))]
    if not suspect:
        return None
    k = np.zeros(len(codes), dtype=np.int8)
    at = np.flatnonzero(np.isin(codes, suspect))
    k[at] = _classify(values()[at])
    return k


def factor(
    values: Callable[[], np.ndarray], known: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes, uniques, exotic) of the cells ``values()``: codes index ``uniques`` (``-1`` for
    an empty cell), a logical value never sharing a code with the number 1 or 0; ``exotic``
    marks cells of other types. ``known``: ``pd.factorize`` of a table's column (plain Python
    values: only the cells equal to 1 or 0 can be logical values, and only those are looked at)."""
    if known is None:
        k = kinds(values())
        codes, uniques = pd.factorize(values())
    else:
        codes, uniques = known
        k = _kinds_where_ambiguous(values, codes, uniques)
    codes = np.asarray(codes, dtype=np.int64)
    if k is None:
        return codes, uniques, np.zeros(len(codes), dtype=bool)
    booleans = k == 1
    if booleans.any():  # True == 1.0 for hashing: give logical values codes of their own
        extra = np.asarray(values()[booleans], dtype=bool)
        codes = codes.copy()  # the table's own codes stay as they are
        codes[booleans] = len(uniques) + extra.astype(np.int64)
        uniques = np.concatenate([np.asarray(uniques, dtype=object), np.array([False, True], dtype=object)])
    return codes, np.asarray(uniques, dtype=object), k == 2


def categorical(table: np.ndarray, codes: np.ndarray) -> pd.Categorical:
    """``table[codes]`` as a categorical column (``codes`` may be ``-1``: the table's last
    entry), built without touching a string per row."""
    inverse, categories = pd.factorize(pd.Series(table, dtype=object))
    return pd.Categorical.from_codes(inverse[codes], categories=pd.Index(categories, dtype=object), validate=False)


def _each(uniques: np.ndarray, fn: Callable[[Any], Any]) -> list[Any]:
    return [fn(u) for u in uniques]


DENSE_LIMIT = 1 << 24
"""Largest key range made dense by a lookup table (beyond it: hashing)."""


def dense(key: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, the distinct keys in ascending order) of non-negative ``key`` < ``span``:
    ``pd.factorize`` by a lookup table when the range is small."""
    if span > DENSE_LIMIT:
        codes, uniq = pd.factorize(key, sort=True)
        return np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=np.int64)
    present = np.zeros(span, dtype=bool)
    present[key] = True
    uniq = np.flatnonzero(present)
    remap = np.zeros(span, dtype=np.int64)
    remap[uniq] = np.arange(len(uniq))
    return remap[key], uniq


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct pairs of codes (``-1`` allowed): (pair code per row, first code, second code)."""
    width = int(b.max(initial=-1)) + 2
    key = (a + 1) * width + (b + 1)
    codes, uniq = dense(key, (int(a.max(initial=-1)) + 2) * width)
    return codes, uniq // width - 1, uniq % width - 1


def read_long_columns(
    col: Collector,
    ctx: Context,
    specs: dict[str, ValueSpec],
    columns: dict[str, int],
    rows: np.ndarray,
    values: dict[int, np.ndarray],
    dirty: np.ndarray,
    read_row: Callable[[int], None],
    known: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> None:
    """Read a long sheet's data ``rows`` (Excel rows, in order) whose cells are ``values``
    (column number → raw values, one per row): clean rows into a :class:`Bulk` block, the
    others (and those marked ``dirty``: number formats, merged cells, filled ignored
    columns) through ``read_row`` in row order."""
    n = len(rows)
    if ROW_BY_ROW:
        for r in rows.tolist():
            read_row(int(r))
        return
    known = known or {}  # column → (codes, uniques) already computed for these rows
    spec_list = list(specs.values())
    ok = ~dirty.copy()

    def column(role: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        if role not in columns:
            return None
        c = columns[role]
        codes, uniques, exotic = factor(lambda: values[c], known.get(c))
        ok[exotic] = False
        return codes, uniques, exotic

    # school id: its text, clean when reading it records no normalisation and it is not empty
    sid_codes, sid_uniques, _ = column("school_id")  # type: ignore[misc]
    readings = _each(sid_uniques, lambda u: school_id_reading(u, "General"))
    sid_text = np.array([t for t, _ in readings] + [""], dtype=object)
    sid_ok = np.array([bool(t) and not a for t, a in readings] + [False])
    ok &= sid_ok[sid_codes]

    # indicator: a framework id as written
    ind_codes_raw, ind_uniques, _ = column("indicator_id")  # type: ignore[misc]
    index = {s.id: i for i, s in enumerate(spec_list)}

    def spec_of(raw: Any) -> int:
        text = cell_text(raw)
        spec = specs.get(text) or specs.get(text.upper())
        if spec is None or shown(raw) != text or text != spec.id:
            return -1
        return index[spec.id]

    ind_of = np.array([*_each(ind_uniques, spec_of), -1], dtype=np.int64)
    ind = ind_of[ind_codes_raw]
    ok &= ind >= 0

    def per_pair(
        role: str, fn: Callable[[ValueSpec, Any], tuple[Any, ...]], empty: tuple[Any, ...]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The parts of ``fn(spec, raw) = (clean, part, …)``, each computed once per distinct
        (indicator, raw) pair, as (table, code per row); rows not clean are marked in ``ok``."""
        got = column(role)
        if got is None:
            codes = np.full(n, -1, dtype=np.int64)
            uniques = np.array([], dtype=object)
        else:
            codes, uniques, _ = got
        pair, first, second = _pairs(ind, codes)
        results = [
            fn(spec_list[i], uniques[j] if j >= 0 else None) if i >= 0 else (False, *empty)
            for i, j in zip(first.tolist(), second.tolist(), strict=True)
        ]
        good = np.array([r[0] for r in results] + [False])
        ok[~good[pair]] = False
        parts = []
        for k in range(len(empty)):
            table = np.empty(len(results), dtype=object)
            for i, r in enumerate(results):
                table[i] = r[k + 1]
            parts.append((table, pair))
        return parts

    def item_of(spec: ValueSpec, raw: Any) -> tuple[Any, ...]:
        parsed = parse_item(raw, spec.items)
        return parsed.problem is None and not parsed.actions, parsed.value

    sources = col.framework.sources.weights
    has_source = "source" in columns

    def source_of(spec: ValueSpec, raw: Any) -> tuple[Any, ...]:
        source = ctx.source or ""
        if has_source and not (is_blank(raw) and ctx.source):
            parsed = parse_source(raw, sources)
            if parsed.problem is not None or parsed.actions:
                return False, ""
            source = parsed.value
        if spec.source and source and source != spec.source and not has_source:
            source = spec.source
        return bool(source), source

    def value_of(spec: ValueSpec, raw: Any) -> tuple[Any, ...]:
        parsed = parse_value(raw, spec.data_type, unit=spec.unit, levels=spec.levels, upper=spec.upper)
        clean = parsed.problem is None and not parsed.actions and parsed.value is not None
        return clean, parsed.value, parsed.reading

    (item,) = per_pair("item", item_of, ("",))
    (source,) = per_pair("source", source_of, ("",))
    value, reading = per_pair("value", value_of, (None, ""))

    # year: the row's own (a clean four-digit year) or the sheet's
    if "year" in columns:
        y_codes, y_uniques, _ = column("year")  # type: ignore[misc]

        def year_of(raw: Any) -> int:
            parsed = parse_year(raw)
            if parsed.problem is not None or parsed.actions:
                return -1
            return parsed.value if parsed.value is not None else (ctx.year if ctx.year is not None else -1)

        year_of_code = np.array([*_each(y_uniques, year_of), ctx.year if ctx.year is not None else -1], dtype=np.int64)
        year = year_of_code[y_codes]
    else:
        year = np.full(n, ctx.year if ctx.year is not None else -1, dtype=np.int64)
    ok &= year >= 0

    def text_column(role: str, fn: Callable[[Any], str]) -> tuple[np.ndarray, np.ndarray]:
        got = column(role)
        if got is None:
            return np.array([""], dtype=object), np.zeros(n, dtype=np.int64)
        codes, uniques, _ = got
        return np.array([*_each(uniques, fn), ""], dtype=object), codes

    rater = text_column("rater", cell_text)
    evidence = text_column("evidence", lambda v: "" if is_blank(v) else str(v).strip())
    name = text_column("school_name", cell_text)

    # the rows read one by one, in row order (their records, problems and normalisations)
    for r in rows[~ok].tolist():
        read_row(int(r))
    if not ok.any():
        return
    value_cell = column_letter(columns["value"])
    kept = rows[ok]
    def obj(values: Any) -> pd.Series:  # object columns: no inference of a string dtype per column
        return pd.Series(values, dtype=object, copy=False)

    def text(part: tuple[np.ndarray, np.ndarray]) -> pd.Categorical:
        table, codes = part
        return categorical(table, codes[ok])

    ind_table = np.array([s.id for s in spec_list] + [""], dtype=object)
    value_table, value_codes = value
    frame = pd.DataFrame({
        "row": kept,
        "school_id": text((sid_text, sid_codes)),
        "school_name": text(name),
        "year": year[ok],
        "indicator_id": text((ind_table, ind)),
        "item": text(item),
        "source": text(source),
        "rater": text(rater),
        "value": obj(value_table[value_codes[ok]]),
        "evidence": text(evidence),
        "reading": text(reading),
        "raw": obj(values[columns["value"]][ok]),
        "number": np.array([v if isinstance(v, float) else np.nan for v in value_table] or [np.nan],
                           dtype=float)[value_codes[ok]],
    })
    col.bulk.append(Bulk(file=ctx.file, sheet=ctx.sheet, seq=col.sheet_seq(ctx.file, ctx.sheet), frame=frame,
                         read_row=read_row, letter=value_cell))


class ColumnSheet(Sheet):
    """A table given as columns (a DataFrame in the Observations contract) seen as a sheet:
    row 1 its header, row ``i + 2`` its ``i``-th row, without building a list per row. Each
    column is factorised once (``factors[j]``: codes, ``-1`` for a missing cell, and the
    distinct values as Python objects); a cell's value is read from them, or from the column
    itself when it holds objects (where ``True`` and ``1.0`` would share a code)."""

    def __init__(self, file: str, header: list[str], columns: list[pd.Series]):
        super().__init__(file=file, name="", rows=[list(header)])
        self.series = [c.reset_index(drop=True) for c in columns]
        self.length = len(columns[0]) if columns else 0
        self.factors: list[tuple[np.ndarray, np.ndarray]] = []
        for column in self.series:
            codes, uniques = pd.factorize(column)
            table = np.empty(len(uniques), dtype=object)
            table[:] = _python(uniques)
            self.factors.append((np.asarray(codes, dtype=np.int64), table))
        self.overrides: dict[tuple[int, int], Any] = {}  # cells shown otherwise (control characters)
        self._blank = [blank_mask(None, f) for f in self.factors]

    @property
    def n_rows(self) -> int:  # type: ignore[override]
        return self.length + 1

    @property
    def n_cols(self) -> int:  # type: ignore[override]
        return len(self.series)

    def value(self, row: int, col: int) -> Any:
        if row == 1:
            return super().value(row, col)
        if not (2 <= row <= self.length + 1 and 1 <= col <= len(self.series)):
            return None
        if (row, col) in self.overrides:
            return self.overrides[(row, col)]
        codes, table = self.factors[col - 1]
        if codes[row - 2] < 0:
            return None
        if self.series[col - 1].dtype == object:
            return self.series[col - 1].iat[row - 2]
        return table[codes[row - 2]]

    def cells(self, col: int) -> np.ndarray:
        """Column ``col``'s values, one per row (``None`` where missing), as Python objects."""
        column = self.series[col - 1]
        codes, table = self.factors[col - 1]
        if column.dtype == object:
            values = column.to_numpy()
            if (codes < 0).any() or self.overrides:
                values = values.copy()
                values[codes < 0] = None
        else:
            values = np.append(table, None)[codes]
        for (r, c), v in self.overrides.items():
            if c == col:
                values[r - 2] = v
        return values

    def filled_columns(self, after_row: int) -> frozenset[int]:
        return frozenset(c for c, blank in enumerate(self._blank, start=1) if not blank[max(after_row - 1, 0):].all())

    def data_rows(self) -> np.ndarray:
        """The rows (2, 3, …) that are not entirely empty."""
        if not self.series:
            return np.array([], dtype=np.int64)
        empty = np.logical_and.reduce(self._blank)
        return np.flatnonzero(~empty).astype(np.int64) + 2


def _python(uniques: Any) -> list[Any]:
    """Distinct values as Python objects (``2024``, not ``numpy.int64(2024)``)."""
    values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    return [v.item() if isinstance(v, np.generic) else v for v in values]


class LazyCells(dict):
    """Column number → the values of ``rows`` in that column, taken from a
    :class:`ColumnSheet` only when asked for."""

    def __init__(self, sheet: ColumnSheet, rows: np.ndarray):
        super().__init__()
        self.sheet, self.rows = sheet, rows

    def __missing__(self, col: int) -> np.ndarray:
        values = self.sheet.cells(col)
        if len(self.rows) != self.sheet.length:
            values = values[self.rows - 2]
        self[col] = values
        return values


def blank_mask(values: np.ndarray | None, known: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Per cell: empty (``None``, or text of spaces only), as :func:`evalkit.io.sheets.is_blank`."""
    codes, uniques = known if known is not None else pd.factorize(values)
    table = np.array([is_blank(u) for u in uniques] + [True], dtype=bool)
    return table[codes]


def known_factors(sheet: Sheet, rows: np.ndarray, wanted: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Column number → (codes, uniques) of ``rows`` when the sheet has them already."""
    if not isinstance(sheet, ColumnSheet):
        return {}
    every = len(rows) == sheet.length
    return {c: (sheet.factors[c - 1][0] if every else sheet.factors[c - 1][0][rows - 2], sheet.factors[c - 1][1])
            for c in wanted}


def sheet_columns(sheet: Sheet, rows: np.ndarray, wanted: list[int]) -> dict[int, np.ndarray]:
    """Column number → the values of ``rows`` (Excel rows) in that column (for a
    :class:`ColumnSheet`, taken when first asked for)."""
    if isinstance(sheet, ColumnSheet):
        return LazyCells(sheet, rows)
    lines = [sheet.rows[r - 1] for r in rows.tolist()]
    out = {}
    for c in wanted:
        arr = np.empty(len(lines), dtype=object)
        arr[:] = [line[c - 1] if len(line) >= c else None for line in lines]
        out[c] = arr
    return out
