"""Benchmark: scoring synthetic counties at 1×, 10× and 100× the demo county's size.

Each run is a fresh process (so peak memory is its own and nothing is warm): synthetic
Observations for N schools × 5 years × every indicator of the default framework —
self-assessment and inspection rows, five inspectors on the rated items, item rows for C5/C7,
surveys, some bonus and veto rows — validated through the data gate
(``evalkit.intake.validate_observations``, timed apart: ``gate s``), then
``evalkit.scoring.score`` is timed on the validated observations. Prints, per scale:
rows, the median and slowest time to score over the runs, the time per 1,000 school-years
(flat = linear cost), the kernel's share of the CPU time (page faults), and peak RSS.

    .venv/bin/python benchmarks/bench_scoring.py               # 50, 500, 5000 schools, 3 runs each
    .venv/bin/python benchmarks/bench_scoring.py --runs 5 5000  # chosen sizes and runs

Targets (issue: Foundation): cost grows linearly; 100× under 5 s and under 2 GB on 2 cores.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

YEARS = [2022, 2023, 2024, 2025, 2026]  # the default framework's years


def synthetic_observations(n_schools: int, seed: int = 7) -> pd.DataFrame:
    """Observations for ``n_schools`` × 5 years of the default framework (vectorised)."""
    from evalkit.framework import load_framework

    fw = load_framework()
    rng = np.random.default_rng(seed)
    schools = np.array([f"{i:05d}" for i in range(1, n_schools + 1)], dtype=object)
    sy = pd.MultiIndex.from_product([schools, YEARS], names=["school_id", "year"]).to_frame(index=False)
    n = len(sy)
    frames = []
    for ind in fw.indicators:
        kind = ind.data_type
        if kind == "rating":
            for r in range(5):
                frames.append(sy.assign(indicator_id=ind.id, item="", source="inspection", rater=f"R{r}",
                                        value=rng.choice(list("ABCD"), n, p=[0.4, 0.35, 0.2, 0.05])))
            continue
        if kind == "level":
            vals = rng.choice(["province", "city", "county", "none"], n, p=[0.1, 0.2, 0.3, 0.4])
        elif kind == "ratio":
            vals = np.round(rng.uniform(0.55, 1.0, n), 3)
        elif kind == "yesno":
            vals = (rng.uniform(size=n) < 0.85).astype(float)
        elif kind == "score":
            frames.append(sy.assign(indicator_id=ind.id, item="", source="survey", rater="",
                                    value=np.round(np.clip(rng.normal(86, 6, n), 0, 100), 1)))
            continue
        else:
            vals = rng.poisson(8 if ind.rule.name != "deduction" else 0.4, n).astype(float)
        weights = ind.rule.params.get("weights")
        items = list(weights) if weights else [""]
        for source in ("self", "inspection"):
            for item in items:
                v = vals  # the self-assessment repeats the inspected count
                if item:
                    v = rng.poisson(0.5, n).astype(float)
                frames.append(sy.assign(indicator_id=ind.id, item=item, source=source, rater="", value=v))
    bonus = sy.sample(frac=0.1, random_state=seed)
    frames.append(bonus.assign(indicator_id="X1", item="", source="inspection", rater="", value="city"))
    veto = sy.sample(frac=0.01, random_state=seed + 1)
    frames.append(veto.assign(indicator_id="V1", item="", source="inspection", rater="", value=1.0))
    obs = pd.concat(frames, ignore_index=True)
    obs["value"] = obs["value"].astype(object)
    obs["evidence"] = ""
    return obs


def run_one(n_schools: int) -> dict:
    from evalkit.framework import load_framework
    from evalkit.intake import validate_observations
    from evalkit.scoring import score

    fw = load_framework()
    obs = synthetic_observations(n_schools)
    t_gate = time.perf_counter()
    validated = validate_observations(obs, fw)  # the data gate (intake's checks), timed apart
    gate = time.perf_counter() - t_gate
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    results = score(validated, fw)
    wall = time.perf_counter() - t0
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage1.ru_utime - usage0.ru_utime + usage1.ru_stime - usage0.ru_stime
    return {
        "schools": n_schools,
        "school_years": n_schools * len(YEARS),
        "rows": len(obs),
        "indicator_results": len(results.indicators),
        "seconds": round(wall, 3),
        "gate_seconds": round(gate, 3),
        "cpu_seconds": round(cpu, 3),
        "system_seconds": round(usage1.ru_stime - usage0.ru_stime, 3),
        "ms_per_1000_school_years": round(1000 * wall / (n_schools * len(YEARS)) * 1000, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_scoring_mb": round(rss_before),
    }


def fresh_runs(script: str, args: list[str], runs: int) -> list[dict]:
    """Run ``script --one *args`` ``runs`` times, each in a fresh Python process; return the JSON
    object each printed on its last line."""
    got = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, script, "--one", *args], capture_output=True, text=True, check=True)
        got.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return got


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--one":
        print(json.dumps(run_one(int(argv[1]))))
        return 0
    runs = 3
    if argv[:1] == ["--runs"]:
        runs, argv = int(argv[1]), argv[2:]
    sizes = [int(a) for a in argv] or [50, 500, 5000]
    print(f"{'schools':>8} {'rows':>10} {'median s':>9} {'max s':>7} {'ms/1k school-yr':>16} "
          f"{'kernel %':>9} {'peak RSS MB':>12} {'gate s':>8}")
    for n in sizes:
        got = fresh_runs(__file__, [str(n)], runs)
        seconds = sorted(r["seconds"] for r in got)
        median = seconds[len(seconds) // 2]
        kernel = 100 * sum(r["system_seconds"] for r in got) / sum(r["cpu_seconds"] for r in got)
        print(f"{n:>8} {got[0]['rows']:>10} {median:>9.3f} {seconds[-1]:>7.3f} "
              f"{1e6 * median / (n * len(YEARS)):>16.1f} {kernel:>9.0f} {max(r['peak_rss_mb'] for r in got):>12}"
              f" {sorted(r['gate_seconds'] for r in got)[len(got) // 2]:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
