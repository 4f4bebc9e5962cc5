"""The ``evalkit`` papermill engine (``evalkit.runtime.papermill_engine``): registered through its entry point,
usable from the papermill command line, with papermill's parameters and error semantics.

Fresh processes where the point is a fresh process (the entry point found with nothing imported,
the ``papermill`` command); the failing notebook through papermill's API in this process, which is
what the command line calls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

PAPERMILL = Path(sys.executable).parent / "papermill"


def notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("school_id = '000'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_entry_point_registers_the_engine_without_importing_evalkit_first() -> None:
    code = ("from papermill.engines import papermill_engines as e; "
            "print(e.get_engine('evalkit').__module__, e.get_engine('evalkit').__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["evalkit.runtime.papermill_engine", "EvalkitEngine"]


def test_papermill_command_line_with_the_evalkit_engine(tmp_path: Path) -> None:
    src = notebook(tmp_path / "in.ipynb", "import os\nprint('id', school_id, os.getcwd())")
    proc = subprocess.run([str(PAPERMILL), "--engine", "evalkit", str(src), str(tmp_path / "out.ipynb"),
                           "-r", "school_id", "007", "--cwd", str(tmp_path), "--no-progress-bar"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert nb.cells[1].metadata["tags"] == ["injected-parameters"]  # papermill's injected cell
    assert nb.cells[2].outputs[0]["text"] == f"id 007 {tmp_path}\n"
    assert nb.metadata.papermill["exception"] is None


def test_a_failing_cell_is_papermills_execution_error_and_recorded(tmp_path: Path) -> None:
    """What ``papermill --engine evalkit bad.ipynb bad_out.ipynb`` calls (``execute_notebook``), in
    this process: PapermillExecutionError naming the cell's error, the output notebook marked."""
    import papermill as pm
    import pytest

    bad = notebook(tmp_path / "bad.ipynb", "raise ValueError('坏了')")
    with pytest.raises(pm.PapermillExecutionError, match="坏了"):
        pm.execute_notebook(str(bad), str(tmp_path / "bad_out.ipynb"), engine_name="evalkit", progress_bar=False)
    nb = nbformat.read(tmp_path / "bad_out.ipynb", as_version=4)
    assert nb.metadata.papermill["exception"] is True
