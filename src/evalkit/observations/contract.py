"""The Observations contract: its columns, the canonical text of a value, whole years, the error
of a table that breaks the contract, and the order-independent fingerprint of a table."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from evalkit.errors import EXIT_DATA, EvalkitError

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
