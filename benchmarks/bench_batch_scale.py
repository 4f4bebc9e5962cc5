"""Benchmark: ``evalkit run``'s own cost — everything but the notebooks — at 1×, 10× and 100× the
demo county (48, 480 and 4,800 schools; 5 years each).

Each scale runs in a fresh process (so its peak memory is its own) on a synthetic county: the
observations of ``bench_scoring.synthetic_observations`` (written as one CSV per year, as a
county would deliver them) and a matching school registry. It times the phases of a run with
every report of the latest year planned (a school report and a trend per school):

* reading and scoring the data, saving the Results and the scoreboard workbook;
* fingerprints and planning (:class:`DataFingerprints`, ``plan_year``) of every report;
* executing every report with a *null* executor — it writes a tiny executed notebook through
  the same path as real reports (work file, atomic rename, manifest entry) but runs no kernel —
  through the real parallel runner (worker processes, progress bar, manifest journal), so the
  time per report is the runner's own overhead per report;
* a second run with nothing to do (every report found up to date; the scoreboard, unchanged, is
  not rewritten);
* how often ``manifest.json`` was rewritten, and what rewriting it after every report (as
  before the journal) would have cost at that size.

It prints, per scale: seconds per phase, the runner's overhead per report, the number of
manifest rewrites, the old per-report rewriting cost, and peak RSS (must stay under 4 GB).

With ``--notebooks K`` it also runs the real ``evalkit run --formats ipynb --schools …`` on the
100× county for the first K schools (school reports and trends with the real notebooks; kernels
from the pool) and prints its wall time, per-report timings and peak memory (PSS of all its
processes).

    .venv/bin/python benchmarks/bench_batch_scale.py                  # 48, 480, 4800 schools
    .venv/bin/python benchmarks/bench_batch_scale.py 48 480            # chosen sizes
    .venv/bin/python benchmarks/bench_batch_scale.py --notebooks 100   # + real reports at 100×
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from evalkit.runtime.executor import LocalExecutor

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCHOOL_TYPES = ["小学", "小学", "小学", "初中", "九年一贯制", "高中", "职高"]


# --------------------------------------------------------------------------- the synthetic county


def write_county(folder: Path, n_schools: int) -> Path:
    """Observations (one CSV per year), a registry and a run file for ``n_schools``; return the
    run file."""
    sys.path.insert(0, str(HERE))
    from bench_scoring import YEARS, synthetic_observations

    folder.mkdir(parents=True, exist_ok=True)
    obs = synthetic_observations(n_schools)
    for year, rows in obs.groupby("year"):
        rows.to_csv(folder / f"obs_{year}.csv", index=False)
    with open(folder / "registry.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["school_id", "school_name", "school_type", "township", "pupils", "staff", "party_members",
                    "branch", "active_from", "active_to"])
        for i in range(1, n_schools + 1):
            township = f"乡镇{i % max(1, n_schools // 12)}"
            w.writerow([f"{i:05d}", f"第{i}学校", SCHOOL_TYPES[i % len(SCHOOL_TYPES)], township,
                        300 + i % 900, 20 + i % 60, 5 + i % 20, f"第{i % 40}支部", YEARS[0], ""])
    data = "\n".join(f"  - obs_{y}.csv" for y in YEARS)
    (folder / "run.yaml").write_text(
        f"data:\n{data}\nregistry: registry.csv\nnotebooks:\n"
        f"  school_report: {ROOT / 'notebooks' / 'school_report.ipynb'}\n"
        f"  school_trend: {ROOT / 'notebooks' / 'school_trend.ipynb'}\n"
        f"  county_summary: {ROOT / 'notebooks' / 'county_summary.ipynb'}\n"
        "formats: [ipynb]\noutput: out\n",
        encoding="utf-8",
    )
    return folder / "run.yaml"


# --------------------------------------------------------------------------- the null executor


@dataclass(frozen=True)
class NullExecutor(LocalExecutor):
    """Runs no kernel: writes a tiny executed notebook through the real output path."""

    def run(self, job):  # type: ignore[no-untyped-def]
        from evalkit.runtime.render_job import run_and_render

        def execute(job, work, timings):  # type: ignore[no-untyped-def]
            import nbformat

            nb = nbformat.v4.new_notebook()
            nb.cells.append(nbformat.v4.new_markdown_cell(f"{job.label}"))
            nbformat.write(nb, work)
            timings["cells"] = 0.0

        return run_and_render(job, execute)


# --------------------------------------------------------------------------- one scale


def count_manifest_saves() -> dict[str, int]:
    """Count ``Manifest.save`` calls (wraps the method in this process)."""
    from evalkit.planner.manifest import Manifest

    calls = {"n": 0}
    save = Manifest.save

    def counting(self):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return save(self)

    Manifest.save = counting  # type: ignore[method-assign]
    return calls


def run_one(n_schools: int, keep: Path | None) -> dict:
    import io

    from evalkit.planner.fingerprints import DataFingerprints
    from evalkit.planner.manifest import Manifest
    from evalkit.planner.plan import plan_year
    from evalkit.planner.run import run_batch
    from evalkit.planner.runfile import load_run_file
    from evalkit.planner.scores import score_run
    from evalkit.publish.scoreboard import write_scoreboard

    folder = keep or Path(tempfile.mkdtemp(prefix=f"bench-scale-{n_schools}-"))
    t = time.perf_counter()
    run_file = write_county(folder, n_schools)
    out: dict = {"schools": n_schools, "write_county_s": time.perf_counter() - t}
    spec = load_run_file(run_file)

    # the phases, one by one (as run_year does them)
    t = time.perf_counter()
    obs, results, grades = score_run(spec)
    out["score_s"] = time.perf_counter() - t
    year = results.years[-1]
    scratch = folder / "phases"
    t = time.perf_counter()
    results.save(scratch / "scores")
    out["save_scores_s"] = time.perf_counter() - t
    t = time.perf_counter()
    write_scoreboard(results, year, scratch / "scoreboard.xlsx", grades)
    out["scoreboard_s"] = time.perf_counter() - t
    t = time.perf_counter()
    fps = DataFingerprints(obs, results, year)
    out["fingerprints_init_s"] = time.perf_counter() - t
    t = time.perf_counter()
    plan = plan_year(spec, results, fps, year)
    out["plan_s"] = time.perf_counter() - t
    out["reports"] = len(plan.jobs)
    del obs, results, fps, plan  # the run below scores again; do not hold two copies
    import gc

    gc.collect()

    # the whole run with the null executor, then again with nothing to do
    saves = count_manifest_saves()
    t = time.perf_counter()
    report = run_batch(spec, executor=NullExecutor(), progress=True, out=io.StringIO())
    out["run_s"] = time.perf_counter() - t
    out["manifest_saves"] = saves["n"]
    assert report.count("done") == out["reports"], report.count("failed")
    manifest = Manifest.load(spec.output / str(year))
    out["manifest_mb"] = manifest.path.stat().st_size / 2**20
    t = time.perf_counter()
    report = run_batch(spec, executor=NullExecutor(), progress=False, out=io.StringIO())
    out["rerun_s"] = time.perf_counter() - t
    assert report.count("skipped") == out["reports"]

    # the manifest: rewrites in this run vs. the indented rewrite after every report of before
    from evalkit.io.atomic import atomic_write_text

    t = time.perf_counter()
    atomic_write_text(scratch / "old_manifest.json", json.dumps(manifest.data, ensure_ascii=False, indent=2) + "\n")
    out["old_rewrites_s"] = (time.perf_counter() - t) * out["reports"] / 2  # sizes grow from 0 to n
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    timings = [e["seconds"] for e in json.loads(manifest.path.read_text(encoding="utf-8"))["reports"].values()]
    out["job_s_mean"] = statistics.mean(timings)
    fixed = out["score_s"] + out["save_scores_s"] + out["scoreboard_s"]
    out["overhead_per_report_ms"] = 1000 * (out["run_s"] - fixed) / out["reports"]
    # (the scoreboard, unchanged, is not rewritten by the second run)
    out["rerun_per_report_ms"] = 1000 * (out["rerun_s"] - out["score_s"] - out["save_scores_s"]) / out["reports"]
    if keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def notebooks_at_scale(n_schools: int, k: int) -> dict:
    """The real ``evalkit run --formats ipynb --schools <first k>`` on an ``n_schools`` county."""
    sys.path.insert(0, str(HERE))
    from bench_batch import MemorySampler, become_subreaper, reap_orphans

    become_subreaper()
    folder = Path(tempfile.mkdtemp(prefix=f"bench-scale-nb-{n_schools}-"))
    run_file = write_county(folder, n_schools)
    ids = ",".join(f"{i:05d}" for i in range(1, k + 1))
    with MemorySampler() as mem:
        t = time.perf_counter()
        proc = subprocess.run([str(Path(sys.executable).parent / "evalkit"), "run", str(run_file), "--formats",
                               "ipynb", "--schools", ids, "--force"], capture_output=True, text=True)
        wall = time.perf_counter() - t
        reap_orphans()
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
    manifest = json.loads(next((folder / "out").glob("*/manifest.json")).read_text(encoding="utf-8"))
    entries = list(manifest["reports"].values())
    mean = {key: statistics.mean(e["timings"].get(key, 0.0) for e in entries)
            for key in ("kernel_wait", "cells", "execute")}
    shutil.rmtree(folder, ignore_errors=True)
    return {"schools": n_schools, "reports": len(entries), "wall_s": wall, "peak_pss_mb": mem.peak_pss / 2**20,
            "max_rss_mb": mem.max_rss / 2**20, **{f"{k}_mean_s": v for k, v in mean.items()},
            "report_s_mean": statistics.mean(e["seconds"] for e in entries)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[48, 480, 4800])
    parser.add_argument("--notebooks", type=int, default=0, help="also run K schools' real reports at the largest size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--nb-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.keep)))
        return 0
    if args.nb_one:
        print(json.dumps(notebooks_at_scale(args.nb_one, args.notebooks)))
        return 0

    print(f"load average {os.getloadavg()[0]:.2f}; CPUs {os.cpu_count()}", flush=True)
    header = (f"{'schools':>8}{'reports':>8}{'score':>7}{'save':>6}{'board':>7}{'fprint':>8}{'plan':>6}{'run':>7}"
              f"{'rerun':>7}{'ms/report':>10}{'rerun ms':>9}{'manifest MB':>12}{'rewrites':>9}{'old rewrites s':>15}"
              f"{'peak RSS MB':>12}")
    print("seconds per phase; ms/report = the run's own overhead per report (run − scoring, saving, scoreboard); "
          "rerun ms = the same for a second run with nothing to do; rewrites = manifest.json rewrites in the run; "
          "old rewrites s = rewriting it (indented) after every report, as before")
    print(header, flush=True)
    for n in args.sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        rss = max(r["peak_rss_mb"], r["worker_rss_mb"])
        print(f"{r['schools']:>8}{r['reports']:>8}{r['score_s']:>7.1f}{r['save_scores_s']:>6.1f}"
              f"{r['scoreboard_s']:>7.1f}{r['fingerprints_init_s']:>8.1f}{r['plan_s']:>6.1f}{r['run_s']:>7.1f}"
              f"{r['rerun_s']:>7.1f}{r['overhead_per_report_ms']:>10.1f}{r['rerun_per_report_ms']:>9.1f}"
              f"{r['manifest_mb']:>12.1f}{r['manifest_saves']:>9}{r['old_rewrites_s']:>15.0f}{rss:>12.0f}",
              flush=True)
    if args.notebooks:
        n = max(args.sizes)
        proc = subprocess.run([sys.executable, __file__, "--nb-one", str(n), "--notebooks", str(args.notebooks)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 1
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"\nreal notebooks at {n} schools: evalkit run --formats ipynb --schools <first {args.notebooks}>: "
              f"{r['reports']} reports in {r['wall_s']:.1f} s (scoring included); "
              f"per report {r['report_s_mean']:.2f} s "
              f"(cells {r['cells_mean_s']:.2f} s, waiting for a kernel {r['kernel_wait_mean_s']:.2f} s); "
              f"peak PSS of all processes {r['peak_pss_mb']:.0f} MB, largest process {r['max_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
