"""Reports on Dask: throughput with ``dask-local:1`` vs ``dask-local:2`` and the Dask executor's
overhead against the local kernel pool at the same worker count, on a synthetic city subset.

    .venv/bin/python benchmarks/bench_cluster.py [--reports 200] [--formats html] [--repeat 3] [--control]
    .venv/bin/python benchmarks/bench_cluster.py --full --only "local ×2,dask-local:2" --timeline

A seeded synthetic city (``evalkit.demo.city``, seed 20240901) cut to whole counties until at
least ``--reports`` school reports (school reports only, HTML by default; no county or region
summary); with ``--full`` the whole city of ``evalkit demo generate --city 8`` (``--counties``)
with its county summaries and region summary. ``--only`` runs some configurations; ``--timeline``
prints, per run, where the workers waited (:func:`timeline`). Each configuration runs the same
run file into a fresh output folder, in a fresh process (``evalkit run --cluster …``); the time
counted is the run's wall time minus its scoring
(printed by the run itself as 评分完成（x 秒）per county) — i.e. planning, executing, rendering and
writing the reports. With ``--repeat N`` the three configurations run in turn N times (so a
drift of the machine touches all three alike) and each time is the median of its N runs. Then:

- scaling = throughput(dask-local:2) / (2 × throughput(dask-local:1))   (target ≥ 0.85)
- overhead = time(dask-local:2) / time(local, jobs 2) − 1                (target ≤ 10 %)
- with ``--control``, also ``local ×1``: the same scaling for the local kernel pool, the ceiling
  this machine sets without Dask (a single worker's report leaves the second core to its next
  kernel's start, the client and the operating system; two workers have no core to spare);
- busy = (sum of the reports' own seconds, from every county's ``manifest.json``) / (workers ×
  wall time), for the whole run (scoring included) and for its reports' part (wall time minus
  scoring): how much of the time the workers were running a report rather than waiting — for the
  last county's reports, for the driver, or between counties (issue 22: ≥ 90 %);
- per-report cost = 2 × time(dask-local:2) / reports (worker-seconds), and a projection for a
  province of 10,000 schools (20,000 reports: a report and a trend per school) on 8, 32 and 128
  worker cores, assuming the measured 2-core scaling holds (it is an upper bound on efficiency).

Run it on an otherwise idle machine: every configuration is timed by wall clock. Measured on
2026-12-01 on the idle 2-core VM with ``--repeat 3`` (commit 3be53e2), 205 reports (html):
local ×2 232.7 s, dask-local:1 400.0 s, dask-local:2 245.2 s: scaling 0.82, overhead +5.4 %;
local ×1 386.9 s (one run), so the local pool's own scaling is 0.83 (see ``docs/cluster.md``,
"Sizing").
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVALKIT = Path(sys.executable).parent / "evalkit"


def make_city(folder: Path, reports: int, formats: str, full: bool = False, counties: int = 8) -> tuple[Path, int]:
    """The city's run file and its number of school reports: cut to whole counties until at least
    ``reports`` without county or region summaries, or with ``full`` the whole city exactly as
    ``evalkit demo generate --city 8`` writes it (``counties``: 8) (every county, their county summaries and the
    region summary; years 2023 and 2024, the run's year 2024), only the formats set."""
    from evalkit.demo.city import generate_city

    if full:
        run_file = generate_city(folder, counties=counties, notebooks=ROOT / "notebooks")
        text = run_file.read_text(encoding="utf-8").replace("[ipynb, html]", f"[{formats}]")
        run_file.write_text(text, encoding="utf-8")
        n = sum(sum(1 for _ in open(p, encoding="utf-8")) - 1 for p in folder.glob("*/registry.csv"))
        return run_file, n
    run_file = generate_city(folder, counties=8, years=(2024,), notebooks=ROOT / "notebooks")
    text = run_file.read_text(encoding="utf-8")
    head, _, rest = text.partition("counties:\n")
    blocks = re.split(r"(?m)^(?=  - name: )", rest)
    kept, n = [], 0
    for block in blocks:
        if not block.strip():
            continue
        name = re.search(r"name: (\S+)", block).group(1)  # type: ignore[union-attr]
        n += sum(1 for _ in open(folder / name / "registry.csv", encoding="utf-8")) - 1
        kept.append(block)
        if n >= reports:
            break
    head = re.sub(r"  (county|region)_summary: .*\n", "", head).replace("[ipynb, html]", f"[{formats}]")
    run_file.write_text(head + "counties:\n" + "".join(kept), encoding="utf-8")
    return run_file, n


def run_once(run_file: Path, cluster: str, jobs: int, output: Path) -> float:
    """Seconds spent on the reports (wall time minus scoring) of one fresh ``evalkit run``; the
    workers' busy fractions are added to :data:`BUSY` under ``(cluster, jobs)``."""
    text = run_file.read_text(encoding="utf-8").replace("output: outputs", f"output: {output}")
    rf = run_file.with_name(f"run-{output.name}.yaml")
    rf.write_text(text, encoding="utf-8")
    t0, e0 = time.monotonic(), time.time()
    proc = subprocess.run([str(EVALKIT), "run", str(rf), "--cluster", cluster, "--jobs", str(jobs)],
                          capture_output=True, text=True)
    wall, e1 = time.monotonic() - t0, time.time()
    if proc.returncode != 0:
        raise SystemExit(f"{cluster}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    scoring = _scoring_seconds(proc.stdout)  # printed per county by the region runner
    busy = job_seconds(output)
    BUSY.setdefault((cluster, jobs), []).append((busy / (jobs * wall), busy / (jobs * (wall - scoring))))
    if TIMELINE:
        print(f"--- {cluster} ×{jobs}: where the workers waited")
        print(timeline(output, e0, e1, jobs, proc.stdout))
    return wall - scoring


TIMELINE = False
"""``--timeline``: print each run's idle phases (:func:`timeline`)."""


def intervals(output: Path) -> list[tuple[float, float, str, str]]:
    """Every report run under ``output``: (start, end) as epoch seconds, kind and county folder,
    from each ``manifest.json`` (``finished`` is to the second; start = finished − seconds)."""
    import json
    from datetime import datetime

    found = []
    for manifest in output.rglob("manifest.json"):
        for entry in json.loads(manifest.read_text(encoding="utf-8")).get("reports", {}).values():
            if entry.get("last_run") == "skipped" or not entry.get("finished"):
                continue
            end = datetime.fromisoformat(entry["finished"]).timestamp()
            found.append((end - float(entry.get("seconds") or 0.0), end, entry["kind"], manifest.parent.name))
    return sorted(found)


def timeline(output: Path, start: float, end: float, workers: int, stdout: str = "") -> str:
    """Where ``workers`` were not all running a report between ``start`` and ``end`` (epoch
    seconds of the run's process): the idle worker-seconds before the first report (scoring,
    opening the counties, the cluster's start), between the first report and the last one's
    start (workers waiting for jobs: e.g. for a county still being scored), in the batch's tail
    (after the last report started) and after the last report (closing, a region summary run
    afterwards); plus when the region summary ran. Sampled every 0.1 s; a report's times are
    known to the second (manifests), so phases shorter than that are blurred: two reports
    following each other on a worker seem apart by 1/6 s on average, so 'during the batch' is
    overstated by about that much per report; the total idle (workers × wall − Σ seconds) is
    exact."""
    runs = intervals(output)
    if not runs:
        return "(no report ran)"
    step = 0.1
    first, last_start, last_end = runs[0][0], max(r[0] for r in runs), max(r[1] for r in runs)
    idle = {"before the first report": 0.0, "during the batch": 0.0, "tail (after the last start)": 0.0,
            "after the last report": 0.0}
    t = start
    while t < end:
        busy = sum(1 for s, e, _, _ in runs if s <= t < e)
        lack = max(0, workers - busy) * step
        phase = ("before the first report" if t < first else "during the batch" if t < last_start
                 else "tail (after the last start)" if t < last_end else "after the last report")
        idle[phase] += lack
        t += step
    total = workers * (end - start)
    work = sum(e - s for s, e, _, _ in runs)
    lines = [f"wall {end - start:.1f} s × {workers} workers = {total:.1f} worker-s; reports {work:.1f} s "
             f"({len(runs)} runs): idle {total - work:.1f} worker-s ({(total - work) / total:.1%}), of which"
             " (sampled; each report's start is only known to ±1 s, which alone adds about 1/6 s per report"
             " to 'during the batch'):"]
    for phase, seconds in idle.items():
        lines.append(f"  idle {phase:28s} {seconds:7.1f} worker-s ({seconds / total:.1%})")
    lines.append(f"  first report starts at {first - start:.1f} s; last starts at {last_start - start:.1f} s, "
                 f"ends at {last_end - start:.1f} s; run ends at {end - start:.1f} s")
    scoring = _scoring_seconds(stdout)
    if scoring:
        lines.append(f"  scoring (printed by the run): {scoring:.1f} s")
    for s, e, kind, county in runs:
        if kind in ("region_summary", "county_summary", "framework_audit"):
            lines.append(f"  {kind:15s} {county:8s} {s - start:7.1f} → {e - start:7.1f} s")
    return "\n".join(lines)


BUSY: dict[tuple[str, int], list[tuple[float, float]]] = {}
"""(busy fraction of the whole run, of its reports' part) per configuration and run."""


def job_seconds(output: Path) -> float:
    """The sum of the seconds of every report run, from every ``manifest.json`` under ``output``
    (each report's ``seconds``: from taking it to its files written, on its worker)."""
    import json

    total = 0.0
    for manifest in output.rglob("manifest.json"):
        for entry in json.loads(manifest.read_text(encoding="utf-8")).get("reports", {}).values():
            if entry.get("last_run") != "skipped":
                total += float(entry.get("seconds") or 0.0)
    return total


def _scoring_seconds(stdout: str) -> float:
    return sum(float(x) for x in re.findall(r"评分完成（([\d.]+) 秒）", stdout))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=200)
    ap.add_argument("--formats", default="html")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--control", action="store_true", help="also local ×1: the local pool's own scaling")
    ap.add_argument("--full", action="store_true",
                    help="the whole city of `evalkit demo generate --city 8` (county and region summaries)")
    ap.add_argument("--counties", type=int, default=8, help="with --full: the city's number of counties")
    ap.add_argument("--only", help="comma-separated configurations to run (e.g. 'local ×2,dask-local:2')")
    ap.add_argument("--timeline", action="store_true", help="print where each run's workers waited")
    args = ap.parse_args()
    global TIMELINE
    TIMELINE = args.timeline
    configs = (("local ×2", "local", 2), ("dask-local:1", "dask-local:1", 1), ("dask-local:2", "dask-local:2", 2))
    if args.control:
        configs = (("local ×1", "local", 1), *configs)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",")]
        configs = tuple(c for c in configs if c[0] in wanted)
    runs: dict[str, list[float]] = {label: [] for label, _, _ in configs}
    with tempfile.TemporaryDirectory(prefix="evalkit-bench-cluster-") as tmp:
        folder = Path(tmp)
        run_file, n = make_city(folder, args.reports, args.formats, args.full, args.counties)
        for k in range(args.repeat):
            for label, cluster, jobs in configs:
                out = folder / f"{label.replace(' ', '').replace(':', '')}-{k}"
                runs[label].append(run_once(run_file, cluster, jobs, out))
                shutil.rmtree(out)
                print(f"run {k + 1}/{args.repeat}  {label:14s} {n} reports  {runs[label][-1]:7.1f} s", flush=True)
    times = {label: statistics.median(t) for label, t in runs.items()}
    print()
    for label, t in times.items():
        print(f"{label:14s} {n} reports  median {t:7.1f} s  {n / t:.2f} reports/s  (runs: "
              + ", ".join(f"{x:.1f}" for x in runs[label]) + ")")
    print()
    for label, cluster, jobs in configs:
        whole, part = zip(*BUSY[(cluster, jobs)], strict=True)
        print(f"{label:14s} workers busy {statistics.median(whole):.1%} of the run's wall time, "
              f"{statistics.median(part):.1%} of its reports' part (target ≥ 90 %)")
    if not {"dask-local:1", "dask-local:2", "local ×2"} <= set(times):
        return  # scaling and overhead need all three
    t1, t2, tl = times["dask-local:1"], times["dask-local:2"], times["local ×2"]
    scaling = (n / t2) / (2 * n / t1)
    overhead = t2 / tl - 1
    cost = 2 * t2 / n
    print()
    print(f"scaling dask-local:2 vs 2 × dask-local:1: {scaling:.2f} of linear (target ≥ 0.85)")
    if "local ×1" in times:
        control = (n / tl) / (2 * n / times["local ×1"])
        print(f"scaling local ×2 vs 2 × local ×1:         {control:.2f} of linear (the machine's ceiling)")
    print(f"Dask overhead vs local at 2 workers:     {overhead:+.1%} (target ≤ +10 %)")
    print(f"per-report cost (worker-seconds):         {cost:.2f} s ({args.formats})")
    print()
    print("projection: 10,000 schools = 20,000 reports (report + trend), same per-report cost")
    print(f"{'worker cores':>14s} {'hours':>8s}")
    for cores in (8, 32, 128):
        hours = 20000 * cost / (cores * min(1.0, scaling)) / 3600
        print(f"{cores:>14d} {hours:8.2f}")


if __name__ == "__main__":
    main()
