"""Benchmark: Monte Carlo robustness of one year at 1× (the demo county) and 100× a county.

Each run is a fresh process: the county is scored (not timed), then timed separately:

- ``model``: :func:`evalkit.robustness.build_model` (the scoring steps up to the indicators,
  rater pools, published replay inputs);
- ``replications``: 1,000 replications (weights ±20% and rater bootstrap, the demo's settings)
  with per-school summaries;
- ``sensitivity``: the first-order indices (default 500 pick-freeze replications per input on
  top of 500 for the second sample);
- ``weight nodes``: which node's weights move ranks most (500 replications per node with only
  that node's weights drawn, :mod:`evalkit.robustness.influence`).

``demo`` is the bundled demo county (48 schools, 2024); a number is a synthetic county of that
many schools (:func:`bench_scoring.synthetic_observations`, 5 years, robustness for 2024).
Prints the median and slowest of the runs per scale and the peak RSS.

    .venv/bin/python benchmarks/bench_robustness.py                 # demo and 5000, 3 runs each
    .venv/bin/python benchmarks/bench_robustness.py --runs 5 demo

Targets (issue: How sure is a rank?): 1,000 replications of the demo county under 5 s; 5,000
schools × 1,000 replications under 2 minutes on 2 cores.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scoring import fresh_runs


def run_one(scale: str, replications: int) -> dict:
    from evalkit.framework import load_framework
    from evalkit.robustness import RobustnessConfig, build_model
    from evalkit.robustness.influence import weight_influence
    from evalkit.robustness.simulate import input_groups, simulate
    from evalkit.robustness.summary import per_school, sensitivity
    from evalkit.scoring import score

    fw = load_framework()
    if scale == "demo":
        from evalkit.api import demo_inputs
        from evalkit.intake import read_observations
        from evalkit.intake.registry import load_registry
        from evalkit.observations import coerce_observations

        data, reg = demo_inputs()
        registry = load_registry(reg)
        obs = coerce_observations(read_observations(data, fw, registry).observations)
        results = score(obs, fw, registry)
    else:
        from bench_scoring import synthetic_observations

        obs = synthetic_observations(int(scale))
        results = score(obs, fw)
    config = RobustnessConfig(replications=replications)
    t0 = time.perf_counter()
    model = build_model(obs, fw, results, 2024)
    t1 = time.perf_counter()
    groups = input_groups(model, config)
    _, grade, rank = simulate(model, config, groups)
    per_school(model, grade, rank)
    t2 = time.perf_counter()
    sensitivity(model, config, groups)
    t3 = time.perf_counter()
    weight_influence(model, config)
    t4 = time.perf_counter()
    return {
        "scale": scale, "schools": model.n_schools, "inputs": len(groups),
        "model_s": round(t1 - t0, 3), "replications_s": round(t2 - t1, 3), "sensitivity_s": round(t3 - t2, 3),
        "weight_nodes_s": round(t4 - t3, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--one":
        print(json.dumps(run_one(argv[1], int(argv[2]))))
        return 0
    runs, replications = 3, 1000
    while argv[:1] in (["--runs"], ["--replications"]):
        if argv[0] == "--runs":
            runs = int(argv[1])
        else:
            replications = int(argv[1])
        argv = argv[2:]
    scales = argv or ["demo", "5000"]
    print(f"{'scale':>6} {'schools':>8} {'inputs':>6} {'model s':>8} {'reps s (median/max)':>20} "
          f"{'sensitivity s':>14} {'nodes s':>8} {'peak RSS MB':>12}")
    for scale in scales:
        got = fresh_runs(__file__, [scale, str(replications)], runs)

        def med(key: str, got: list[dict] = got) -> float:
            return sorted(r[key] for r in got)[len(got) // 2]

        print(f"{scale:>6} {got[0]['schools']:>8} {got[0]['inputs']:>6} {med('model_s'):>8.2f} "
              f"{med('replications_s'):>11.2f} / {max(r['replications_s'] for r in got):>6.2f} "
              f"{med('sensitivity_s'):>14.2f} {med('weight_nodes_s'):>8.2f} {max(r['peak_rss_mb'] for r in got):>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
