"""Benchmark: the CPU time a report's cells take in a kernel, without papermill, nbconvert or PDF.

Mimics the batch runner's kernel template (:mod:`evalkit.runtime.kernelfork`): one process
imports :data:`~evalkit.runtime.kernelfork.PRELOAD`, warms matplotlib
(:func:`~evalkit.runtime.kernelfork.warm_charts`) and preloads the scores folder and the
framework (:func:`~evalkit.runtime.kernelfork.preload`); then, for each report, it forks a child
(a fresh process, as each report's kernel is) that runs the notebook's code cells in an IPython
shell with the parameters the planner gives (:func:`evalkit.planner.plan.plan_year`'s
``_base_parameters`` and ``school_id``) injected after the parameters cell, and sends back its
CPU time (``time.process_time``) and what its cells displayed. The notebook's text is read once.

    .venv/bin/python benchmarks/bench_cells.py SCORES_FOLDER                    # 3 rounds, 001/002
    .venv/bin/python benchmarks/bench_cells.py SCORES --schools 001,017 --rounds 5
    .venv/bin/python benchmarks/bench_cells.py SCORES --profile school_report:002   # cProfile, top 40
    .venv/bin/python benchmarks/bench_cells.py SCORES --dump /tmp/out     # each report's outputs
    .venv/bin/python benchmarks/bench_cells.py SCORES --kinds county_summary,framework_audit --rounds 1

``SCORES_FOLDER`` is a run's ``<year>/scores`` (``evalkit run`` writes it; the registry and the
framework are taken from the run file given by ``--params``, ``params/demo.yaml`` by default).
Printed: per kind of report, the median CPU seconds of its cells over ``--rounds`` × schools
(each a fresh fork). As in ``evalkit run``, the kernels share a chart folder
(:mod:`evalkit.charts.cache`), empty at the start of each round, so a school's trend report reads
the trend chart its school report drew; ``--no-chart-cache`` draws every chart.
Times measured while other work runs are only comparable as before/after ratios taken back to back.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"school_report": "school_report.ipynb", "school_trend": "school_trend.ipynb",
             "county_summary": "county_summary.ipynb", "framework_audit": "framework_audit.ipynb"}
COUNTY_KINDS = ("county_summary", "framework_audit")
"""Run once per county (``school_id`` empty, as the planner gives them), whatever ``--schools`` says."""


def _cells(notebook: Path) -> list[tuple[list[str], str]]:
    """(tags, source) of each code cell."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return [(c.get("metadata", {}).get("tags", []), "".join(c["source"])) for c in nb["cells"]
            if c["cell_type"] == "code"]


def _run_report(cells: list[tuple[list[str], str]], params: dict[str, Any], profile: bool,
                warm: dict[str, Any] | None = None) -> dict[str, Any]:
    """In the forked child: run ``cells`` in a new IPython shell; return its CPU time and outputs.
    ``warm``: parameters of a report run first, untimed, in the same process (what is left is the
    cost a report pays when every first-time cost of the process has been paid)."""
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.display_pub = CapturingDisplayPublisher()
    shell.display_pub.shell = shell

    def sources_of(params: dict[str, Any]) -> list[tuple[str, str]]:
        injected = "\n".join(f"{k} = {v!r}" for k, v in params.items())
        sources: list[tuple[str, str]] = []
        for tags, source in cells:
            sources.append((tags[0] if tags else "?", source))
            if "parameters" in tags:
                sources.append(("injected-parameters", injected))
        return sources

    if warm is not None:
        for _tag, source in sources_of(warm):
            shell.run_cell(source, store_history=False, silent=False)
        shell.display_pub.outputs.clear()
    sources = sources_of(params)
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    start = time.process_time()
    per_cell: dict[str, float] = {}
    for tag, source in sources:
        t = time.process_time()
        result = shell.run_cell(source, store_history=False, silent=False)
        if not result.success:
            raise RuntimeError(f"cell failed: {result.error_in_exec or result.error_before_exec}\n{source}")
        per_cell[tag] = time.process_time() - t
    cpu = time.process_time() - start
    if prof is not None:
        prof.disable()
        import io
        import pstats

        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        print(out.getvalue())
    outputs = [{"data": o.get("data", {}), "metadata": o.get("metadata", {})}
               for o in shell.display_pub.outputs]
    return {"cpu": cpu, "cells": per_cell, "outputs": outputs}


def _fork(cells: list[tuple[list[str], str]], params: dict[str, Any], profile: bool = False,
          warm: dict[str, Any] | None = None) -> dict[str, Any]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code = 0
        try:
            payload = _run_report(cells, params, profile, warm)
        except BaseException as exc:  # reported to the parent
            payload, code = {"error": repr(exc)}, 1
        with os.fdopen(write, "wb") as f:
            pickle.dump(payload, f)
        sys.stdout.flush()
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        payload = pickle.load(f)
    os.waitpid(pid, 0)
    if "error" in payload:
        raise RuntimeError(payload["error"])
    return payload


def _template(scores: Path, framework: str, registry: str = "") -> None:
    """What the kernel template does before forking: imports, chart warm-up, preloads."""
    import importlib

    from evalkit.publish.markup import STYLESHEET_PROVIDED
    from evalkit.runtime.kernelfork import PRELOAD, preload, warm_charts

    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ[STYLESHEET_PROVIDED] = "1"  # as evalkit run's kernels have it
    for name in PRELOAD:
        importlib.import_module(name)
    warm_charts(PRELOAD)
    preload({"scores": [str(scores)], "frameworks": [framework], "registries": [registry] if registry else []})
    gc.collect()
    gc.freeze()


def _dump(folder: Path, name: str, outputs: list[dict[str, Any]]) -> None:
    import base64

    folder.mkdir(parents=True, exist_ok=True)
    html = []
    for k, o in enumerate(outputs):
        data = o["data"]
        if "image/png" in data:
            chart = o["metadata"].get("evalkit", {}).get("chart", str(k))
            png = data["image/png"]
            (folder / f"{name}_{chart}.png").write_bytes(base64.b64decode(png) if isinstance(png, str) else png)
        elif "text/html" in data:
            html.append(data["text/html"])
    (folder / f"{name}.html").write_text("\n".join(html), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scores", type=Path)
    parser.add_argument("--params", type=Path, default=ROOT / "params" / "demo.yaml")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--schools", default="001,002")
    parser.add_argument("--kinds", default="school_report,school_trend")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default="", help="kind:school, e.g. school_report:002")
    parser.add_argument("--warm", default="", help="in each child, first run this school's report untimed")
    parser.add_argument("--per-cell", action="store_true", help="also the median CPU seconds of each cell")
    parser.add_argument("--dump", type=Path, default=None, help="write each report's PNGs and HTML here")
    parser.add_argument("--no-chart-cache", action="store_true",
                        help="no shared chart folder (evalkit run's kernels have one: evalkit.charts.cache)")
    args = parser.parse_args(argv)

    from evalkit.planner.plan import _base_parameters
    from evalkit.planner.runfile import load_run_file

    spec = load_run_file(args.params)
    year = spec.years[-1]
    base = _base_parameters(spec, args.scores.resolve(), year)
    _template(args.scores.resolve(), base["framework"], base.get("registry") or "")
    kinds = args.kinds.split(",")
    cells = {k: _cells(args.notebooks / NOTEBOOKS[k]) for k in kinds}
    schools = args.schools.split(",")
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds × schools {schools}", flush=True)
    warm = {"school_id": args.warm, **base} if args.warm else None
    if args.profile:
        kind, school = args.profile.split(":")
        _fork(cells[kind], {"school_id": school, **base}, profile=True, warm=warm)
        return
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cell_times: dict[str, dict[str, list[float]]] = {k: {} for k in kinds}
    import shutil
    import tempfile

    from evalkit.charts.cache import CACHE_ENV

    chart_root = Path(tempfile.mkdtemp(prefix="bench-cells-charts-"))
    for r in range(args.rounds):
        # each round starts with an empty chart folder, as a run does: a school's trend chart is
        # drawn by its school report and read back by its trend report (kinds in that order)
        folder = chart_root / str(r)
        folder.mkdir()
        if not args.no_chart_cache:
            os.environ[CACHE_ENV] = str(folder)
        for school in schools:
            for kind in kinds:
                if kind in COUNTY_KINDS and school != schools[0]:
                    continue
                sid = "" if kind in COUNTY_KINDS else school
                got = _fork(cells[kind], {"school_id": sid, **base}, warm=warm)
                times[kind].append(got["cpu"])
                for tag, t in got["cells"].items():
                    cell_times[kind].setdefault(tag, []).append(t)
                if args.dump is not None and r == 0:
                    _dump(args.dump, f"{sid or 'county'}_{kind}", got["outputs"])
    shutil.rmtree(chart_root, ignore_errors=True)
    if args.per_cell:
        for kind, by_cell in cell_times.items():
            print(kind + ": " + ", ".join(f"{tag} {statistics.median(ts):.3f}" for tag, ts in by_cell.items()))
    for kind, ts in times.items():
        print(f"{kind:14s} cells CPU median {statistics.median(ts):.3f} s  (min {min(ts):.3f}, max {max(ts):.3f},"
              f" n={len(ts)})")


if __name__ == "__main__":
    main()
