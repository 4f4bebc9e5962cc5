"""Imported by the worker processes' fork server, last: :func:`evalkit.publish.render.warm_up`.

A fork server's preload list names modules, it cannot call functions (as for
:mod:`evalkit.runtime.lean_imports`), so importing this module does the warm-up: WeasyPrint
imported, the report fonts cut, the HTML exporter built. Each worker forked afterwards has them;
without it each worker did the same at its first report (about 0.8 s of CPU each, measured in
``docs/benchmarks.md``). A failure is ignored: the first report then does it and says what failed.
"""

from __future__ import annotations

__all__: list[str] = []

try:
    from evalkit.publish.render import warm_up

    warm_up()
except Exception:  # the worker's first report does it again and reports the failure
    pass
