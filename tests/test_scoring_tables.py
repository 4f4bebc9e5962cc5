"""Scoring's tables stay exactly what they were when the engine is made faster or leaner.

Each case's Results (every table, every column, its dtype, index and order; the meta without its
creation time) is reduced to one SHA-256 pinned here. The digests were taken from main at 07ba11c
(before issue 22's scoring work) and checked then against ``DataFrame.equals`` table by table.
A change meant to alter scores or sentences must update them on purpose:
``python tests/test_scoring_tables.py`` prints the current ones.

Cases: the demo county (2022–2024, with its registry: vetoes, bonus, five-rater items, quota),
the benchmarks' synthetic county (``bench_scoring.synthetic_observations``: every kind of row at
scale) and the same with 3 % of the rows removed (the missing-data policy and its flags).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.framework import load_framework
from evalkit.intake import read_validated, validate_observations
from evalkit.intake.registry import load_registry
from evalkit.results import Results
from evalkit.scoring import score
from evalkit.scoring.pages import small_pages

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "evalkit" / "demo" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scoring import synthetic_observations  # noqa: E402

PINNED = {
    "demo": "74ed517e9a0dab43967c0281cd152ca2896a2d127e65fcd8524c139c3836322d",
    "synthetic": "e543048054e35c8f7941abb30258754105340a8098500d4a3f823788a3df8eb0",
    "holes": "9ecbaee59cd8360d3e972eaf13be90229998dda97885c27a097763c6c68c9764",
}


def digest(results: Results) -> str:
    """SHA-256 over every table (name, columns, dtypes, index and values row by row) and the
    meta without ``created``."""
    h = hashlib.sha256()
    tables = {name: getattr(results, name) for name in ("indicators", "areas", "schools", "bonus", "vetoes", "flags")}
    tables |= {"nodes": results.nodes} if results.nodes is not None else {}
    tables |= {f"extra.{k}": v for k, v in sorted(results.extra.items())}
    for name, table in tables.items():
        h.update(json.dumps([name, [str(c) for c in table.columns], [str(t) for t in table.dtypes]]).encode())
        h.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    meta = {k: v for k, v in results.meta.items() if k not in ("created", "evalkit_version")}
    h.update(json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str).encode())
    return h.hexdigest()


def score_case(name: str) -> Results:
    fw = load_framework()
    if name == "demo":
        registry = load_registry(DEMO / "registry.csv")
        data = read_validated([DEMO / f"observations_{y}.csv" for y in (2022, 2023, 2024)], fw, registry)
        return score(data, fw, registry)
    if name == "synthetic":
        return score(validate_observations(synthetic_observations(200), fw), fw)
    obs = synthetic_observations(60, seed=3)
    obs = obs.drop(obs.sample(frac=0.03, random_state=5).index).reset_index(drop=True)
    return score(validate_observations(obs, fw), fw)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_scored_tables_are_the_pinned_ones(name):
    results = score_case(name)
    if name == "holes":  # the case does reach the missing-data paths it is there for
        assert (results.flags["kind"] == "missing_zero").sum() == 29
    assert digest(results) == PINNED[name]


def test_digest_sees_a_single_changed_sentence():
    results = score_case("demo")
    before = digest(results)
    results.indicators.loc[7, "explanation"] = results.indicators.loc[7, "explanation"] + "。"
    assert digest(results) != before


@pytest.mark.parametrize("previous", [True, False])
def test_small_pages_turns_numpy_huge_page_advice_off_and_back(previous):
    switch = np._core.multiarray._set_madvise_hugepage
    original = switch(previous)
    try:
        with small_pages():
            assert switch(False) is False  # off inside the block (setting it again reports the state)
        assert switch(previous) is previous  # put back afterwards
    finally:
        switch(original)


if __name__ == "__main__":
    for case in sorted(PINNED):
        print(case, digest(score_case(case)))
