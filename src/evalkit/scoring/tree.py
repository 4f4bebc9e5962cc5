"""The framework tree above the indicators: every area (at any depth) and the base total from
the indicators' points, each node by its own aggregation and weighting.

A node with children ``i`` (indicators or sub-areas), points ``p_i``, maxima ``m_i``, shares
``s_i = p_i / m_i`` and its own points ``P``:

- ``sum``: ``Σ p_i × P / Σ m_i`` over the children present (``Σ p_i`` when all are present);
- ``weighted_mean`` / ``geometric_mean``: ``P ×`` the weighted arithmetic / geometric mean of
  the shares (:mod:`evalkit.framework.methods`);
- ``topsis``: ``P ×`` the TOPSIS closeness of the school among the year's schools
  (:mod:`evalkit.mcda.topsis`);
- ``fuzzy``: ``P ×`` the weighted score of the fuzzy comprehensive evaluation, with the
  maximum-membership grade kept as the node's ``label`` (:mod:`evalkit.mcda.fuzzy`).

Weights come from the node's ``weighting`` (:mod:`evalkit.framework.weights`). Everything is
vectorised over all school-years at once; data-driven weights and TOPSIS, which depend on the
year's schools, loop over the (few) years.

**Overrides** (for robustness analysis): :func:`aggregate_tree` takes ``overrides``, a mapping
node id → :class:`evalkit.framework.Aggregate` (or a dict of its fields, merged into the
node's own) with :data:`ROOT` for the total; :func:`with_aggregates` returns a framework with
the same replacements, for :func:`evalkit.scoring.score`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.framework import Aggregate, Area, Framework, methods, parse_framework
from evalkit.framework import weights as node_weights
from evalkit.mcda import fuzzy
from evalkit.mcda.topsis import topsis

#: the key of the framework's own aggregation (areas → base total) in ``overrides``
ROOT = "__root__"

Override = Aggregate | Mapping[str, Any]


@dataclass
class TreeScores:
    """Unrounded points of every area (``areas``: node id → Series over the rows), the base
    total, fuzzy labels (node id → Series of grades) and ``meta`` (the weights used per node,
    and per year for data-driven ones)."""

    areas: dict[str, pd.Series]
    base: pd.Series
    labels: dict[str, pd.Series] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def resolve_override(agg: Aggregate, override: Override | None) -> Aggregate:
    """``agg`` with ``override`` applied: an Aggregate replaces it; a dict is merged field by
    field (giving ``weights`` without ``weighting`` switches the node to fixed weights)."""
    if override is None:
        return agg
    if isinstance(override, Aggregate):
        return override
    merged = agg.model_dump(exclude_none=True)
    merged.update(override)
    if "weights" in override and "weighting" not in override:
        merged.pop("weighting", None)
    return Aggregate.model_validate(merged)


def with_aggregates(fw: Framework, overrides: Mapping[str, Override]) -> Framework:
    """A copy of ``fw`` with the aggregations of the named nodes replaced (validated again, so an
    AHP matrix with CR ≥ 0.1 or a weight on an unknown child is refused as in a file)."""
    data = fw.model_dump(mode="json", exclude_none=True)
    unknown = set(overrides) - {ROOT} - {a.id for _, a, _, _ in fw.iter_areas()}
    if unknown:
        raise KeyError(f"没有这些领域：{sorted(unknown)} / unknown nodes")

    def agg_json(agg: Aggregate, node: str) -> dict:
        return resolve_override(agg, overrides.get(node)).model_dump(mode="json", exclude_none=True)

    def walk(areas_json: list[dict], areas: list[Area]) -> None:
        for a_json, area in zip(areas_json, areas, strict=True):
            a_json["aggregate"] = agg_json(area.aggregate, area.id)
            walk(a_json.get("areas", []), area.areas)

    data["aggregate"] = agg_json(fw.aggregate, ROOT)
    walk(data["areas"], fw.areas)
    return parse_framework(data, f"{fw.id}（替换汇总方法）")


def aggregate_node(
    points: pd.DataFrame,
    maxima: pd.Series,
    node_points: float,
    agg: Aggregate,
    years: np.ndarray,
    record: dict[str, Any],
    memberships: Mapping[str, np.ndarray] | None = None,
) -> tuple[pd.Series, pd.Series | None]:
    """A node's points from its children's (columns of ``points``; NaN = left out), and the
    fuzzy label when the node is ``fuzzy``. ``record`` receives the weights used."""
    child_ids = [str(c) for c in points.columns]
    if agg.method == "sum":
        present_max = points.notna().mul(maxima, axis=1).sum(axis=1)
        total = points.sum(axis=1, min_count=1)
        return (total * node_points / present_max).where(present_max > 0), None
    shares = points.div(maxima.replace(0, np.nan), axis=1)
    fixed, info = node_weights.static_weights(agg, child_ids)
    if info is not None:
        record.update(info)
    data_driven = node_weights.is_data_driven(agg)
    by_year = data_driven or agg.method == "topsis"
    own = {c: m for c, m in (memberships or {}).items() if c in shares.columns}
    if not by_year:
        return _combine(shares, fixed, agg, node_points, own)
    out = pd.Series(np.nan, index=points.index)
    labels = pd.Series("", index=points.index, dtype=object) if agg.method == "fuzzy" else None
    per_year: dict[str, dict[str, float]] = {}
    for year in np.unique(years):
        mask = years == year
        part = shares[mask]
        w = fixed
        if data_driven:
            w = node_weights.data_weights(agg, part)
            per_year[str(int(year))] = w
        value, label = _combine(part, w, agg, node_points, {c: m[mask] for c, m in own.items()})
        out[mask] = value.to_numpy()
        if labels is not None and label is not None:
            labels[mask] = label.to_numpy()
    if data_driven:
        record.update({"method": agg.weighting_method, "by_year": per_year})
        if agg.weighting_method == "entropy":
            record["normalisation"] = agg.weighting.normalisation
    return out, labels


def _combine(
    shares: pd.DataFrame, w: Mapping[str, float] | None, agg: Aggregate, node_points: float,
    memberships: Mapping[str, np.ndarray] | None = None,
) -> tuple[pd.Series, pd.Series | None]:
    if agg.method == "weighted_mean":
        return node_points * methods.weighted_arithmetic_mean(shares, w), None
    if agg.method == "geometric_mean":
        return node_points * methods.weighted_geometric_mean(shares, w), None
    if agg.method == "topsis":
        spec = agg.topsis
        benefit = {c: False for c in spec.cost} if spec is not None else None
        norm = spec.normalisation if spec is not None else "vector"
        return node_points * topsis(shares, w, benefit=benefit, normalisation=norm), None
    if agg.method == "fuzzy":
        spec = agg.fuzzy
        if spec is None:
            from evalkit.framework import FuzzySpec

            spec = FuzzySpec()
        own = memberships if spec.membership == "ratings" else None
        ev = fuzzy.evaluate(
            shares, w, spec.peaks, grades=spec.grades, scores=spec.scores, operator=spec.operator, memberships=own
        )
        return node_points * ev["score"], ev["grade"]
    raise ValueError(f"unknown aggregation {agg.method!r}")


def aggregate_tree(
    points: pd.DataFrame,
    maxima: pd.Series,
    fw: Framework,
    years: np.ndarray,
    *,
    overrides: Mapping[str, Override] | None = None,
    memberships: Mapping[str, np.ndarray] | None = None,
) -> TreeScores:
    """Every area's points and the base total from the indicators' points.

    ``points``: one row per school-year, one column per indicator id (NaN = left out under
    ``reweight``); ``maxima``: the indicators' max points; ``years``: each row's year (for
    data-driven weights and TOPSIS); ``overrides``: see the module docstring; ``memberships``:
    indicator id → ``(rows, grades)`` membership from raters' marks, for fuzzy nodes with
    ``membership: ratings`` (:func:`rating_memberships`). The base is 0 for a school-year with
    nothing present."""
    overrides = overrides or {}
    areas: dict[str, pd.Series] = {}
    labels: dict[str, pd.Series] = {}
    meta: dict[str, Any] = {}

    def node(area: Area) -> pd.Series:
        if area.areas:
            children = pd.DataFrame({sub.id: node(sub) for sub in area.areas}, index=points.index)
            child_max = pd.Series({sub.id: float(sub.points) for sub in area.areas})
        else:
            ids = [i.id for i in area.indicators]
            children, child_max = points[ids], maxima[ids]
        agg = resolve_override(area.aggregate, overrides.get(area.id))
        record: dict[str, Any] = {}
        value, label = aggregate_node(children, child_max, float(area.points), agg, years, record, memberships)
        areas[area.id] = value
        if label is not None:
            labels[area.id] = label
        if record:
            meta[area.id] = record
        return value

    top = pd.DataFrame({a.id: node(a) for a in fw.areas}, index=points.index)
    top_max = pd.Series({a.id: float(a.points) for a in fw.areas})
    agg = resolve_override(fw.aggregate, overrides.get(ROOT))
    record: dict[str, Any] = {}
    base, label = aggregate_node(top, top_max, float(fw.total_points), agg, years, record, memberships)
    if label is not None:
        labels[ROOT] = label
    if record:
        meta[ROOT] = record
    return TreeScores(areas=areas, base=base.fillna(0.0), labels=labels, meta=meta)


def rating_children(fw: Framework) -> dict[str, list[str]]:
    """Rating indicators under fuzzy nodes with ``membership: ratings``: indicator id → the
    node's ``rating_labels`` (label ``k`` counts for grade ``k``)."""
    out: dict[str, list[str]] = {}
    for _, area, _, _ in fw.iter_areas():
        spec = area.aggregate.fuzzy
        if area.aggregate.method == "fuzzy" and spec is not None and spec.membership == "ratings":
            for ind in area.indicators:
                if ind.data_type == "rating":
                    out[ind.id] = list(spec.rating_labels)
    return out


def rating_memberships(marks: pd.DataFrame, fw: Framework, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Membership of each school-year in each grade from its raters' marks.

    ``marks``: observations (``school_id, year, indicator_id, source, value``) of the rating
    indicators :func:`rating_children` names; ``rows``: the school-years (``school_id, year``)
    in the order of the tree's rows. ``r_k = Σ_s w_s n_sk / n_s / Σ_s w_s``: within a source
    every mark counts equally (no trimming), sources by their weights. Rows without marks are
    NaN (the child's value band is used instead).
    """
    wanted = rating_children(fw)
    out: dict[str, np.ndarray] = {}
    if not wanted or marks.empty:
        return out
    weights = fw.sources.weights
    m = marks[marks["indicator_id"].isin(list(wanted))].copy()
    m["w_source"] = m["source"].map(weights).fillna(0.0)
    m = m[m["w_source"] > 0]
    key = ["school_id", "year", "indicator_id"]
    m["w"] = m["w_source"] / m.groupby([*key, "source"])["value"].transform("size")
    position = pd.Series(np.arange(len(rows)), index=pd.MultiIndex.from_frame(rows[["school_id", "year"]]))
    for ind_id, labels in wanted.items():
        part = m[m["indicator_id"] == ind_id]
        grades = len(labels)
        # canonical ratings are A–D; 好/较好/一般/差 (the rating rule's other labels) count alike
        chinese = ["好", "较好", "一般", "差"][:grades]
        grade_of = {g: k for k, g in enumerate(chinese)} | {lab: k for k, lab in enumerate(labels)}
        k = part["value"].astype(str).map(grade_of)
        part = part.assign(k=k).dropna(subset=["k"])
        arr = np.full((len(rows), grades), np.nan)
        if not part.empty:
            table = part.pivot_table(
                index=["school_id", "year"], columns="k", values="w", aggfunc="sum", fill_value=0.0
            )
            table = table.reindex(columns=range(grades), fill_value=0.0)
            shares = table.to_numpy() / table.to_numpy().sum(axis=1, keepdims=True)
            at = position.reindex(table.index).to_numpy()
            ok = ~np.isnan(at)
            arr[at[ok].astype(int)] = shares[ok]
        out[ind_id] = arr
    return out


@dataclass
class TreeInputs:
    """What :func:`aggregate_tree` needs, taken from a Results: ``points`` (rows = school-years
    in ``rows`` order, columns = indicator ids; NaN where an indicator was left out under
    ``reweight``), ``maxima`` and ``years``."""

    rows: pd.DataFrame
    points: pd.DataFrame
    maxima: pd.Series
    years: np.ndarray


def tree_inputs(results: Any, fw: Framework) -> TreeInputs:
    """The indicator points of a :class:`evalkit.results.Results` as :func:`aggregate_tree`
    inputs, for re-aggregating under other weights or methods without re-scoring (the points are
    the published ones, rounded to the indicators' display precision)::

        t = tree_inputs(results, fw)
        again = aggregate_tree(t.points, t.maxima, fw, t.years, overrides={ROOT: {"method": "geometric_mean"}})
    """
    ind = results.indicators
    ids = [i.id for i in fw.indicators]
    # an indicator left out under ``reweight`` has NaN points in Results.indicators already
    wide = ind[["school_id", "year", "indicator_id", "points"]].pivot_table(
        index=["school_id", "year"], columns="indicator_id", values="points", aggfunc="first", dropna=False
    ).reindex(columns=ids)
    rows = wide.index.to_frame(index=False)
    maxima = pd.Series({i.id: float(i.max_points) for i in fw.indicators})[ids]
    return TreeInputs(rows=rows, points=wide.reset_index(drop=True), maxima=maxima, years=rows["year"].to_numpy())

