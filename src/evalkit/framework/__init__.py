"""The indicator framework: areas → indicators → scoring rules, as a versioned YAML file.

- :mod:`~evalkit.framework.model` — the pydantic model of a framework file;
- :mod:`~evalkit.framework.load` — loading it, and validation that reports every problem with
  its YAML path and line;
- :mod:`~evalkit.framework.rules` — indicator scoring rules, registered by name;
- :mod:`~evalkit.framework.ruletext` — a rule in plain Chinese for the fill-in template;
- :mod:`~evalkit.framework.methods` — normalisation and aggregation of composite indicators;
- :mod:`~evalkit.framework.weights` — a node's child weights by its ``weighting`` method;
- ``shipped/`` — the frameworks shipped with evalkit (``shiquan-party-building.yaml``).
"""

from __future__ import annotations

from evalkit.framework.load import (
    FrameworkError,
    builtin_framework_path,
    history_problems,
    load_framework,
    parse_framework,
    resolve_framework_path,
)
from evalkit.framework.model import (
    DEFAULT_FRAMEWORK,
    LABEL_TYPES,
    Aggregate,
    Area,
    Framework,
    FuzzySpec,
    History,
    Indicator,
    RaterTrim,
    RuleSpec,
)

__all__ = [
    "DEFAULT_FRAMEWORK",
    "LABEL_TYPES",
    "Aggregate",
    "Area",
    "Framework",
    "FrameworkError",
    "FuzzySpec",
    "History",
    "Indicator",
    "RaterTrim",
    "RuleSpec",
    "builtin_framework_path",
    "history_problems",
    "load_framework",
    "parse_framework",
    "resolve_framework_path",
]
