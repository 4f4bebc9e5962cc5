"""evalkit's processes keep jsonschema's optional IRI checker (rfc3987_syntax) from being imported,
and nbformat still validates notebooks (:mod:`evalkit.runtime.lean_imports`)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import json, sys
    from evalkit.runtime.lean_imports import skip_unused
    skip_unused()
    import nbformat, papermill  # noqa: F401  (papermill imports nbformat, which imports jsonschema)
    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.validate(good)
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    bad.cells[0]["execution_count"] = "one"  # the schema wants an integer or null
    try:
        nbformat.validate(bad)
        caught = False
    except nbformat.ValidationError:
        caught = True
    rfc = sys.modules.get("rfc3987_syntax") is not None
    print(json.dumps({"caught": caught, "rfc": rfc, "jsonschema": "jsonschema" in sys.modules}))
    """
)


def test_skipped_in_a_fresh_process_and_notebooks_still_validated() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"caught": True, "rfc": False, "jsonschema": True}


def test_left_alone_once_jsonschema_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.runtime import lean_imports

    monkeypatch.setitem(sys.modules, "jsonschema", object())
    monkeypatch.delitem(sys.modules, "rfc3987_syntax", raising=False)
    lean_imports.skip_unused()
    assert "rfc3987_syntax" not in sys.modules


def test_worker_processes_have_it_skipped() -> None:
    """A real worker pool (the fork server imports papermill, hence jsonschema): the package is
    marked absent there, not imported."""
    from evalkit.runtime.processes import _new_pool

    pool = _new_pool(1)
    try:
        modules = "__import__('sys').modules"
        probe = f"({modules}.get('rfc3987_syntax', 'missing'), 'jsonschema' in {modules})"
        assert pool.submit(eval, probe).result(timeout=120) == (None, True)
    finally:
        pool.shutdown(wait=True)
