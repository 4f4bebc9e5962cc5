"""Benchmark: the extra time a Word file adds to a report.

Runs ``evalkit run`` once on a copy of ``params/demo.yaml`` for a few schools with
``--formats ipynb`` (executed notebooks only), then, for each executed notebook (school report,
trend report), starts ``--processes`` fresh Python processes; each renders the report once to
warm up (exporter, fonts) and then times ``--repeat`` rounds of the three renderings evalkit run
does in a worker: HTML (nbconvert), PDF (WeasyPrint) and Word (pandoc, from the same HTML).
Printed: the median seconds of each step per kind of report, wall time and CPU time (the
process's own and pandoc's, a child process), and Word's CPU as a share of HTML + PDF.

    .venv/bin/python benchmarks/bench_docx.py                     # schools 001 and 019, 3 × 3
    .venv/bin/python benchmarks/bench_docx.py --schools 001 --processes 5 --repeat 2

Run it on a quiet machine (the load average is printed first).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
import nbformat
from evalkit.publish.render import notebook_to_html, html_to_pdf_bytes
from evalkit.publish.pandoc import html_to_docx_bytes

path, repeat = sys.argv[1], int(sys.argv[2])
nb = nbformat.read(path, as_version=4)
html = notebook_to_html(nb, title="标题", header="青岚县教育体育局")
html_to_pdf_bytes(html, header_left="学校", header_right="2024 年度")  # warm-up
html_to_docx_bytes(html)
def cpu():  # this process and its finished children (pandoc)
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

out = {k: [] for k in ("html", "pdf", "docx", "html_cpu", "pdf_cpu", "docx_cpu")}
for _ in range(repeat):
    for step in ("html", "pdf", "docx"):
        t, c = time.perf_counter(), cpu()
        if step == "html":
            html = notebook_to_html(nb, title="标题", header="青岚县教育体育局")
        elif step == "pdf":
            html_to_pdf_bytes(html, header_left="学校", header_right="2024 年度")
        else:
            html_to_docx_bytes(html)
        out[step].append(time.perf_counter() - t)
        out[step + "_cpu"].append(cpu() - c)
print(json.dumps(out))
"""


def executed_notebooks(folder: Path, schools: list[str]) -> list[tuple[str, Path]]:
    """Run the demo for ``schools`` (executed notebooks only); return (kind, path) pairs."""
    spec = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    base = ROOT / "params"
    spec["data"] = [str((base / p).resolve()) for p in spec["data"]]
    spec["registry"] = str((base / spec["registry"]).resolve())
    spec["notebooks"] = {k: str((base / v).resolve()) for k, v in spec["notebooks"].items() if v}
    spec["output"] = str(folder / "out")
    spec.pop("notice", None)
    spec.pop("publicity", None)
    run_file = folder / "run.yaml"
    run_file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    subprocess.run([str(Path(sys.executable).parent / "evalkit"), "run", str(run_file), "--schools",
                    ",".join(schools), "--formats", "ipynb"], check=True, stdout=subprocess.DEVNULL)
    year = next((folder / "out").iterdir())
    found = []
    for kind, stem in (("school_report", "报告"), ("school_trend", "趋势")):
        found += [(kind, p) for p in sorted(year.glob(f"schools/*/*_{stem}.ipynb"))]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", default="001,019")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-docx-") as tmp:
        notebooks = executed_notebooks(Path(tmp), args.schools.split(","))
        times: dict[str, dict[str, list[float]]] = {}
        for kind, path in notebooks:
            for _ in range(args.processes):
                done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(args.repeat)],
                                      check=True, capture_output=True, text=True)
                for step, values in json.loads(done.stdout.strip().splitlines()[-1]).items():
                    times.setdefault(kind, {}).setdefault(step, []).extend(values)
    print("median seconds per report (wall / CPU of this process and pandoc)")
    print(f"{'report':<14} {'n':>3} {'html':>13} {'pdf':>13} {'docx':>13} {'docx/(html+pdf) CPU':>20}")
    for kind, steps in times.items():
        med = {step: statistics.median(values) for step, values in steps.items()}
        share = med["docx_cpu"] / (med["html_cpu"] + med["pdf_cpu"])
        cells = " ".join(f"{med[s]:>6.2f}/{med[s + '_cpu']:<6.2f}" for s in ("html", "pdf", "docx"))
        print(f"{kind:<14} {len(steps['docx']):>3} {cells} {share:>19.0%}")


if __name__ == "__main__":
    main()
