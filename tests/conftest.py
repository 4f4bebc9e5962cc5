"""Fixtures shared by several test modules.

``demo_run``: ONE real ``evalkit run`` of the bundled demo county per session (in-process,
``evalkit.cli.app.main``), read by the tests that only read a run's outputs (tests/README.md lists
them and what each still checks). It runs the real ``school_report`` notebook for school 001 and
for 022 (the first school with a veto in 2024) in all three report formats, with the demo's three
years of data, an issuer, a notice and a publicity block, and a small robustness analysis
(200 replications, 50 sensitivity draws). Nothing may write into its folder: a test that changes a
run copies it or makes its own.

Under pytest-xdist the workers share the run: the first to ask makes it under the session's common
temporary folder, holding a lock, and the others wait for it and read it.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "evalkit" / "demo" / "data"
DEMO_RUN_SCHOOLS = ("001", "022")
"""School 001 (the documents' and PDF's school) and 022, the demo's first school (by id) with a
veto in 2024 (test_notebooks checks that it is)."""
DEMO_RUN_FILE = f"""
year: 2024
data: [{DEMO}/observations_2022.csv, {DEMO}/observations_2023.csv, {DEMO}/observations_2024.csv]
registry: {DEMO}/registry.csv
notebooks:
  school_report: {ROOT}/notebooks/school_report.ipynb
formats: [ipynb, pdf, docx]
output: out
jobs: 2
issuer:
  county: 青岚县
  body: 青岚县教育体育局
  date: 2024-12-20
  contact: 局党建办 0915-1234567
robustness:
  replications: 200
  sensitivity: 50
notice:
  rectify_by: 2025-01-31
publicity:
  days: 5
"""


@dataclass(frozen=True)
class DemoRun:
    """The shared run: its folder (``run.yaml``, ``out/``), the year's output folder and what it printed."""

    root: Path
    year: Path
    stdout: str
    stderr: str

    @property
    def run_file(self) -> Path:
        return self.root / "run.yaml"

    def manifest(self) -> dict:
        return json.loads((self.year / "manifest.json").read_text(encoding="utf-8"))

    def report(self, school_id: str, fmt: str) -> Path:
        """A school report as the manifest records it (``schools/<id>/<id>_2024_报告.<fmt>``)."""
        entry = self.manifest()["reports"][f"school_report:{school_id}"]
        return self.year / entry["outputs"][fmt]


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's temporary folder, common to every xdist worker (``…/pytest-N``)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _make_demo_run(root: Path) -> None:
    from evalkit.cli.app import main

    root.mkdir(parents=True, exist_ok=True)
    (root / "run.yaml").write_text(DEMO_RUN_FILE, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["run", str(root / "run.yaml"), "--schools", ",".join(DEMO_RUN_SCHOOLS)])
    (root / "stdout.txt").write_text(out.getvalue(), encoding="utf-8")
    (root / "stderr.txt").write_text(err.getvalue(), encoding="utf-8")
    (root / "exit_code").write_text(str(code), encoding="utf-8")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``evalkit run --schools 001,022`` of the demo county (see the module's docstring), made once."""
    root = _shared_folder(tmp_path_factory) / "demo-run"
    with open(_shared_folder(tmp_path_factory) / "demo-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (root / "exit_code").exists():
            _make_demo_run(root)
    stdout = (root / "stdout.txt").read_text(encoding="utf-8")
    stderr = (root / "stderr.txt").read_text(encoding="utf-8")
    assert (root / "exit_code").read_text() == "0", stdout + stderr
    return DemoRun(root=root, year=root / "out" / "2024", stdout=stdout, stderr=stderr)
