"""The framework's scored leaves (indicators and bonus items) as one table.

Scoring works on whole columns, so the tree is flattened once into a DataFrame indexed by node
id, with everything a row of observations needs joined onto it: area, name, unit, data type,
max points, rule, direction and missing-data policy.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from evalkit.framework import LABEL_TYPES, Framework, RuleSpec


def rule_key(spec: RuleSpec, higher_is_better: bool) -> str:
    """Identity of a rule application: name, parameters and direction (canonical JSON)."""
    return json.dumps([spec.name, spec.params, higher_is_better], sort_keys=True, ensure_ascii=False)


def node_table(fw: Framework) -> tuple[pd.DataFrame, dict[str, tuple[RuleSpec, bool]]]:
    """``(nodes, rules)``: ``nodes`` indexed by id with columns ``kind`` (indicator/bonus),
    ``area_id, area_name, name, unit, data_type, is_label`` (ratings and levels: values are
    labels, not numbers), ``max_points, rule_key, higher_is_better, missing, order``; ``rules``
    maps each ``rule_key`` to its spec and direction."""
    rows, rules = [], {}
    order = 0
    for area in fw.areas:
        for ind in area.leaves:
            key = rule_key(ind.rule, ind.higher_is_better)
            rules[key] = (ind.rule, ind.higher_is_better)
            rows.append(
                dict(id=ind.id, kind="indicator", area_id=area.id, area_name=area.name, name=ind.name,
                     unit=ind.unit, data_type=ind.data_type, max_points=float(ind.max_points),
                     rule_key=key, higher_is_better=ind.higher_is_better,
                     missing=fw.missing_policy(ind), order=order)
            )
            order += 1
    for item in fw.bonus.items:
        key = rule_key(item.rule, True)
        rules[key] = (item.rule, True)
        rows.append(
            dict(id=item.id, kind="bonus", area_id="", area_name="", name=item.name, unit=item.unit,
                 data_type=item.data_type, max_points=float(item.cap), rule_key=key,
                 higher_is_better=True, missing="none", order=order)
        )
        order += 1
    nodes = pd.DataFrame(rows).set_index("id")
    nodes.insert(nodes.columns.get_loc("data_type") + 1, "is_label", nodes["data_type"].isin(LABEL_TYPES))
    return nodes, rules


def lookup(keys: pd.Series, mapping: dict | pd.Series, default: object = None) -> pd.Series:
    """``keys.map(mapping)`` through the distinct keys: factorise once, map the few distinct
    values, take by code. Same result as ``Series.map`` and much faster on long text columns
    (pandas' pointwise map over Arrow-backed strings costs about a microsecond a row)."""
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    get = mapping.get if isinstance(mapping, dict) else mapping.to_dict().get
    values = np.array([get(u, default) for u in uniques] + [default], dtype=object)
    return pd.Series(values[codes], index=keys.index, dtype=object)
