"""Compare two output folders of the same county-year (e.g. ``outputs/2024`` of main before and
after a change): what a reader and a tool would see must be the same.

    .venv/bin/python scripts/compare_outputs.py BEFORE/outputs/2024 outputs/2024

Compares every school-year's total, grade and rank (``scores/schools.parquet``), every ``data-*``
attribute of every HTML report in order, the county documents' text (``.docx`` paragraphs and
tables, ``.pdf`` through ``pdftotext``) and their ``.xlsx`` cells. Prints each difference and
exits 1 when there is one. The county summary and the audit print the time they were made, so two
runs at different times differ in that line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import docx
import pandas as pd

MARKER = re.compile(r'data-[\w-]+="[^"]*"')


def doc_text(path: Path) -> list[str]:
    d = docx.Document(str(path))
    return [p.text for p in d.paragraphs] + ["|".join(c.text for c in r.cells) for t in d.tables for r in t.rows]


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def compare(a: Path, b: Path) -> list[str]:
    diffs: list[str] = []
    cols = ["school_id", "year", "total", "grade", "rank"]
    ka, kb = (pd.read_parquet(x / "scores" / "schools.parquet")[cols].sort_values(["year", "school_id"])
              .reset_index(drop=True) for x in (a, b))
    print(f"school-years: {len(ka)}; totals, grades and ranks equal: {ka.equals(kb)}")
    if not ka.equals(kb):
        diffs.append("scores differ")
    reports = sorted(p.relative_to(a) for p in a.rglob("*.html"))
    if reports != sorted(p.relative_to(b) for p in b.rglob("*.html")):
        diffs.append("the sets of HTML reports differ")
    markers = 0
    for rel in reports:
        if (b / rel).exists():
            ma, mb = (MARKER.findall((x / rel).read_text(encoding="utf-8")) for x in (a, b))
            markers += len(ma)
            if ma != mb:
                diffs.append(f"markers differ: {rel}")
    print(f"HTML reports: {len(reports)}; data-* markers compared: {markers}")
    for kind, read in ((".docx", doc_text), (".pdf", pdf_text)):
        for p in sorted(a.rglob(f"county/*{kind}")):
            if read(p) != read(b / p.relative_to(a)):
                diffs.append(f"text differs: {p.relative_to(a)}")
    for p in sorted(a.rglob("county/*.xlsx")):
        xa, xb = (pd.read_excel(x, sheet_name=None, header=None) for x in (p, b / p.relative_to(a)))
        if xa.keys() != xb.keys() or any(not xa[k].equals(xb[k]) for k in xa):
            diffs.append(f"cells differ: {p.relative_to(a)}")
    return diffs


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found) or "一致")
    sys.exit(1 if found else 0)
