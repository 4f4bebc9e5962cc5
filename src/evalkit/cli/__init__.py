"""The ``evalkit`` command line: thin wiring from arguments to the library.

- :mod:`~evalkit.cli.app` — the argument parser and the commands' dispatch (``main``);
- :mod:`~evalkit.cli.guard` — the last line of defence: no traceback ever reaches the user;
- one module per command that has options of its own: :mod:`~evalkit.cli.run` (``evalkit run``),
  :mod:`~evalkit.cli.validate`, :mod:`~evalkit.cli.registry`, :mod:`~evalkit.cli.weights`.
"""

from __future__ import annotations

from evalkit.cli.app import main

__all__ = ["main"]
