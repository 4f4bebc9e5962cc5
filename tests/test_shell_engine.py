"""Reports run in a forked IPython shell without a Jupyter kernel (:mod:`evalkit.runtime.shell_child`,
:mod:`evalkit.runtime.shell_session`): the executed notebook has the outputs a Jupyter kernel gives.

The notebook below produces every kind of output a notebook can hold. It is executed twice by the
default executor: cells in a forked shell (``KernelPoolExecutor()``), and cells in a forked
ipykernel (``KernelPoolExecutor(shell=False)``), and both notebooks must say the same. What each
cell must show is also written out by hand (the ``EXPECTED`` table), so that the two cannot agree
on something wrong. Failures, timeouts and a dying process are in ``tests/test_batch_pool.py``
(its hang/fail/die test runs on shells since they are the default).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import nbformat
import pytest

from evalkit.planner.run import run_batch
from evalkit.planner.runfile import load_run_file
from evalkit.runtime.kernelfork import fork_supported
from evalkit.runtime.kernelpool import KernelPoolExecutor
from test_batch_pool import make_project

PARAMETERS = 'school_id = ""\nyear = 0\nscores = ""\ndata = ""\nframework = ""\nregistry = ""\nintake_notes = ""'

CELLS: list[tuple[str, str, list[str]]] = [
    ("stdout", 'print("a")\nprint("b", 1)', []),
    ("stderr", 'import sys\nprint("careful", file=sys.stderr)', []),
    ("display", 'from IPython.display import HTML, display\ndisplay(HTML("<b>x</b>"), metadata={"k": 1})', []),
    ("value", "1 + 1", []),
    ("quiet", "2 + 2;", []),
    ("fd", 'import os\nos.system("echo fd-out");', []),
    ("handle", 'handle = display(HTML("one"), display_id=True)', []),
    ("update", 'handle.update(HTML("two"))\nprint("updated")', []),
    ("raw", "class Raw:\n    def __repr__(self):\n        return 'Raw()'\n    def _repr_png_(self):\n"
            "        return bytes([137, 80, 78, 71])\n    def _repr_json_(self):\n        return {'t': (1, 2)}\n"
            "Raw()", []),
    ("clear", 'from IPython.display import clear_output\nprint("gone")\nclear_output()\nprint("kept")', []),
    ("blank", "   ", []),
    ("skipped", 'print("never")', ["skip-execution"]),
    ("after", 'print(f"after {school_id}")\nget_ipython().execution_count', []),
    ("which", "print(type(get_ipython()).__name__)", []),
    ("fails", 'print("last words")\nraise ValueError("planned")', []),
    ("unreached", 'print("not run")', []),
]

EXPECTED: dict[str, list[dict]] = {
    "stdout": [{"output_type": "stream", "name": "stdout", "text": "a\nb 1\n"}],
    "stderr": [{"output_type": "stream", "name": "stderr", "text": "careful\n"}],
    "display": [{"output_type": "display_data", "metadata": {"k": 1},
                 "data": {"text/html": "<b>x</b>", "text/plain": "<IPython.core.display.HTML object>"}}],
    "value": [{"output_type": "execute_result", "execution_count": 6, "metadata": {}, "data": {"text/plain": "2"}}],
    "quiet": [],
    # written by a subprocess to file descriptor 1: the shell adds it to the cell, as JupyterLab's
    # kernels do; a kernel forked from the template does not (its descriptor 1 is the worker's)
    "fd": [{"output_type": "stream", "name": "stdout", "text": "fd-out\n"}],
    "handle": [{"output_type": "display_data", "metadata": {},  # updated by the next cell
                "data": {"text/html": "two", "text/plain": "<IPython.core.display.HTML object>"}}],
    "update": [{"output_type": "stream", "name": "stdout", "text": "updated\n"}],
    # a repr returning bytes and a tuple: base64 and a list, as a kernel's JSON message carries them
    "raw": [{"output_type": "execute_result", "execution_count": 11, "metadata": {},
             "data": {"text/plain": "Raw()", "image/png": "iVBORw==", "application/json": {"t": [1, 2]}}}],
    "clear": [{"output_type": "stream", "name": "stdout", "text": "kept\n"}],
    "blank": [],
    "skipped": [],
    # while cell 13 runs, the shell's counter already says 14 (IPython counts up before running)
    "after": [{"output_type": "stream", "name": "stdout", "text": "after 001\n"},
              {"output_type": "execute_result", "execution_count": 13, "metadata": {}, "data": {"text/plain": "14"}}],
    "which": [{"output_type": "stream", "name": "stdout", "text": "ReportShell\n"}],  # the kernel's below
    "fails": [{"output_type": "stream", "name": "stdout", "text": "last words\n"},
              {"output_type": "error", "ename": "ValueError", "evalue": "planned"}],
    "unreached": [],
}
"""What each cell shows (``traceback`` lines are compared between the two runs, not written here)."""

# the notebook's parameters cell is execution 1, papermill's injected parameters 2
COUNTS = {"stdout": 3, "stderr": 4, "display": 5, "value": 6, "quiet": 7, "fd": 8, "handle": 9, "update": 10,
          "raw": 11, "clear": 12, "blank": None, "skipped": None, "after": 13, "which": 14, "fails": 15,
          "unreached": None}


def _project(root: Path) -> Path:
    """A run file whose school report is the notebook above: one school, ipynb only (the project
    of tests/test_batch_pool.py, its notebook replaced)."""
    run_file = make_project(root, ["001"])
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# 输出种类"))
    nb.cells.append(nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}))
    for name, code, tags in CELLS:
        nb.cells.append(nbformat.v4.new_code_cell(code, metadata={"tags": [name, *tags]}))
    nbformat.write(nb, root / "nb" / "report.ipynb")
    return run_file


def _executed(root: Path, executor: KernelPoolExecutor) -> nbformat.NotebookNode:
    """The executed notebook, kept as ``.failed.ipynb`` since its cell ``fails`` raises."""
    report = run_batch(load_run_file(_project(root)), executor=executor, progress=False, out=io.StringIO())
    assert [o.status for o in report.outcomes] == ["failed"]
    assert "第 15 个执行单元格出错" in report.outcomes[0].reason and "ValueError: planned" in report.outcomes[0].reason
    return nbformat.read(root / "out" / "2024" / "schools" / "001" / "001_2024_报告.failed.ipynb", as_version=4)


def _by_tag(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {cell.metadata["tags"][0]: cell for cell in nb.cells
            if cell.cell_type == "code" and cell.metadata.get("tags") and cell.metadata["tags"][0] in COUNTS}


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.skipif(not fork_supported(), reason="shells are forked from the template on Linux only")
def test_a_shell_gives_the_outputs_a_jupyter_kernel_gives(tmp_path: Path) -> None:
    shell = _executed(tmp_path / "shell", KernelPoolExecutor())
    kernel = _executed(tmp_path / "kernel", KernelPoolExecutor(shell=False))
    shell_cells, kernel_cells = _by_tag(shell), _by_tag(kernel)
    assert set(shell_cells) == set(COUNTS)
    for name, count in COUNTS.items():
        for cells in (shell_cells, kernel_cells) if name not in ("fd", "which") else (shell_cells,):
            cell = cells[name]
            assert cell.execution_count == count, (name, cell.execution_count)
            got = [{k: v for k, v in out.items() if k != "traceback"} for out in cell.outputs]
            assert got == EXPECTED[name], (name, got)
        # the same traceback lines as the kernel's (colours aside), ending in the exception
        for a, b in zip(shell_cells[name].outputs, kernel_cells[name].outputs, strict=name not in ("fd", "which")):
            if a.output_type == "error":
                assert [_plain(line) for line in a.traceback][-1] == "ValueError: planned"
                assert len(a.traceback) == len(b.traceback)
        # papermill's per-cell metadata and nbclient's timestamps, as with a kernel
        meta = shell_cells[name].metadata
        assert set(meta["papermill"]) == set(kernel_cells[name].metadata["papermill"])
        assert ("execution" in meta) == ("execution" in kernel_cells[name].metadata), name
    # the shell run ran without a kernel; the other in ipykernel's shell
    assert kernel_cells["which"].outputs[0].text == "ZMQInteractiveShell\n"
    assert shell.metadata["language_info"] == kernel.metadata["language_info"]
    assert shell.metadata["language_info"]["name"] == "python"
    assert shell.metadata["papermill"]["exception"] is True
    assert shell_cells["fails"].metadata["papermill"]["status"] == "failed"
    assert shell_cells["unreached"].metadata["papermill"]["status"] == "pending"
