"""Compare two output folders of the same county-year (e.g. ``outputs/2024`` of main before and
after a change): what a reader and a tool would see must be the same.

    .venv/bin/python scripts/compare_outputs.py BEFORE/outputs/2024 outputs/2024

A thin wrapper of :func:`evalkit.planner.compare.compare` (what it compares is said there).
Prints each difference and exits 1 when there is one, else prints 一致. The county summary and
the audit print the time they were made, so two runs at different times differ in that line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from evalkit.planner.compare import compare

if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]), say=print)
    print("\n".join(found) or "一致")
    sys.exit(1 if found else 0)
