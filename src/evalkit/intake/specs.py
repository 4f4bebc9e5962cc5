"""What each framework id accepts as a value: indicators, bonus items and vetoes alike.

A :class:`ValueSpec` gathers, from the framework and the indicator's rule, everything intake
and the template need: data type, unit, the sub-items a weighted rule expects (``C5``:
``warning``/``violation``), the levels a level rule scores, the upper bound of a survey score,
``plausible_max``, and the source a column is tied to (survey indicators).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evalkit.framework import Framework, Indicator, RuleSpec
from evalkit.textfmt import LEVEL_NAMES

SURVEY_EVIDENCE = "测评"


@dataclass(frozen=True)
class ValueSpec:
    """The values one framework id accepts."""

    id: str
    name: str
    kind: Literal["indicator", "bonus", "veto"]
    data_type: str
    unit: str = ""
    items: tuple[str, ...] = ()
    levels: tuple[str, ...] | None = None
    upper: float | None = None
    plausible_max: float | None = None
    source: str = ""
    auto: bool = False
    required: bool = False
    definition: str = ""
    evidence: str = ""
    max_points: float | None = None
    rule: RuleSpec | None = None


def rule_items(rule: RuleSpec) -> tuple[str, ...]:
    """The sub-items a rule weights (``()`` for rules without item weights)."""
    attr = rule.rule.item_weights
    if attr is None:
        return ()
    weights = getattr(rule.parsed, attr, None)
    return tuple(weights) if weights else ()


def rule_levels(rule: RuleSpec) -> tuple[str, ...] | None:
    """The levels a ``level_points`` rule scores, plus ``none``, in rank order."""
    if rule.name != "level_points":
        return None
    scored = set(rule.parsed.levels) | {"none"}
    return tuple(k for k in LEVEL_NAMES if k in scored)


def rule_upper(rule: RuleSpec) -> float | None:
    """The largest valid value of a survey score (``scale_max``)."""
    if rule.name == "survey_scaled":
        return float(rule.parsed.scale_max)
    return None


def indicator_source(fw: Framework, ind: Indicator) -> str:
    """``survey`` for survey indicators (evidence 测评) when the framework has a survey source:
    their values belong to the survey whoever enters them; ``""`` otherwise."""
    if ind.evidence == SURVEY_EVIDENCE and "survey" in fw.sources.weights:
        return "survey"
    return ""


def value_specs(fw: Framework) -> dict[str, ValueSpec]:
    """Every id of the framework with what it accepts, in framework order."""
    specs: dict[str, ValueSpec] = {}
    for ind in fw.indicators:
        specs[ind.id] = ValueSpec(
            id=ind.id,
            name=ind.name,
            kind="indicator",
            data_type=ind.data_type,
            unit=ind.unit,
            items=rule_items(ind.rule),
            levels=rule_levels(ind.rule),
            upper=rule_upper(ind.rule),
            plausible_max=ind.plausible_max,
            source=indicator_source(fw, ind),
            required=True,
            definition=ind.definition,
            evidence=ind.evidence or "",
            max_points=ind.max_points,
            rule=ind.rule,
        )
    for item in fw.bonus.items:
        specs[item.id] = ValueSpec(
            id=item.id,
            name=item.name,
            kind="bonus",
            data_type=item.data_type,
            unit=item.unit,
            items=rule_items(item.rule),
            levels=rule_levels(item.rule),
            upper=rule_upper(item.rule),
            evidence=item.evidence or "",
            max_points=item.cap,
            rule=item.rule,
        )
    for veto in fw.vetoes:
        specs[veto.id] = ValueSpec(
            id=veto.id,
            name=veto.name,
            kind="veto",
            data_type="yesno",
            auto=veto.trigger.indicator is not None,
        )
    return specs
