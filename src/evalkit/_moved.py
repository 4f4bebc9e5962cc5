"""Where modules of earlier versions went, so that notebooks a bureau copied keep working.

Notebooks written for earlier versions import ``evalkit.uncertainty_charts``,
``evalkit.analysis.present``, ``evalkit.explore``… These names are aliases of the modules'
homes in today's layout (see ``docs/architecture.md``): importing an old name imports the new
module and registers it under both names (one module object, nothing copied). New code uses the
new names.

>>> import importlib
>>> importlib.import_module("evalkit.uncertainty_charts") is importlib.import_module("evalkit.charts.uncertainty")
True
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

MOVED = {
    "evalkit.atomic": "evalkit.io.atomic",
    "evalkit.filekinds": "evalkit.io.filekinds",
    "evalkit.workbooks": "evalkit.io.workbooks",
    "evalkit.sheets": "evalkit.io.sheets",
    "evalkit.xlsxio": "evalkit.io.xlsx_writer",
    "evalkit.csvio": "evalkit.io.csv_writer",
    "evalkit.controlchars": "evalkit.io.controlchars",
    "evalkit.yamlload": "evalkit.io.yaml_load",
    "evalkit.yamlpaths": "evalkit.io.yaml_paths",
    "evalkit.rules": "evalkit.framework.rules",
    "evalkit.ruletext": "evalkit.framework.ruletext",
    "evalkit.methods": "evalkit.framework.methods",
    "evalkit.registry": "evalkit.intake.registry",
    "evalkit.fonts": "evalkit.charts.fonts",
    "evalkit.uncertainty_charts": "evalkit.charts.uncertainty",
    "evalkit.region_charts": "evalkit.charts.region",
    "evalkit.render": "evalkit.publish.render",
    "evalkit.explore": "evalkit.publish.explore",
    "evalkit.documents": "evalkit.publish.documents",
    "evalkit.analysis.present": "evalkit.publish.present",
    "evalkit.analysis.official": "evalkit.publish.official",
}
"""Old module name → today's module."""


class _Alias(importlib.abc.Loader):
    """Loads an old name as the module it moved to (the same object under both names)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the target module is imported already."""


class _MovedFinder(importlib.abc.MetaPathFinder):
    """Finds the old names of :data:`MOVED` (asked after the regular finders, which no longer
    find them)."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(new))


def install_moved_finder() -> None:
    """Add the finder of old names to ``sys.meta_path`` once (at the end: it never shadows a
    module that exists)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
