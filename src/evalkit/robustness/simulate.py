"""Replications of a year's result, vectorised over replications × schools × indicators.

An *input group* is one uncertain input, drawn independently of the others:

- ``weights:<node>`` — the child weights of a node at any depth of the tree (an area over
  indicators, an area over sub-areas, the total), each multiplied by ``U(1 − s, 1 + s)`` and
  renormalised to the same sum (``uniform``), or drawn from ``Dirichlet(κ w / Σw) × Σw``
  (``dirichlet``);
- ``raters:<indicator>`` — for every school whose item was marked by several raters, a bootstrap
  resample of its raters (``n`` marks drawn with replacement from the ``n``), trimmed as the
  framework trims, replacing the published mean in the indicator's points;
- ``aggregation`` — arithmetic ↔ geometric weighted mean at every aggregating node, with
  probability ½ per replication;
- ``missing`` — ``zero_flag`` ↔ ``reweight`` for every missing indicator, with probability ½.

A replication then recomputes what scoring does after the indicators: the areas over indicators,
then the areas over sub-areas (children first, to any depth) and the total by the (perturbed)
weights and methods, the base and total rounded half up to the framework's precision,
bonus added, grade by band, vetoes (published, fixed), the quota (``floor(share × N)`` holders
kept, ties per the framework) and ranks (ties share the better rank). Each group draws from its
own generator seeded with ``(seed, sample, group)``, so a group's draws can be replayed exactly
(what the pick-freeze sensitivity estimator in :mod:`evalkit.robustness.summary` needs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from evalkit.robustness.config import RobustnessConfig
from evalkit.robustness.model import GEOMETRIC, Model, trimmed_mean

CELLS_PER_CHUNK = 4_000_000
"""Replications are evaluated in chunks of about this many replication × school × indicator
cells (a few tens of MB per float array)."""


@dataclass(frozen=True)
class Group:
    """One input group: ``key`` (``weights:A``, ``raters:A6``, ``aggregation``, ``missing``),
    its ``kind`` and the node / pool it perturbs (index into ``model.nodes`` / ``model.pools``)."""

    key: str
    kind: str
    index: int = -1


def input_groups(model: Model, config: RobustnessConfig) -> list[Group]:
    """The input groups switched on by ``config`` that can vary anything in ``model``."""
    out = []
    if config.weights != "off":
        out += [Group(f"weights:{n.node_id or 'total'}", "weights", k) for k, n in enumerate(model.nodes)
                if len(n.children) > 1]
    if config.raters:
        out += [Group(f"raters:{p.indicator_id}", "raters", k) for k, p in enumerate(model.pools)]
    if config.aggregation:
        out.append(Group("aggregation", "aggregation"))
    if config.missing and model.missing.any():
        out.append(Group("missing", "missing"))
    return out


def _rng(seed: int, sample: int, group: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(sample), int(group)])


def _draw(group: Group, model: Model, config: RobustnessConfig, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` replications' draws of one input group."""
    if group.kind == "weights":
        w = model.nodes[group.index].weights
        if config.weights == "dirichlet":
            alpha = np.maximum(config.dirichlet_concentration * w / w.sum(), 1e-9)
            return rng.dirichlet(alpha, size=n) * w.sum()
        f = rng.uniform(1 - config.weight_spread, 1 + config.weight_spread, size=(n, len(w)))
        drawn = w * f
        return drawn * (w.sum() / drawn.sum(axis=1, keepdims=True))
    if group.kind == "raters":
        pool = model.pools[group.index]
        out = np.empty((n, len(pool.school)))
        for size, (groups, marks) in sorted(pool.marks.items()):
            pick = rng.integers(0, size, size=(n, len(groups), size))
            resampled = np.take_along_axis(np.broadcast_to(marks, (n, *marks.shape)), pick, axis=2)
            out[:, groups] = trimmed_mean(resampled, model.trim_min, model.trim_drop)
        return out
    return rng.random(n) < 0.5  # aggregation / missing: the alternative with probability ½


def chunk_sizes(model: Model, n: int) -> list[int]:
    per = max(1, CELLS_PER_CHUNK // max(1, model.n_schools * len(model.indicator_ids)))
    return [min(per, n - k) for k in range(0, n, per)]


def draws(
    model: Model, config: RobustnessConfig, groups: list[Group], n: int, sample: int,
    swap: tuple[int, int] | None = None, only: int | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Chunks of draws for ``n`` replications of ``sample``; with ``swap = (k, other)`` group
    ``k`` is drawn from sample ``other`` instead (the same draws that sample would have); with
    ``only = k`` group ``k`` alone is drawn (the others held at their published value)."""
    rngs = [_rng(config.seed, swap[1] if swap and swap[0] == k else sample, k) for k in range(len(groups))]
    drawn = [k for k in range(len(groups)) if only is None or k == only]
    for size in chunk_sizes(model, n):
        yield {groups[k].key: _draw(groups[k], model, config, rngs[k], size) for k in drawn}


def evaluate(model: Model, groups: list[Group], drawn: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, ...]:
    """``(total, grade, rank)`` of ``n`` replications (arrays ``n × schools``; ``grade`` is the
    index in ``model.grade_order``) for one chunk of draws (groups absent from ``drawn`` are
    held at their published value).

    The areas over indicators are computed by :func:`_areas_linear` (two matrix products per
    area) when every node is an arithmetic mean in every replication, else by
    :func:`_areas_dense`; the areas over sub-areas (any depth) and the total by
    :func:`_combine` of their children's shares, children first."""
    alt_method = drawn.get("aggregation")
    geometric = any(nd.method == GEOMETRIC for nd in model.nodes) or (alt_method is not None and alt_method.any())
    area_fn = _areas_dense if geometric else _areas_linear
    leaves = model.leaves
    values = np.empty((n, model.n_schools, len(model.nodes) - 1))
    values[:, :, leaves] = area_fn(model, groups, drawn, n)
    for k, node in enumerate(model.nodes[:-1]):
        if not node.leaf:
            w = _weights(node, groups, drawn, k, n)
            values[:, :, k] = node.points * _combine(_child_shares(model, values, k), w, node.method, alt_method)
    root = model.nodes[-1]
    k_root = len(model.nodes) - 1
    w = _weights(root, groups, drawn, k_root, n)
    base = np.nan_to_num(root.points * _combine(_child_shares(model, values, k_root), w, root.method, alt_method),
                         nan=0.0)
    total = round_half_up(round_half_up(base, model.decimals) + model.bonus, model.decimals)
    grade = grades(model, total)
    return total, grade, ranks(total)


def _child_shares(model: Model, values: np.ndarray, k: int) -> np.ndarray:
    """The shares (points ÷ the child's points) of node ``k``'s child areas (``n × S × C``)."""
    kids = model.columns[k]
    kid_points = np.array([model.nodes[c].points for c in kids], dtype=float)
    return values[:, :, kids] / np.where(kid_points > 0, kid_points, np.nan)


def _rater_deltas(model: Model, groups: list[Group], drawn: dict[str, np.ndarray]):  # type: ignore[no-untyped-def]
    """``(pool, Δpoints)`` per drawn rater pool: ``share × (drawn mean − published mean)``."""
    for g in groups:
        if g.kind == "raters" and g.key in drawn:
            pool = model.pools[g.index]
            yield pool, pool.share * (drawn[g.key] - pool.base)  # (n, G)


def _missing_alternative(model: Model) -> np.ndarray:
    """The indicator points under the other missing-data policy (``zero_flag`` ↔ ``reweight``)."""
    points = model.points.copy()
    points[model.missing & (model.policy == "zero_flag")] = np.nan
    points[model.missing & (model.policy == "reweight")] = 0.0
    return points


def _areas_dense(model: Model, groups: list[Group], drawn: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Points of the areas over indicators (``n × S × leaf areas``) from the full ``n × S × I``
    array of indicator points: any mix of arithmetic and geometric means."""
    points = np.broadcast_to(model.points, (n, *model.points.shape)).copy()
    for pool, delta in _rater_deltas(model, groups, drawn):
        col = points[:, :, pool.column]
        np.add.at(col, (slice(None), pool.school), delta)
        points[:, :, pool.column] = col
    alt_missing = drawn.get("missing")
    if alt_missing is not None and alt_missing.any():
        alternative = _missing_alternative(model)
        changed = model.missing
        sel = points[alt_missing]
        sel[:, changed] = alternative[changed]
        points[alt_missing] = sel
    maxima = np.where(model.maxima > 0, model.maxima, np.nan)
    shares = points / maxima
    alt_method = drawn.get("aggregation")
    out = []
    for k in model.leaves:
        node = model.nodes[k]
        w = _weights(node, groups, drawn, k, n)
        out.append(node.points * _combine(shares[:, :, model.columns[k]], w, node.method, alt_method))
    return np.stack(out, axis=2)


def _areas_linear(model: Model, groups: list[Group], drawn: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Points of the areas over indicators (``n × S × leaf areas``) when every area is a weighted
    arithmetic mean of its indicators' shares: ``P × (W Xᵀ) / (W Pᵀ)`` with ``X`` the shares (0
    where left out) and ``P`` the presence of each school's indicators — two small matrix products per area, the rater
    draws added to the numerator of their column, the other missing-data policy as a second
    pair of products for the replications that draw it."""
    maxima = np.where(model.maxima > 0, model.maxima, np.nan)
    deltas = list(_rater_deltas(model, groups, drawn))
    alt_missing = drawn.get("missing")
    use_alt = alt_missing is not None and alt_missing.any()
    variants = [model.points] + ([_missing_alternative(model)] if use_alt else [])
    leaves = model.leaves
    out = np.empty((n, model.n_schools, len(leaves)))
    for j, k in enumerate(leaves):
        node = model.nodes[k]
        cols = model.columns[k]
        w = np.ascontiguousarray(_weights(node, groups, drawn, k, n))
        results = []
        for points in variants:
            shares = points[:, cols] / maxima[cols]
            present = ~np.isnan(shares)
            # einsum's own loops, not BLAS: the products are small, and a threaded BLAS spinning
            # on a busy machine cost more than the arithmetic (docs/benchmarks.md)
            num = np.einsum("rc,sc->rs", w, np.where(present, shares, 0.0))  # (n, S)
            den = np.einsum("rc,sc->rs", w, present.astype(float))
            for pool, delta in deltas:
                at = np.flatnonzero(cols == pool.column)
                if len(at):
                    np.add.at(num, (slice(None), pool.school), w[:, at[0]][:, None] * delta / maxima[pool.column])
            results.append(node.points * num / np.where(den > 0, den, np.nan))
        out[:, :, j] = np.where(alt_missing[:, None], results[1], results[0]) if use_alt else results[0]
    return out


def _weights(node, groups, drawn, index, n):  # type: ignore[no-untyped-def]
    for g in groups:
        if g.kind == "weights" and g.index == index and g.key in drawn:
            return drawn[g.key]
    return np.broadcast_to(node.weights, (n, len(node.weights)))


def _combine(x: np.ndarray, w: np.ndarray, method: str, alternative: np.ndarray | None) -> np.ndarray:
    """Weighted mean of the children's shares ``x`` (``n × S × C``) with weights ``w``
    (``n × C``), over the children present (NaN = left out); ``method`` per replication, swapped
    where ``alternative`` is true. Geometric: ``exp(Σ w ln x / Σ w)``, 0 when a child with
    weight > 0 has share 0."""
    w3 = w[:, None, :]
    present = ~np.isnan(x)
    den = np.where(present, w3, 0.0).sum(axis=2)
    xs = np.nan_to_num(x, nan=0.0)
    arith = (xs * w3).sum(axis=2) / np.where(den > 0, den, np.nan)
    use_geo = np.full(len(x), method == GEOMETRIC)
    if alternative is not None:
        use_geo = use_geo ^ alternative
    if not use_geo.any():
        return arith
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(present & (xs > 0), np.log(np.where(xs > 0, xs, 1.0)), 0.0)
        geo = np.exp((logs * w3).sum(axis=2) / np.where(den > 0, den, np.nan))
    zero = (present & (xs <= 0) & (w3 > 0)).any(axis=2)
    geo = np.where(zero & (den > 0), 0.0, geo)
    return np.where(use_geo[:, None], geo, arith)


def round_half_up(x: np.ndarray, decimals: int) -> np.ndarray:
    """:func:`evalkit.textfmt.round_half_up` on arrays (the same formula and tolerance)."""
    factor = 10.0**decimals
    return np.sign(x) * np.floor(np.abs(x) * factor + 0.5 + 1e-9) / factor + 0.0


def grades(model: Model, total: np.ndarray) -> np.ndarray:
    """Grade index (0 = best) per replication × school: band, then the worse of it and the veto
    grade, then the quota (see :mod:`evalkit.scoring.grading`)."""
    band = np.clip(np.searchsorted(model.band_mins, total, side="right") - 1, 0, len(model.band_mins) - 1)
    grade = np.maximum(model.band_grades[band], model.veto_grade)
    q = model.quota_grade
    if q < 0:
        return grade
    allowed = int(np.floor(model.quota_share * model.n_schools + 1e-9))
    holders = grade == q
    if allowed >= model.n_schools:
        return grade
    held = -np.where(holders, total, -np.inf)  # negated: the k-th smallest is the k-th best

    def kth_best(k: int) -> np.ndarray:  # 0-based, by partition (no full sort)
        return -np.partition(held, k, axis=1)[:, k]

    if model.quota_ties == "demote_all":
        # kept iff fewer than allowed + 1 holders have a total ≥ mine: total > the (allowed+1)-th best
        cut = kth_best(allowed)
        keep = total > cut[:, None]
    else:  # admit_all: kept iff fewer than ``allowed`` holders are strictly better
        cut = kth_best(allowed - 1) if allowed >= 1 else np.full(len(total), np.inf)
        keep = total >= cut[:, None]
    demote = holders & ~keep
    return np.where(demote, np.minimum(grade + 1, len(model.grade_order) - 1), grade)


def ranks(total: np.ndarray) -> np.ndarray:
    """Rank per replication × school: 1 + the number of schools with a higher total."""
    order = np.argsort(-total, axis=1, kind="stable")
    s = np.take_along_axis(total, order, axis=1)
    pos = np.arange(total.shape[1])
    new = np.ones_like(s, dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    first = np.maximum.accumulate(np.where(new, pos, 0), axis=1) + 1
    out = np.empty_like(first)
    np.put_along_axis(out, order, first, axis=1)
    return out


def replay(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The published result recomputed with nothing perturbed: ``(total, grade, rank)`` per school."""
    total, grade, rank = evaluate(model, [], {}, 1)
    return total[0], grade[0], rank[0]


def reproduces(model: Model) -> bool:
    """Whether the model with nothing perturbed gives the published totals, grades and ranks."""
    total, grade, rank = replay(model)
    pub = model.published
    order = {g: i for i, g in enumerate(model.grade_order)}
    return bool(
        np.array_equal(total, pub["total"].to_numpy(dtype=float))
        and np.array_equal(grade, pub["grade"].map(order).to_numpy())
        and np.array_equal(rank, pub["rank"].to_numpy())
    )


def simulate(model: Model, config: RobustnessConfig, groups: list[Group] | None = None, *,
             sample: int = 0, n: int | None = None, swap: tuple[int, int] | None = None,
             only: int | None = None) -> tuple[np.ndarray, ...]:
    """``(total, grade, rank)`` of ``n`` (default ``config.replications``) replications
    (``swap`` and ``only``: see :func:`draws`)."""
    groups = input_groups(model, config) if groups is None else groups
    n = config.replications if n is None else n
    chunks = draws(model, config, groups, n, sample, swap, only)
    parts = [evaluate(model, groups, d, len(next(iter(d.values()))) if d else size)
             for d, size in zip(chunks, chunk_sizes(model, n), strict=True)]
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))
