"""Benchmark: a county's reports with a plain shell-style loop versus ``evalkit run``.

On the demo county's latest year — every report ``evalkit run`` makes for it: each school's report,
each school's trend report, the county summary and the framework audit, planned by evalkit's own
planner (:func:`evalkit.planner.plan.plan_year`, so the same reports with the same parameters,
``issuer`` and ``show_rater_marks`` included) — this times, one after the other:

(a) **the plain loop**, as a shell script would do it, one report at a time: the scores are
    computed once up front, with the year's robustness tables (Monte Carlo rank intervals and
    the rater marks the audit reads: :func:`evalkit.planner.scores.add_robustness`, as
    ``evalkit run`` does) and saved (``Results.save``); every notebook gets them through its
    ``scores`` parameter, so no notebook rescores; then per report ``papermill`` (command line,
    the job's parameters from a YAML file), ``jupyter nbconvert --to html --no-input`` and
    ``weasyprint`` (command line) on that HTML. nbconvert's own ``--to pdf`` needs LaTeX, which
    is not installed here, and ``--to webpdf`` needs a Chromium download, which is not possible
    here, so the PDF comes from the HTML with WeasyPrint's command line — the same engine
    ``evalkit run`` uses;
(b) **``evalkit run``** with its defaults (one job per CPU core; formats ipynb, html, pdf) on a copy of
    ``params/demo.yaml`` writing to a fresh folder, with ``--force`` (it also writes the
    scoreboard, the 通报 and the 公示名单, which the plain loop does not: extra work on its side),
    ``--evalkit-runs`` times (3 by default): once before the plain loop and the others after it,
    each into its own fresh folder. The ratio is taken against the median of these runs. The
    machine's speed drifts by up to a third within the hour (docs/benchmarks.md); a 50-second run
    samples one moment of that drift, while the 13-minute plain loop averages over it, so the
    ratio to a single evalkit run would measure the drift as much as evalkit.

Both must produce the same reports, or no ratio is printed (exit status 1): for every report,
the executed notebooks of (a) and (b) must have the same ``data-*`` markers in the same order
(every one the notebooks emit: total, grade, rank, rank interval, grade probability, veto,
school id, year, tables, notes, issuer, fingerprints, versions; see docs/reports.md), the same
charts (by name) and the same text in every HTML and text output (the two lines stating when the
scores and the report were made excepted), and both PDFs must exist.

Printed: wall time, CPU time (this process and all its descendants: ``RUSAGE_CHILDREN`` +
``RUSAGE_SELF``; on Linux the benchmark makes itself a *child subreaper*, so processes orphaned
on the way, such as multiprocessing's fork server, are reaped here and counted), peak memory
(the sum of the proportional set size, PSS, of all descendants — shared pages counted once —,
sampled every ``--memory-interval`` seconds, 1 by default, and the largest RSS of a single
process) for each, the ratios plain /
evalkit, the plain loop's cost per step, and ``evalkit run``'s per-report cost broken down from the timings in its
``manifest.json`` (kernel start — in the background —, waiting for the kernel, notebook cells,
HTML, PDF, the rest).

    .venv/bin/python benchmarks/bench_batch.py                 # the whole demo county (~16 min)
    .venv/bin/python benchmarks/bench_batch.py --schools 4     # the first 4 schools (no county summary)
    .venv/bin/python benchmarks/bench_batch.py --skip-plain    # only evalkit run (3 times)
    .venv/bin/python benchmarks/bench_batch.py --skip-plain --evalkit-runs 1

Run it on a quiet machine (the load average is printed first). Target (issue 22, "a county's four
formats in a minute"): plain / evalkit ≥ 15× on 2 cores with identical reports, and ≤ 1.0
worker-second per report for ipynb + html + pdf.
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
MARKER = re.compile(r'data-([\w-]+)="([^"]*)"')
TEMPLATE_MARKERS = {"mime-type"}  # nbconvert's own, not the notebooks'
MADE_AT = re.compile(r"(评分时间|报告生成时间)：[^<\n]*")  # when the scores / the report were made
TAG = re.compile(r"<style\b.*?</style>|<[^>]+>", re.DOTALL)  # tags, and style sheets (not text)
SPACE = re.compile(r"\s+")


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
    """Peak of the summed PSS of all descendants, and the largest single RSS (sampled in a thread).

    Sampling is not free: the kernel walks every page table of a process to sum its PSS
    (``/proc/PID/smaps_rollup``), and one pass over an ``evalkit run``'s processes (about 11, the
    kernel templates at ~500 MB each) takes about 14 ms of CPU (measured on the demo county while
    it ran, 20 passes). Every 0.25 s that was 5.6 % of a core taken from the run it measures on
    a 2-core machine; every second it is 1.4 %. The runs' memory holds a plateau for tens of
    seconds (the templates and workers live for the whole run), so a one-second period finds
    the same peak."""

    def __init__(self, interval: float = 1.0):
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

    def __init__(self, interval: float = 1.0):
        self.interval = interval

    def __enter__(self) -> Measure:
        self.sampler = MemorySampler(self.interval).__enter__()
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


def plan_reports(run_file: Path, n_schools: int | None) -> tuple[int, list[dict], list[str] | None]:
    """(year, reports, schools) as ``evalkit run`` plans them (:func:`evalkit.planner.plan.plan_year`
    on the run file's data, scored with the year's robustness tables): each report's ``kind``,
    ``stem``, ``folder`` (under the year's folder), ``notebook`` and ``parameters``."""
    from evalkit.planner.fingerprints import DataFingerprints
    from evalkit.planner.plan import plan_year
    from evalkit.planner.runfile import load_run_file
    from evalkit.planner.scores import add_robustness, score_run

    spec = load_run_file(run_file)
    obs, results, _ = score_run(spec)
    year = int(results.years[-1])
    add_robustness(spec, obs, results, year)
    this_year = sorted(results.schools.loc[results.schools["year"] == year, "school_id"].astype(str))
    schools = this_year[:n_schools] if n_schools else None
    plan = plan_year(spec, results, DataFingerprints(obs, results, year), year, schools=schools)
    reports = []
    for job in plan.jobs:
        if job.refused:
            raise SystemExit(f"{job.key}: {job.refused}")
        html = Path(job.outputs["html"])
        reports.append({"kind": job.kind, "school_id": job.school_id, "stem": html.stem,
                        "folder": str(html.parent.relative_to(plan.folder)), "notebook": str(job.notebook),
                        "parameters": dict(job.parameters)})
    return year, reports, schools


def evalkit_html(folder: Path, report: dict, year: int) -> Path:
    return folder / str(year) / report["folder"] / f"{report['stem']}.html"


def run(cmd: list[str], **kwargs: object) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")


SCORE = (
    "import sys; from evalkit.planner.runfile import load_run_file; "
    "from evalkit.planner.scores import add_robustness, score_run; "
    "spec = load_run_file(sys.argv[1]); obs, results, _ = score_run(spec); "
    "add_robustness(spec, obs, results, int(sys.argv[3])); results.save(sys.argv[2])"
)
"""The plain loop's scoring: the run's data scored once, with the year's robustness tables."""


def plain_loop(work: Path, year: int, reports: list[dict], run_file: Path) -> dict[str, list[float]]:
    """(a): score once (with robustness), then papermill → nbconvert → weasyprint per report,
    sequentially, each report with the parameters ``evalkit run`` gives it (but these scores)."""
    import yaml

    scores = work / "scores"
    run([str(BIN / "python"), "-c", SCORE, str(run_file), str(scores), str(year)])
    steps: dict[str, list[float]] = {"papermill": [], "nbconvert": [], "weasyprint": []}
    for report in reports:
        notebook = Path(report["notebook"])
        out = work / "reports" / report["stem"]
        out.parent.mkdir(parents=True, exist_ok=True)
        params = work / "reports" / f"{report['stem']}.params.yaml"
        params.write_text(yaml.safe_dump({**report["parameters"], "scores": str(scores)}, allow_unicode=True),
                          encoding="utf-8")
        t = time.monotonic()
        run([str(BIN / "papermill"), str(notebook), f"{out}.ipynb", "-f", str(params), "--cwd", str(notebook.parent)])
        steps["papermill"].append(time.monotonic() - t)
        t = time.monotonic()
        run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", f"{out}.ipynb"])
        steps["nbconvert"].append(time.monotonic() - t)
        t = time.monotonic()
        run([str(BIN / "weasyprint"), f"{out}.html", f"{out}.pdf"])
        steps["weasyprint"].append(time.monotonic() - t)
    return steps


def run_file_copy(run_file: Path, work: Path) -> Path:
    """``work/run.yaml``: the run file with its ``../`` paths made absolute and its output
    ``work/out``."""
    base = run_file.parent.resolve()
    text = re.sub(r"(?m)^(\s*(?:-|[a-z_]+:)\s*)(\.\./\S+)", lambda m: m.group(1) + str((base / m.group(2)).resolve()),
                  run_file.read_text(encoding="utf-8"))
    text = re.sub(r"(?m)^output:.*$", f"output: {work / 'out'}", text)
    copy = work / "run.yaml"
    copy.write_text(text, encoding="utf-8")
    return copy


def evalkit_run(work: Path, run_file: Path, schools: list[str] | None) -> None:
    """(b): ``evalkit run`` with its defaults on a copy of the run file, into ``work``."""
    copy = run_file_copy(run_file, work)
    # the formats the plain loop makes (the demo also writes .docx: benchmarks/bench_docx.py times it)
    cmd = [str(BIN / "evalkit"), "run", str(copy), "--force", "--formats", "ipynb,html,pdf"]
    if schools:
        cmd += ["--schools", ",".join(schools)]
    with open(work / "evalkit.log", "w", encoding="utf-8") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"evalkit run failed ({proc.returncode}); see {work / 'evalkit.log'}")


def content(ipynb: Path) -> dict[str, list]:
    """What a reader sees of an executed report: every ``data-*`` marker of its HTML outputs in
    order, its charts by name, and the text of its HTML and text outputs (tags and style sheets
    dropped, white space folded; the lines saying when the scores and the report were made left
    out). A notebook run outside ``evalkit run`` carries the blocks' style sheet in its outputs
    (the report template has it otherwise): style, not text."""
    import nbformat

    found: dict[str, list] = {"markers": [], "charts": [], "text": []}
    for cell in nbformat.read(ipynb, as_version=4).cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                found["charts"].append(out.get("metadata", {}).get("evalkit", {}).get("chart", ""))
            html = data.get("text/html")
            if html is not None:
                html = "".join(html) if isinstance(html, list) else html
                found["markers"] += [m for m in MARKER.findall(html) if m[0] not in TEMPLATE_MARKERS]
                found["text"].append(SPACE.sub(" ", TAG.sub(" ", MADE_AT.sub("", html))).strip())
            elif out.get("output_type") == "stream" and out.get("name") == "stdout":
                found["text"].append(str(out.get("text", "")).strip())
    return found


def compare(plain: Path, evalkit: Path, year: int, reports: list[dict]) -> list[str]:
    """Problems: reports whose executed notebooks differ in what a reader sees (markers, charts,
    text), or whose notebook, HTML or PDF is missing."""
    problems = []
    for report in reports:
        a = plain / "reports" / f"{report['stem']}.html"
        b = evalkit_html(evalkit / "out", report, year)
        outputs = [p.with_suffix(x) for p in (a, b) for x in (".ipynb", ".html", ".pdf")]
        if not all(p.is_file() for p in outputs):
            problems.append(f"{report['stem']}: missing output")
            continue
        ca, cb = content(a.with_suffix(".ipynb")), content(b.with_suffix(".ipynb"))
        if not ca["markers"]:
            problems.append(f"{report['stem']}: no data-* markers")
        for what in ("markers", "charts", "text"):
            if ca[what] != cb[what]:
                diff = [x for x, y in zip(ca[what], cb[what], strict=False) if x != y][:2]
                problems.append(f"{report['stem']}: {what} differ ({len(ca[what])} vs {len(cb[what])}; "
                                f"first: {str(diff)[:300]})")
        if report["kind"] == "school_report" and not {"total", "grade"} <= {k for k, _ in cb["markers"]}:
            problems.append(f"{report['stem']}: no total/grade marker")
    return problems


# --------------------------------------------------------------------------- breakdown


def breakdown(manifest: Path) -> list[tuple[str, int, dict[str, float]]]:
    """Mean seconds per report and kind from ``manifest.json`` timings."""
    entries = json.loads(manifest.read_text(encoding="utf-8"))["reports"].values()
    rows = []
    for kind in ("school_report", "school_trend", "county_summary", "framework_audit", "all"):
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
    parser.add_argument("--evalkit-runs", type=int, default=3,
                        help="evalkit run this many times (the first before the plain loop); the median counts")
    parser.add_argument("--memory-interval", type=float, default=1.0, help="seconds between memory samples")
    args = parser.parse_args(argv)
    n_runs = max(1, args.evalkit_runs)

    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"CPUs: {os.cpu_count()}; subreaper: {become_subreaper()}", flush=True)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    shutil.rmtree(work, ignore_errors=True)
    (work / "plain").mkdir(parents=True)
    year, reports, schools = plan_reports(args.run_file, args.schools)
    kinds = Counter(r["kind"] for r in reports)
    print(f"{year}: {len(reports)} reports ({', '.join(f'{k} {n}' for k, n in kinds.items())}), "
          f"ipynb + html + pdf each; outputs in {work}", flush=True)

    runs: list[tuple[Path, Measure]] = []

    def one_evalkit_run() -> None:
        folder = work / f"evalkit-{len(runs) + 1}"
        folder.mkdir(parents=True)
        with Measure(args.memory_interval) as m:
            evalkit_run(folder, args.run_file, schools)
        runs.append((folder, m))
        print(f"evalkit run {len(runs)}: {m.wall:.1f} s", flush=True)

    one_evalkit_run()
    plain = None
    problems: list[str] = []
    if not args.skip_plain:
        with Measure(args.memory_interval) as plain:
            steps = plain_loop(work / "plain", year, reports, args.run_file)
        print(f"plain loop: {plain.wall:.1f} s", flush=True)
    while len(runs) < n_runs:
        one_evalkit_run()
    if plain is not None:
        for k, (folder, _) in enumerate(runs, start=1):
            found = compare(work / "plain", folder, year, reports)
            same = len(reports) - len({p.split(":")[0] for p in found})
            print(f"same reports (evalkit run {k}): {'yes' if not found else 'NO'} ({same}/{len(reports)} with the "
                  "same data-* markers, charts and text, and every output present)")
            for p in found[:20]:
                print("  ", p)
            problems += found

    by_wall = sorted(runs, key=lambda r: r[1].wall)
    median_folder, ev = by_wall[len(by_wall) // 2]  # of an even number, the slower middle one
    print()
    print(f"{'':<22}{'wall s':>9}{'CPU s':>9}{'peak PSS MB':>13}{'max RSS MB':>12}")
    rows = [("plain loop", plain)] if plain else []
    rows += [(f"evalkit run {k}" + (" (median)" if folder == median_folder and n_runs > 1 else ""), m)
             for k, (folder, m) in enumerate(runs, start=1)]
    for name, m in rows:
        print(f"{name:<22}{m.wall:>9.1f}{m.cpu:>9.1f}{m.peak_pss_mb:>13.0f}{m.max_rss_mb:>12.0f}")
    if plain and problems:
        print("no ratio: the plain loop and evalkit run did not make the same reports (see above)")
    elif plain:
        print(f"{'ratio plain/evalkit':<22}{plain.wall / ev.wall:>8.1f}×{plain.cpu / ev.cpu:>8.1f}×"
              f"{plain.peak_pss_mb / ev.peak_pss_mb:>12.1f}×" + ("   (against the median run)" if n_runs > 1 else ""))
        if n_runs > 1:
            print("ratio against each run: " + ", ".join(f"{plain.wall / m.wall:.1f}×" for _, m in runs))
        print()
        print("plain loop, mean seconds per report: "
              + ", ".join(f"{k} {statistics.mean(v):.2f}" for k, v in steps.items()))
    print()
    print("evalkit run" + (" (the median run)" if n_runs > 1 else "") + ", mean seconds per report (from "
          "manifest.json timings; kernel start runs in the background while the previous report executes):")
    print(f"{'':<16}{'n':>4}{'kernel start':>14}{'wait kernel':>13}{'cells':>8}{'HTML':>7}{'PDF':>7}{'other':>7}"
          f"{'total':>8}{'sum':>8}")
    for kind, n, b in breakdown(median_folder / "out" / str(year) / "manifest.json"):
        print(f"{kind:<16}{n:>4}{b['kernel_start']:>14.2f}{b['kernel_wait']:>13.2f}{b['cells']:>8.2f}"
              f"{b['html']:>7.2f}{b['pdf']:>7.2f}{b['other']:>7.2f}{b['total']:>8.2f}{b['sum']:>8.1f}")
    if n_runs > 1:
        per_report = [sum(e["seconds"] for e in json.loads((f / "out" / str(year) / "manifest.json").read_text(
            encoding="utf-8"))["reports"].values()) / len(reports) for f, _ in runs]
        print("worker-seconds per report, each run: " + ", ".join(f"{x:.2f}" for x in per_report)
              + f"; median {statistics.median(per_report):.2f}")
    print(f"(sum = worker seconds; {os.cpu_count()} workers; wall {ev.wall:.1f} s includes scoring, scoreboard, "
          "planning and worker start)")
    if plain and problems:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
