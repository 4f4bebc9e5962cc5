"""Test-wide setting: blocks render as in ``evalkit run``'s kernels, without the stylesheet that a
notebook run by hand in JupyterLab gets before each block (``evalkit.publish.markup``), so tests
compare the blocks' own markup. ``tests/test_analysis.py`` checks the JupyterLab case."""

import os

os.environ.setdefault("EVALKIT_REPORT_STYLESHEET", "1")
