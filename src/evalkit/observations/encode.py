"""Observations straight to codes, in the contract's canonical form.

:func:`evalkit.observations.coerce_observations` writes every text cell anew (millions of
strings for a large county); scoring only needs each column's codes and distinct values. Here
each column is factorised as given, its distinct values are canonicalised by the same rules
(:func:`evalkit.observations.text_value`; ids, items, sources and raters stripped; an empty
source is the default one) and values that became equal (``"A1 "`` and ``"A1"``) are merged.
The codes are exactly those of ``Encoded`` over the coerced frame, so checks, keys and the data
fingerprint are unchanged; rows are decoded only where a message or a veto needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.observations.codes import Encoded
from evalkit.observations.contract import COLUMNS, PROVENANCE, ObservationsError, text_value, whole_years

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
