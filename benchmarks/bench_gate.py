"""Benchmark: the data gate (intake's checks and :func:`evalkit.intake.admit`) at scale.

Each run is a fresh process (nothing warm; peak memory its own): the synthetic Observations of
``bench_scoring.py`` (N schools × 5 years × every indicator of the default framework, every
kind of row) go through :func:`evalkit.intake.validate_observations`, timed; then, as a check
that the gate's output is usable, ``evalkit.scoring.score`` is timed on the validated data.
Prints per size: rows, the median and slowest gate time (wall) over the runs, the gate's CPU
time (``time.process_time``: on a shared machine the wall time also counts other people's
work), the scoring time (wall and CPU), the peak RSS before scoring (generation and gate) and the
process's peak RSS (``resource.getrusage``; scoring's own share is the difference when it sets the
peak).

    .venv/bin/python benchmarks/bench_gate.py                # 5000 schools, 3 runs
    .venv/bin/python benchmarks/bench_gate.py --runs 3 500 5000
    .venv/bin/python benchmarks/bench_gate.py --profile 500   # cProfile of one gate, top 25

Target (issue 22): the gate at 5,000 schools × 5 years ≤ 5 s (it was ~100 s, row by row).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scoring import fresh_runs, synthetic_observations


def run_one(n_schools: int) -> dict:
    from evalkit.framework import load_framework
    from evalkit.intake import validate_observations
    from evalkit.scoring import score

    fw = load_framework()
    obs = synthetic_observations(n_schools)
    t0, c0 = time.perf_counter(), time.process_time()
    validated = validate_observations(obs, fw)
    gate, gate_cpu = time.perf_counter() - t0, time.process_time() - c0
    rss_gate = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t1, c1 = time.perf_counter(), time.process_time()
    results = score(validated, fw)
    scoring, score_cpu = time.perf_counter() - t1, time.process_time() - c1
    return {
        "schools": n_schools,
        "rows": len(obs),
        "gate_seconds": round(gate, 3),
        "score_seconds": round(scoring, 3),
        "gate_cpu_seconds": round(gate_cpu, 3),
        "score_cpu_seconds": round(score_cpu, 3),
        "problems": len(validated.intake.problems),
        "indicator_results": len(results.indicators),
        "rss_before_scoring_mb": round(rss_gate),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def profile(n_schools: int) -> None:
    import cProfile
    import pstats

    from evalkit.framework import load_framework
    from evalkit.intake import validate_observations

    fw = load_framework()
    obs = synthetic_observations(n_schools)
    prof = cProfile.Profile()
    prof.enable()
    validate_observations(obs, fw)
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(int(argv[1]))))
        return 0
    if argv[:1] == ["--profile"]:
        profile(int(argv[1]) if len(argv) > 1 else 500)
        return 0
    runs = 3
    if argv[:1] == ["--runs"]:
        runs, argv = int(argv[1]), argv[2:]
    sizes = [int(a) for a in argv] or [5000]
    print(f"{'schools':>8} {'rows':>10} {'gate median s':>14} {'gate max s':>11} {'gate CPU s':>11} "
          f"{'score s':>8} {'score CPU s':>12} {'RSS gate MB':>12} {'peak RSS MB':>12}")
    for n in sizes:
        got = fresh_runs(__file__, [str(n)], runs)
        gates = sorted(r["gate_seconds"] for r in got)
        scores = sorted(r["score_seconds"] for r in got)
        mid = len(got) // 2
        cpu = sorted(r["gate_cpu_seconds"] for r in got)[mid]
        score_cpu = sorted(r["score_cpu_seconds"] for r in got)[mid]
        print(f"{n:>8} {got[0]['rows']:>10} {gates[mid]:>14.2f} {gates[-1]:>11.2f} {cpu:>11.2f} "
              f"{scores[mid]:>8.2f} {score_cpu:>12.2f} {max(r['rss_before_scoring_mb'] for r in got):>12} "
              f"{max(r['peak_rss_mb'] for r in got):>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
