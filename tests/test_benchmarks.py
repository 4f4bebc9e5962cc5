"""The benchmarks' synthetic counties stay valid evaluator data (benchmarks run on demand only,
so a change that makes intake refuse their data would otherwise go unnoticed)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from bench_batch_scale import write_county  # noqa: E402
from bench_scoring import YEARS, synthetic_observations  # noqa: E402


def test_synthetic_county_passes_intake_and_scores_every_school_year(tmp_path):
    from evalkit.planner.runfile import load_run_file
    from evalkit.planner.scores import score_run

    _, results, _ = score_run(load_run_file(write_county(tmp_path / "county", 3)))
    assert results.years == YEARS
    assert len(results.schools) == 3 * len(YEARS)
    assert len(results.indicators) == 3 * len(YEARS) * 37
    assert not results.indicators["missing"].any()


def test_scoring_benchmark_data_has_every_kind_of_row():
    obs = synthetic_observations(4)
    assert set(obs["source"]) == {"self", "inspection", "survey"}
    assert set(obs.loc[obs["indicator_id"] == "C5", "item"]) == {"warning", "violation"}
    assert obs["rater"].nunique() == 6  # "" and five inspectors on the rated items
