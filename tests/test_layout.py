"""The house: modules grouped by role, no import circles, old import paths kept for notebooks.

The import graph here counts every ``import`` of an evalkit module anywhere in a file (inside
functions too: a function-level import still ties two files together). A package's ``__init__``
only re-exports (``from evalkit.framework import Framework``, ``import evalkit`` for its version),
so an import landing on it does not count unless it names a submodule — the rule of the project's
``import_circles.py``.
"""

from __future__ import annotations

import ast
import graphlib
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "evalkit"


def _module_name(path: Path) -> str:
    parts = ["evalkit", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module → the evalkit modules it imports (never a package's ``__init__``: see above)."""
    files = {_module_name(p): p for p in SRC.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("evalkit"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.append(sub if sub in files else node.module)  # type: ignore[arg-type]
            elif isinstance(node, ast.Import):
                targets += [a.name for a in node.names if a.name.startswith("evalkit")]
            for t in targets:
                found = resolve(t)
                if found and found != mod and files[found].name != "__init__.py":
                    graph[mod].add(found)
    return graph


def test_no_import_circles_anywhere_in_src() -> None:
    graph = import_graph()
    assert len(graph) > 100  # the whole package was read
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        pytest.fail(f"import circle: {' -> '.join(err.args[1])}")


def test_a_planted_circle_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: two modules importing each other are a cycle for it."""
    graph = import_graph()
    assert "evalkit.errors" in graph["evalkit.results"]
    graph["evalkit.errors"].add("evalkit.results")  # results imports errors: close the loop
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter(graph).static_order())


def test_at_most_eight_modules_at_the_top() -> None:
    top = sorted(p.name for p in SRC.glob("*.py"))
    assert len(top) <= 8, top


def test_loading_a_local_run_file_does_not_import_distributed() -> None:
    root = SRC.parents[1]
    code = ("import sys, evalkit.planner.runfile as r; r.load_run_file('params/demo.yaml'); "
            "assert 'distributed' not in sys.modules, 'distributed imported'")
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("evalkit.uncertainty_charts", "evalkit.charts.uncertainty"),
        ("evalkit.region_charts", "evalkit.charts.region"),
        ("evalkit.analysis.present", "evalkit.publish.present"),
        ("evalkit.analysis.official", "evalkit.publish.official"),
        ("evalkit.explore", "evalkit.publish.explore"),
        ("evalkit.fonts", "evalkit.charts.fonts"),
        ("evalkit.registry", "evalkit.intake.registry"),
    ],
)
def test_notebooks_written_for_the_old_layout_still_import(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)


def test_from_evalkit_import_an_old_module_name() -> None:
    from evalkit import uncertainty_charts  # as framework_audit.ipynb of earlier versions did

    assert uncertainty_charts is importlib.import_module("evalkit.charts.uncertainty")
