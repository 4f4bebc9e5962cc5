"""Benchmark: a county's reports with a plain shell-style loop versus ``evalkit run``.

On the demo county's latest year (every school's report and — because the default run makes
them — every school's trend report, plus the county summary), this times, one after the other:

(a) **the plain loop**, as a shell script would do it, one report at a time: the scores are
    computed once up front (``Results.save``) and passed to every notebook through its
    ``scores`` parameter, so no notebook rescores; then per report ``papermill`` (command line),
    ``jupyter nbconvert --to html --no-input`` and ``weasyprint`` (command line) on that HTML.
    nbconvert's own ``--to pdf`` needs LaTeX, which is not installed here, and ``--to webpdf``
    needs a Chromium download, which is not possible here, so the PDF comes from the HTML with
    WeasyPrint's command line — the same engine ``evalkit run`` uses;
(b) **``evalkit run``** with its defaults (one job per CPU core; formats ipynb, html, pdf) on a copy of
    ``params/demo.yaml`` writing to a fresh folder, with ``--force``.

Both must produce the same reports: for every report, the ``data-*`` markers the notebooks embed
in their HTML (total, grade, rank, veto, school id, year, tables, notes, data fingerprint; see
docs/reports.md) must be the same in (a)'s and (b)'s HTML, and each PDF must exist.

Printed: wall time, CPU time (this process and all its descendants: ``RUSAGE_CHILDREN`` +
``RUSAGE_SELF``; on Linux the benchmark makes itself a *child subreaper*, so processes orphaned
on the way, such as multiprocessing's fork server, are reaped here and counted), peak memory
(the sum of the proportional set size, PSS, of all descendants — shared pages counted once —,
sampled every 0.25 s, and the largest RSS of a single process) for each, the ratios plain /
evalkit, the plain loop's cost per step, and ``evalkit run``'s per-report cost broken down from the timings in its
``manifest.json`` (kernel start — in the background —, waiting for the kernel, notebook cells,
HTML, PDF, the rest).

    .venv/bin/python benchmarks/bench_batch.py                 # the whole demo county (~15 min)
    .venv/bin/python benchmarks/bench_batch.py --schools 4     # the first 4 schools (no county summary)
    .venv/bin/python benchmarks/bench_batch.py --skip-plain    # only evalkit run

Run it on a quiet machine (the load average is printed first). Target (issue "Speed: a county's
reports in seconds, not minutes"): plain / evalkit ≥ 8× on 2 cores with identical reports.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MARKER = re.compile(
    r'data-(school-id|year|total|grade|rank|veto|n-schools|table|note|data-fingerprint)="([^"]*)"'
)
STEM = {"school_report": "报告", "school_trend": "趋势"}


# --------------------------------------------------------------------------- measuring


def become_subreaper() -> bool:
    """Make orphaned descendants ours (Linux ``PR_SET_CHILD_SUBREAPER``), so that their CPU time
    is counted in ``RUSAGE_CHILDREN`` when we reap them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_orphans(timeout: float = 30) -> None:
    """Wait for every descendant that was re-parented to us."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


class MemorySampler:
    """Peak of the summed PSS of all descendants, and the largest single RSS (sampled in a thread)."""

    def __init__(self, interval: float = 0.25):
        import psutil

        self.psutil = psutil
        self.interval = interval
        self.peak_pss = 0
        self.max_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = self.psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in me.children(recursive=True):
                try:
                    info = p.memory_full_info()
                except (self.psutil.Error, AttributeError):
                    continue
                total += info.pss
                self.max_rss = max(self.max_rss, info.rss)
            self.peak_pss = max(self.peak_pss, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Measure:
    """Wall, CPU (self + children) and memory of a block."""

    def __enter__(self) -> Measure:
        self.sampler = MemorySampler().__enter__()
        self.t0 = time.monotonic()
        self.self0 = resource.getrusage(resource.RUSAGE_SELF)
        self.children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc: object) -> None:
        reap_orphans()
        self.wall = time.monotonic() - self.t0
        s1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (s1.ru_utime - self.self0.ru_utime + s1.ru_stime - self.self0.ru_stime
                    + c1.ru_utime - self.children0.ru_utime + c1.ru_stime - self.children0.ru_stime)
        self.sampler.__exit__()
        self.peak_pss_mb = self.sampler.peak_pss / 2**20
        self.max_rss_mb = self.sampler.max_rss / 2**20


# --------------------------------------------------------------------------- the reports


def plan_reports(run_file: Path, n_schools: int | None) -> tuple[int, list[dict], dict]:
    """(year, reports, notebook parameters common to all) as ``evalkit run`` would plan them."""
    from evalkit.planner.runfile import load_run_file
    from evalkit.planner.scores import score_run

    spec = load_run_file(run_file)
    _, results, _ = score_run(spec)
    year = results.years[-1]
    table = results.schools
    this_year = sorted(table.loc[table["year"] == year, "school_id"].astype(str))
    schools = this_year[:n_schools] if n_schools else this_year
    n_years = table[table["year"] <= year].groupby(table["school_id"].astype(str))["year"].nunique()
    reports = [] if n_schools else [{"kind": "county_summary", "school_id": ""}]
    for sid in schools:
        reports.append({"kind": "school_report", "school_id": sid})
        if "school_trend" in spec.notebooks and n_years.get(sid, 0) >= 2:
            reports.append({"kind": "school_trend", "school_id": sid})
    common = {
        "year": int(year),
        "data": ",".join(str(p) for p in spec.data),
        "framework": spec.framework,
        "registry": str(spec.registry) if spec.registry else "",
        "intake_notes": spec.intake_notes,
    }
    return int(year), reports, {"common": common, "notebooks": {k: str(v) for k, v in spec.notebooks.items()},
                                "schools": schools}


def report_stem(report: dict, year: int) -> str:
    if report["kind"] == "county_summary":
        return f"全县汇总_{year}"
    return f"{report['school_id']}_{year}_{STEM[report['kind']]}"


def evalkit_html(folder: Path, report: dict, year: int) -> Path:
    sub = folder / str(year) / ("county" if report["kind"] == "county_summary" else f"schools/{report['school_id']}")
    return sub / f"{report_stem(report, year)}.html"


def run(cmd: list[str], **kwargs: object) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")


def plain_loop(work: Path, year: int, reports: list[dict], info: dict, run_file: Path) -> dict[str, list[float]]:
    """(a): score once, then papermill → nbconvert → weasyprint per report, sequentially."""
    scores = work / "scores"
    run([str(BIN / "python"), "-c",
         "import sys; from evalkit.planner.scores import score_run; from evalkit.planner.runfile import load_run_file; "
         "score_run(load_run_file(sys.argv[1]))[1].save(sys.argv[2])", str(run_file), str(scores)])
    steps: dict[str, list[float]] = {"papermill": [], "nbconvert": [], "weasyprint": []}
    for report in reports:
        notebook = Path(info["notebooks"][report["kind"]])
        out = work / "reports" / report_stem(report, year)
        out.parent.mkdir(parents=True, exist_ok=True)
        params = {**info["common"], "scores": str(scores), "school_id": report["school_id"]}
        args = []
        for name, value in params.items():
            args += ["-p", name, str(value)] if name == "year" else ["-r", name, str(value)]
        t = time.monotonic()
        run([str(BIN / "papermill"), str(notebook), f"{out}.ipynb", *args, "--cwd", str(notebook.parent)])
        steps["papermill"].append(time.monotonic() - t)
        t = time.monotonic()
        run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", f"{out}.ipynb"])
        steps["nbconvert"].append(time.monotonic() - t)
        t = time.monotonic()
        run([str(BIN / "weasyprint"), f"{out}.html", f"{out}.pdf"])
        steps["weasyprint"].append(time.monotonic() - t)
    return steps


def evalkit_run(work: Path, run_file: Path, schools: list[str] | None) -> None:
    """(b): ``evalkit run`` with its defaults on a copy of the run file, into ``work``."""
    text = run_file.read_text(encoding="utf-8")
    copy = work / "run.yaml"
    base = run_file.parent.resolve()
    text = re.sub(r"(?m)^(\s*(?:-|[a-z_]+:)\s*)(\.\./\S+)", lambda m: m.group(1) + str((base / m.group(2)).resolve()),
                  text)
    text = re.sub(r"(?m)^output:.*$", f"output: {work / 'out'}", text)
    copy.write_text(text, encoding="utf-8")
    # the formats the plain loop makes (the demo also writes .docx: benchmarks/bench_docx.py times it)
    cmd = [str(BIN / "evalkit"), "run", str(copy), "--force", "--formats", "ipynb,html,pdf"]
    if schools:
        cmd += ["--schools", ",".join(schools)]
    with open(work / "evalkit.log", "w", encoding="utf-8") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"evalkit run failed ({proc.returncode}); see {work / 'evalkit.log'}")


def markers(html: Path) -> Counter[tuple[str, str]]:
    return Counter(MARKER.findall(html.read_text(encoding="utf-8")))


def compare(plain: Path, evalkit: Path, year: int, reports: list[dict]) -> list[str]:
    """Problems: reports whose markers differ, or whose HTML/PDF is missing."""
    problems = []
    for report in reports:
        a = plain / "reports" / f"{report_stem(report, year)}.html"
        b = evalkit_html(evalkit / "out", report, year)
        if not (a.is_file() and b.is_file() and a.with_suffix(".pdf").is_file() and b.with_suffix(".pdf").is_file()):
            problems.append(f"{report_stem(report, year)}: missing output")
            continue
        ma, mb = markers(a), markers(b)
        if ma != mb or not ma:
            problems.append(f"{report_stem(report, year)}: markers differ: {sorted((ma - mb) + (mb - ma))[:6]}")
        if report["kind"] == "school_report":
            head = [dict(MARKER.findall(m)) for m in re.findall(r'<div class="ekr-headline"[^>]*>', b.read_text())]
            if not head or not head[0].get("total") or not head[0].get("grade"):
                problems.append(f"{report_stem(report, year)}: no total/grade in the headline")
    return problems


# --------------------------------------------------------------------------- breakdown


def breakdown(manifest: Path) -> list[tuple[str, int, dict[str, float]]]:
    """Mean seconds per report and kind from ``manifest.json`` timings."""
    entries = json.loads(manifest.read_text(encoding="utf-8"))["reports"].values()
    rows = []
    for kind in ("school_report", "school_trend", "county_summary", "all"):
        es = [e for e in entries if kind in ("all", e["kind"]) and e.get("status") == "done"]
        if not es:
            continue
        mean = {k: statistics.mean(e["timings"].get(k, 0.0) for e in es)
                for k in ("kernel_start", "kernel_wait", "cells", "html", "pdf", "execute", "write")}
        seconds = statistics.mean(e["seconds"] for e in es)
        mean["other"] = seconds - mean["kernel_wait"] - mean["cells"] - mean["html"] - mean["pdf"]
        mean["total"] = seconds
        mean["sum"] = sum(e["seconds"] for e in es)
        rows.append((kind, len(es), mean))
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, help="only the first N schools (no county summary)")
    parser.add_argument("--run-file", type=Path, default=ROOT / "params" / "demo.yaml")
    parser.add_argument("--workdir", type=Path, help="keep the outputs here (default: a temporary folder)")
    parser.add_argument("--skip-plain", action="store_true", help="time only evalkit run")
    args = parser.parse_args(argv)

    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"CPUs: {os.cpu_count()}; subreaper: {become_subreaper()}", flush=True)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    shutil.rmtree(work, ignore_errors=True)
    (work / "plain").mkdir(parents=True)
    (work / "evalkit").mkdir(parents=True)
    year, reports, info = plan_reports(args.run_file, args.schools)
    kinds = Counter(r["kind"] for r in reports)
    print(f"{year}: {len(reports)} reports ({', '.join(f'{k} {n}' for k, n in kinds.items())}), "
          f"ipynb + html + pdf each; outputs in {work}", flush=True)

    with Measure() as ev:
        evalkit_run(work / "evalkit", args.run_file, info["schools"] if args.schools else None)
    print(f"evalkit run: {ev.wall:.1f} s", flush=True)
    plain = None
    if not args.skip_plain:
        with Measure() as plain:
            steps = plain_loop(work / "plain", year, reports, info, args.run_file)
        print(f"plain loop: {plain.wall:.1f} s", flush=True)
        problems = compare(work / "plain", work / "evalkit", year, reports)
        print(f"same reports: {'yes' if not problems else 'NO'} ({len(reports) - len(problems)}/{len(reports)} "
              "with identical total, grade, rank and every other data-* marker)")
        for p in problems[:20]:
            print("  ", p)

    print()
    print(f"{'':<22}{'wall s':>9}{'CPU s':>9}{'peak PSS MB':>13}{'max RSS MB':>12}")
    rows = [("plain loop", plain)] if plain else []
    rows.append(("evalkit run", ev))
    for name, m in rows:
        print(f"{name:<22}{m.wall:>9.1f}{m.cpu:>9.1f}{m.peak_pss_mb:>13.0f}{m.max_rss_mb:>12.0f}")
    if plain:
        print(f"{'ratio plain/evalkit':<22}{plain.wall / ev.wall:>8.1f}×{plain.cpu / ev.cpu:>8.1f}×"
              f"{plain.peak_pss_mb / ev.peak_pss_mb:>12.1f}×")
        print()
        print("plain loop, mean seconds per report: "
              + ", ".join(f"{k} {statistics.mean(v):.2f}" for k, v in steps.items()))
    print()
    print("evalkit run, mean seconds per report (from manifest.json timings; kernel start runs in the "
          "background while the previous report executes):")
    print(f"{'':<16}{'n':>4}{'kernel start':>14}{'wait kernel':>13}{'cells':>8}{'HTML':>7}{'PDF':>7}{'other':>7}"
          f"{'total':>8}{'sum':>8}")
    for kind, n, b in breakdown(work / "evalkit" / "out" / str(year) / "manifest.json"):
        print(f"{kind:<16}{n:>4}{b['kernel_start']:>14.2f}{b['kernel_wait']:>13.2f}{b['cells']:>8.2f}"
              f"{b['html']:>7.2f}{b['pdf']:>7.2f}{b['other']:>7.2f}{b['total']:>8.2f}{b['sum']:>8.1f}")
    print(f"(sum = worker seconds; {os.cpu_count()} workers; wall {ev.wall:.1f} s includes scoring, scoreboard, "
          "planning and worker start)")
    if plain and problems:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
