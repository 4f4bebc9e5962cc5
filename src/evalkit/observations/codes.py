"""Observations encoded once as integer codes over their distinct values.

Every later step — checks, grouping keys, value parsing, the data fingerprint — works on the
codes and touches each distinct value once (``pd.factorize`` per column), instead of hashing or
parsing millions of strings again at every step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

Columns = dict[str, np.ndarray]
"""A table as equal-length numpy arrays by name: the scoring pipeline's working form (no
index to align, no block management: steps take the columns they need at the rows they need)."""


def groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(gid, first)``: each row's group number (``pd.factorize``: in order of first
    appearance) and the position of each group's first row. Because groups are numbered as
    they appear, a group's first row is where ``gid`` exceeds every earlier ``gid`` — one
    running maximum, no sort."""
    gid = pd.factorize(keys)[0]
    earlier = np.maximum.accumulate(np.r_[-1, gid[:-1]])
    return gid, np.flatnonzero(gid > earlier)


@dataclass(frozen=True)
class Encoded:
    """``codes[col][i]`` is row ``i``'s position in ``uniques[col]`` (``-1`` for missing)."""

    codes: dict[str, np.ndarray]
    uniques: dict[str, np.ndarray]

    def per_row(
        self, col: str, mapping: Mapping | Callable, default: object = None, dtype: object = object
    ) -> np.ndarray:
        """``mapping`` applied to each distinct value of ``col`` and taken onto rows (missing
        values and values ``mapping`` lacks give ``default``)."""
        get = mapping.get if isinstance(mapping, Mapping) else mapping
        if isinstance(mapping, Mapping):
            values = [get(u, default) for u in self.uniques[col]]
        else:
            values = [get(u) for u in self.uniques[col]]
        table = np.array([*values, default], dtype=dtype)
        return table[self.codes[col]]

    def key(self, columns: list[str], rows: np.ndarray | None = None) -> np.ndarray:
        """One int64 per row (of ``rows``, or all) identifying its combination of ``columns``:
        mixed radix over the codes, or — when the combinations would not fit in 62 bits — the
        combinations numbered as they appear. Keys compare within one call only."""
        codes = {col: self.codes[col] if rows is None else self.codes[col][rows] for col in columns}
        key = np.zeros(len(codes[columns[0]]), dtype=np.int64)
        span = 1
        for col in columns:
            base = len(self.uniques[col]) + 1
            span *= base
            if span >= 2**62:
                return pd.DataFrame(codes).groupby(columns, sort=False).ngroup().to_numpy(dtype=np.int64)
            key = key * base + codes[col] + 1
        return key

    def text(self, col: str, mask: np.ndarray | None = None) -> np.ndarray:
        """The column's values as an object array (``""`` for missing), optionally only the rows
        of ``mask``: a take from the distinct values, no string is built or re-encoded."""
        table = np.append(self.uniques[col], "")
        codes = self.codes[col] if mask is None else self.codes[col][mask]
        return table[codes]
