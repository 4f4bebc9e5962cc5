"""The Observations table: the long format every source of data is brought into.

One row per school × year × indicator × item × source × rater (see ``docs/architecture.md``).

- :mod:`~evalkit.observations.contract` — the columns, canonical text, whole years,
  :class:`ObservationsError`, :func:`fingerprint`;
- :mod:`~evalkit.observations.encode` — the table straight to integer codes over its canonical
  distinct values (:func:`encode_observations`, what scoring reads), and
  :func:`coerce_observations`: a copy with the contract's dtypes (ids as strings, years as ints,
  empty strings for absent item/rater/evidence), the caller's frame never modified;
- :mod:`~evalkit.observations.codes` — columns as integer codes (:class:`Encoded`), group numbering.
"""

from __future__ import annotations

from evalkit.observations.contract import (
    COLUMNS,
    KEY,
    PROVENANCE,
    REQUIRED,
    ObservationsError,
    fingerprint,
    fingerprint_codes,
    text_value,
    whole_years,
)
from evalkit.observations.encode import EncodedObservations, coerce_observations, encode_observations

__all__ = [
    "COLUMNS",
    "KEY",
    "PROVENANCE",
    "REQUIRED",
    "EncodedObservations",
    "ObservationsError",
    "coerce_observations",
    "encode_observations",
    "fingerprint",
    "fingerprint_codes",
    "text_value",
    "whole_years",
]
