"""The Observations table: the long format every source of data is brought into.

One row per school × year × indicator × item × source × rater (see ``docs/architecture.md``).
:func:`coerce_observations` returns a copy with the contract's dtypes (ids as strings, years as
ints, empty strings for absent item/rater/evidence); the caller's frame is never modified.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import EXIT_DATA, EvalkitError
from evalkit.scoring.codes import Encoded

KEY = ["school_id", "year", "indicator_id", "item", "source", "rater"]
COLUMNS = [*KEY, "value", "evidence"]
PROVENANCE = ["file", "sheet", "cell"]
REQUIRED = ["school_id", "year", "indicator_id", "value"]


class ObservationsError(EvalkitError):
    """Observations that cannot be scored; ``problems`` lists every one in Chinese."""

    exit_code = EXIT_DATA

    def __init__(self, problems: list[str]):
        self.problems = problems
        body = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"观测数据有 {len(problems)} 个问题 / problems in the observations:\n{body}")


def text_value(v: object) -> str:
    """One cell as contract text: missing → ``""``; a whole float without ``.0`` (a column read
    as numbers, ``1.0`` → ``"1"``); anything else as ``str``."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def whole_years(obs: pd.DataFrame) -> pd.Series:
    """The ``year`` column as int64 (positionally indexed); raises :class:`ObservationsError`
    for absent required columns or years that are not whole numbers."""
    missing = [c for c in REQUIRED if c not in obs.columns]
    if missing:
        raise ObservationsError([f"缺少必需的列：{', '.join(missing)} / missing columns"])
    years = pd.to_numeric(obs["year"].reset_index(drop=True), errors="coerce")
    bad = years.isna() | (years != years.round())
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad.to_numpy())[:20])
        raise ObservationsError([f"第 {rows} 行的年度不是整数年份 / year is not a whole number"])
    return years.astype("int64")


def coerce_observations(obs: pd.DataFrame, default_source: str = "inspection") -> pd.DataFrame:
    """A copy of ``obs`` with the contract's columns and dtypes.

    Missing optional columns are added (``item``/``rater``/``evidence`` = ``""``, ``source`` =
    ``default_source``); ``school_id`` stays text (a number like ``1.0`` becomes ``"1"``, but
    ``"001"`` is kept as given). Raises :class:`ObservationsError` for absent required columns
    or years that are not whole numbers. The canonical values are those scoring uses
    (:func:`encode_observations`, decoded for every row).
    """
    data = encode_observations(obs, default_source)
    return data.rows(np.arange(len(data)))


def fingerprint(obs: pd.DataFrame) -> str:
    """sha256 over the contract columns of ``obs``, independent of row order.

    Each row is hashed from its key columns, value and evidence (numbers as floats, so ``17``,
    ``17.0`` and ``"17"`` agree); the sorted row hashes are hashed together. Provenance columns
    do not count, so the same data read from a CSV or a workbook has the same fingerprint.
    Columns are hashed through their distinct values (``pd.factorize``), which keeps this
    cheap for millions of rows.
    """
    factorised = {col: pd.factorize(obs[col], use_na_sentinel=True) for col in COLUMNS}
    return fingerprint_codes({c: f[0] for c, f in factorised.items()}, {c: f[1] for c, f in factorised.items()})


def fingerprint_codes(codes: dict[str, np.ndarray], uniques: dict[str, np.ndarray]) -> str:
    """:func:`fingerprint` of observations already factorised: ``codes[col][i]`` is row
    ``i``'s position in ``uniques[col]`` (``-1`` for missing, hashed as ``""``)."""
    rows = np.zeros(len(codes[COLUMNS[0]]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in COLUMNS:  # an order-sensitive combination of the column hashes (FNV-style)
            rows = (rows ^ _hash_codes(codes[col], uniques[col])) * np.uint64(0x100000001B3)
    rows = np.sort(rows)
    return hashlib.sha256(rows.tobytes()).hexdigest()


def _hash_codes(codes: np.ndarray, uniques) -> np.ndarray:  # type: ignore[no-untyped-def]
    canon = np.array([_canonical_value(u) for u in uniques] + [""], dtype=object)
    return pd.util.hash_array(canon)[codes]


def _canonical_value(v: object) -> str:
    """Numbers (and numeric text) as the repr of a float; other text as itself."""
    if isinstance(v, int | float | np.integer | np.floating):
        return repr(float(v))
    try:
        return repr(float(str(v)))
    except ValueError:
        return str(v)


# --------------------------------------------------------------------------- encoding
# Observations straight to codes, in the contract's canonical form.
#
# :func:`evalkit.observations.coerce_observations` writes every text cell anew (millions of
# strings for a large county); scoring only needs each column's codes and distinct values. Here
# each column is factorised as given, its distinct values are canonicalised by the same rules
# (:func:`evalkit.observations.text_value`; ids, items, sources and raters stripped; an empty
# source is the default one) and values that became equal (``"A1 "`` and ``"A1"``) are merged.
# The codes are exactly those of ``Encoded`` over the coerced frame, so checks, keys and the data
# fingerprint are unchanged; rows are decoded only where a message or a veto needs them.


STRIPPED = {"indicator_id", "item", "source", "rater"}


@dataclass(frozen=True)
class EncodedObservations:
    """The observations as codes (``enc``), with the caller's frame (positionally aligned,
    never modified) for values as given and provenance."""

    enc: Encoded
    given: pd.DataFrame

    def __len__(self) -> int:
        return len(self.given)

    def rows(self, idx: np.ndarray) -> pd.DataFrame:
        """Rows ``idx`` as :func:`evalkit.observations.coerce_observations` would give them:
        canonical text, int years, values as given, provenance columns."""
        idx = np.asarray(idx, dtype=np.int64)
        out = pd.DataFrame(index=pd.RangeIndex(len(idx)))
        for col in COLUMNS:
            if col == "year":
                out[col] = self.enc.uniques["year"][self.enc.codes["year"][idx]].astype(np.int64)
            elif col == "value":
                out[col] = pd.Series(self.given["value"].take(idx).to_numpy(dtype=object), dtype=object)
            else:
                out[col] = pd.Series(self.enc.text(col, idx), dtype="str")
        for col in PROVENANCE:  # take, then convert: converting a whole column costs O(all rows)
            if col in self.given.columns:
                out[col] = self.given[col].take(idx).to_numpy()
        return out


def encode_observations(
    observations: pd.DataFrame, default_source: str = "inspection", years: list[int] | None = None
) -> EncodedObservations:
    """Encode ``observations`` (only the rows of ``years`` when given). Raises
    :class:`evalkit.observations.ObservationsError` for absent required columns or years that
    are not whole numbers, like :func:`evalkit.observations.coerce_observations`, and when
    nothing is left to score (no rows, or none of ``years``)."""
    if len(observations) == 0:
        raise ObservationsError(["没有任何观测数据可评分（文件为空、只有表头或表头无法识别）/ no observations"])
    year = whole_years(observations)
    given = observations.reset_index(drop=True)
    if years is not None:
        keep = year.isin(years).to_numpy()
        given, year = given[keep].reset_index(drop=True), year[keep].reset_index(drop=True)
        if len(given) == 0:
            raise ObservationsError([f"所选年度 {years} 没有任何观测数据 / no data for the years chosen"])
    codes, uniques = {}, {}
    for col in COLUMNS:
        if col == "year":
            c, u = pd.factorize(year.to_numpy())
        elif col == "value":
            c, u = pd.factorize(given["value"], use_na_sentinel=True)
        elif col in given.columns:
            default = default_source if col == "source" else ""
            c, u = _canonical_codes(given[col], strip=col in STRIPPED, empty=default)
        else:
            c, u = np.zeros(len(given), dtype=np.int64), [default_source if col == "source" else ""]
        codes[col], uniques[col] = np.asarray(c, dtype=np.int64), np.asarray(u, dtype=object)
    return EncodedObservations(Encoded(codes, uniques), given)


def _canonical_codes(column: pd.Series, *, strip: bool, empty: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes over the canonical text of each distinct value (missing is text ``""``, and
    ``""`` becomes ``empty``); values that canonicalise alike share a code."""
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    canonical = [text_value(v) for v in np.asarray(distinct, dtype=object)]
    if (codes < 0).any():
        canonical.append("")  # missing: code -1 takes the last entry
    if strip:
        canonical = [t.strip() for t in canonical]
    canonical = [t if t != "" else empty for t in canonical]
    merged, values = pd.factorize(np.array(canonical, dtype=object))
    if len(values) == len(merged) and (codes >= 0).all():
        return codes, np.asarray(values, dtype=object)  # nothing merged: the codes stand as they are
    return merged[codes], np.asarray(values, dtype=object)
