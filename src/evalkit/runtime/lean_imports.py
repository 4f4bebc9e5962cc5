"""An optional package that evalkit's processes keep from being imported: ``rfc3987_syntax``.

nbformat (behind papermill and nbconvert) imports jsonschema, whose format module imports the
optional package ``rfc3987_syntax`` when it is installed (JupyterLab installs it: jupyter_events
requires ``jsonschema[format-nongpl]``). That package compiles two Lark grammars while it is
imported: about 1.5 s of CPU in every process that imports papermill or nbconvert
(``python -c "import papermill, nbconvert"``: 2.8–3.2 s, 1.3–1.5 s without it; 2026-12-07). It
serves only jsonschema's ``iri`` and ``iri-reference`` formats; nbformat's notebook schemas name
no format and nbformat validates without a format checker, so nothing evalkit does reads it.

:func:`skip_unused` marks it absent (``sys.modules[name] = None``, the import system's own way
of making ``import name`` raise ``ImportError``), which jsonschema treats as not installed. It
is called by the command line before any command runs and, by importing this module, by the
worker processes' fork server (:mod:`evalkit.runtime.processes`) before its other preloads. A
process that has imported jsonschema already is left as it is, and so is anything outside
evalkit's own processes (JupyterLab's server, a notebook kernel).
"""

from __future__ import annotations

import sys

__all__ = ["SKIPPED", "skip_unused"]

SKIPPED: tuple[str, ...] = ("rfc3987_syntax",)


def skip_unused() -> None:
    """Mark :data:`SKIPPED` absent for this process, unless jsonschema is imported already."""
    if "jsonschema" in sys.modules:
        return
    for name in SKIPPED:
        sys.modules.setdefault(name, None)  # type: ignore[assignment]


skip_unused()  # on import: a fork server's preload list names modules; it cannot call functions
