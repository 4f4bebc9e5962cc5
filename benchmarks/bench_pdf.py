"""Benchmark: one report's PDF (:func:`evalkit.publish.render.html_to_pdf_bytes`) from its HTML.

For each HTML file given (a report as ``evalkit run`` wrote it), ``--repeat`` fresh Python
processes each import evalkit, make the PDF once (warm-up: fonts, the page stylesheet) and then
time one more PDF of the same HTML (with ``--freeze``, after ``gc.freeze()`` as a worker does
after its first report): CPU time of the process (``time.process_time``; less
disturbed than wall time by other work on the machine) and wall time. Printed: the median of
each and the PDF's size and pages.

To compare two versions of evalkit, run it with each on ``PYTHONPATH`` back to back, on the same
HTML, in the same conditions (``--src`` sets the path for the child processes):

    .venv/bin/python benchmarks/bench_pdf.py outputs/2024/schools/001/001_2024_报告.html
    .venv/bin/python benchmarks/bench_pdf.py --src /path/to/other/src outputs/2024/schools/001/001_2024_报告.html
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
from evalkit.publish.render import html_to_pdf_bytes
html = open(sys.argv[1], encoding="utf-8").read()
html_to_pdf_bytes(html, header_left="学校", header_right="2024年度")
if sys.argv[2] == "freeze":
    import gc
    gc.collect()
    gc.freeze()
cpu, wall = time.process_time(), time.perf_counter()
pdf = html_to_pdf_bytes(html, header_left="学校", header_right="2024年度")
if sys.argv[2] == "freeze":
    import gc
    gc.collect()
    gc.freeze()
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({"cpu": cpu, "wall": wall, "bytes": len(pdf)}))
"""


def one(html: Path, src: str, freeze: bool) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run([sys.executable, "-c", CHILD, str(html), "freeze" if freeze else "-"], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"))
    parser.add_argument("--freeze", action="store_true",
                        help="gc.freeze() after the warm-up PDF, as a worker does after its first report "
                             "(runtime/processes.py)")
    args = parser.parse_args()
    print(f"evalkit from {args.src}; median of {args.repeat} fresh processes"
          + ("; gc.freeze() after the warm-up" if args.freeze else ""))
    for html in args.html:
        runs = [one(html, args.src, args.freeze) for _ in range(args.repeat)]
        cpu = statistics.median(r["cpu"] for r in runs)
        wall = statistics.median(r["wall"] for r in runs)
        each = ", ".join(f"{r['cpu']:.3f}" for r in runs)
        print(f"{html.name}: CPU {cpu:.3f} s, wall {wall:.3f} s (CPU each: {each}); {runs[0]['bytes']} bytes")


if __name__ == "__main__":
    main()
