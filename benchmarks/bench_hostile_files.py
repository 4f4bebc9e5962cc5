"""Benchmark: what hostile data files cost ``evalkit validate`` (issue 10, "bounded cost").

Each run is a fresh ``evalkit validate FILE`` process; peak RSS comes from
``getrusage(RUSAGE_CHILDREN)`` of a wrapper that runs nothing else. Prints, per file: its size,
the exit code, the median and slowest wall time over the runs, and peak RSS. The files are built
by ``tests/hostile/hostile_files.py`` (the same builders the tests use):

- ``clean``: the demo's 2024 data for schools 001–005 as a long .xlsx (430 rows) — the baseline;
- ``stray_format`` / ``stray_value``: the same plus a formatted empty cell / a value at row 1,048,576;
- ``wide_last_cell``: the demo's messy wide workbook plus a value in XFD1048576;
- ``zip_bomb``: 1 MB that inflates to 1 GB; ``cells``: 1.2 M empty cells; ``entities``: an XML
  entity bomb; ``commas``: a CSV line of 50 million empty fields.

    .venv/bin/python benchmarks/bench_hostile_files.py            # every file, 3 runs each
    .venv/bin/python benchmarks/bench_hostile_files.py --runs 5 zip_bomb cells

Targets: every file refused or read in well under 500 MB; the stray cells cost about what the clean
file costs (before issue 10: zip bomb 3 GB; stray cell 30 s and 2 GB; last cell over 280 s).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "hostile"))

import hostile_files as h  # noqa: E402


def build(folder: Path) -> dict[str, Path]:
    commas = folder / "commas.csv"
    commas.write_bytes(b"school_id" + b"," * 50_000_000)
    return {
        "clean": h.long_workbook(folder / "clean.xlsx", h.demo_rows(2024, {f"{i:03d}" for i in range(1, 6)})),
        "stray_format": h.stray_cell_workbook(folder / "stray_format.xlsx"),
        "stray_value": h.stray_cell_workbook(folder / "stray_value.xlsx", "x"),
        "wide_last_cell": h.messy_with_stray_last_cell(folder / "wide_last_cell.xlsx"),
        "zip_bomb": h.zip_bomb_workbook(folder / "zip_bomb.xlsx"),
        "cells": h.many_cells_workbook(folder / "cells.xlsx"),
        "entities": h.entity_bomb_workbook(folder / "entities.xlsx"),
        "commas": commas,
    }


def main(argv: list[str]) -> None:
    runs = 3
    if argv[:1] == ["--runs"]:
        runs, argv = int(argv[1]), argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp))
        chosen = argv or list(files)
        print(f"{'file':<16}{'size MB':>9}{'exit':>6}{'median s':>10}{'max s':>8}{'peak RSS MB':>13}")
        for name in chosen:
            path = files[name]
            results = [h.run_evalkit("validate", str(path), timeout=600) for _ in range(runs)]
            seconds = [r["seconds"] for r in results]
            print(f"{name:<16}{path.stat().st_size / 2**20:>9.1f}{results[0]['rc']!s:>6}"
                  f"{statistics.median(seconds):>10.1f}{max(seconds):>8.1f}"
                  f"{max(r['rss_mb'] for r in results):>13.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
