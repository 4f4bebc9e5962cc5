"""The published result of one year, taken apart into what a Monte Carlo replication varies.

:func:`build_model` runs the first steps of scoring (:mod:`evalkit.scoring`) on the year's
observations and keeps, at full precision:

- ``points[s, i]``: each school's indicator points before rounding (NaN where a missing
  indicator is left out under the ``reweight`` policy), and which cells were missing;
- the **rater pools**: every school × indicator × source marked by two or more raters, with each
  rater's points, the published trimmed mean and the share ``w_src / Σ w_present`` of that source
  in the indicator's points (so a new rater mean ``m`` moves the indicator by
  ``share × (m − published mean)``);
- the **node weights** of the tree (:func:`node_weights`, the one place weights are read);
- from the published Results: bonus points, each school's worst veto grade, the grade bands,
  the quota and the precision.

Replaying the model with nothing perturbed gives back the published totals, grades and ranks
(:func:`evalkit.robustness.simulate.reproduces`), which the tests assert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evalkit.framework import Framework
from evalkit.results import Results

ARITHMETIC, GEOMETRIC = "arithmetic", "geometric"


@dataclass(frozen=True)
class NodeWeights:
    """One aggregating node: its id and name, its points, how it combines its children's shares
    (``arithmetic`` / ``geometric`` weighted mean) and the children's ids and weights; ``leaf``:
    its children are indicators (else sub-areas); ``depth``: 0 for the root (the total), 1 for
    the areas under it, 2 for their sub-areas, ….

    A ``sum`` node is the arithmetic mean of its children's shares weighted by their maximum
    points: ``Σ p_i × P / Σ max_i = P × Σ max_i (p_i / max_i) / Σ max_i``."""

    node_id: str
    name: str
    points: float
    method: str
    children: tuple[str, ...]
    weights: np.ndarray
    leaf: bool = True
    depth: int = 1


def node_weights(fw: Framework, derived: Mapping[str, Mapping[str, float]] | None = None) -> list[NodeWeights]:
    """The aggregating nodes of ``fw`` at every depth, each node after its sub-areas
    (post-order: for the shipped two-level framework the areas in framework order), the root
    last.

    This is the only place the robustness analysis reads weights: fixed weights, equal weights
    and AHP weights (:func:`evalkit.framework.weights.static_weights`); a ``sum`` node weighs
    its children by their maximum points; data-driven weights (entropy, CRITIC) depend on the
    year's schools and are taken from ``derived`` (node id, ``""`` for the root → child → weight,
    as :func:`data_driven_weights` computes them), else held equal."""
    from evalkit.framework import weights as framework_weights

    def method(agg_method: str) -> str:
        return GEOMETRIC if agg_method == "geometric_mean" else ARITHMETIC

    def weights(agg, ids: list[str], maxima: list[float], node: str) -> np.ndarray:  # type: ignore[no-untyped-def]
        if agg.method == "sum":
            return np.asarray(maxima, dtype=float)
        fixed, _ = framework_weights.static_weights(agg, ids)
        if derived is not None and node in derived:
            fixed = dict(derived[node])
        if fixed is None:
            return np.ones(len(ids))
        return np.array([float(fixed.get(i, 0.0)) for i in ids])

    out: list[NodeWeights] = []

    def visit(area, depth: int) -> None:  # type: ignore[no-untyped-def]
        for sub in area.areas:
            visit(sub, depth + 1)
        children = list(area.children)
        ids = [c.id for c in children]
        out.append(NodeWeights(area.id, area.name, float(area.points), method(area.aggregate.method), tuple(ids),
                               weights(area.aggregate, ids, [area.child_max(c) for c in children], area.id),
                               leaf=not area.areas, depth=depth))

    for area in fw.areas:
        visit(area, 1)
    ids = [a.id for a in fw.areas]
    out.append(NodeWeights("", fw.name, float(fw.total_points), method(fw.aggregate.method), tuple(ids),
                           weights(fw.aggregate, ids, [a.points for a in fw.areas], ""), leaf=False, depth=0))
    return out


def data_driven_weights(fw: Framework, points: np.ndarray, year: int) -> dict[str, dict[str, float]]:
    """The entropy / CRITIC weights of the year's data-driven nodes (node id, ``""`` for the
    root → child → weight), computed by the scoring tree (:func:`evalkit.scoring.tree.
    aggregate_tree`) from the year's indicator points ``points`` (schools × indicators)."""
    from evalkit.framework import weights as framework_weights
    from evalkit.scoring.tree import ROOT, aggregate_tree

    nodes = [a.id for _, a, _, _ in fw.iter_areas() if framework_weights.is_data_driven(a.aggregate)]
    if framework_weights.is_data_driven(fw.aggregate):
        nodes.append(ROOT)
    if not nodes:
        return {}
    ids = [i.id for i in fw.indicators]
    maxima = pd.Series({i.id: float(i.max_points) for i in fw.indicators})[ids]
    tree = aggregate_tree(pd.DataFrame(points, columns=ids), maxima, fw, np.full(len(points), int(year)))
    return {("" if node == ROOT else node): tree.meta[node]["by_year"][str(int(year))] for node in nodes
            if node in tree.meta}


def node_columns(nodes: list[NodeWeights], indicator_ids: list[str]) -> list[np.ndarray]:
    """Per node (root included): its indicators' columns in the points matrix for a leaf node,
    else its children's positions in ``nodes``."""
    col_of = {i: k for k, i in enumerate(indicator_ids)}
    node_of = {n.node_id: k for k, n in enumerate(nodes[:-1])}
    return [np.array([(col_of if n.leaf else node_of)[c] for c in n.children], dtype=int) for n in nodes]


@dataclass
class RaterPool:
    """The multi-rater groups of one indicator: group ``g`` is school ``school[g]`` (row of the
    model's school axis); ``marks[n]`` = ``(groups, points)`` for the groups of ``n`` raters
    (``points`` is ``len(groups) × n``); ``base[g]`` the published trimmed mean and
    ``share[g]`` the source's share of the indicator's points."""

    indicator_id: str
    name: str
    column: int
    school: np.ndarray
    share: np.ndarray
    base: np.ndarray
    marks: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class Model:
    """One year's published result, ready to be replayed (see the module docstring)."""

    year: int
    school_ids: np.ndarray
    indicator_ids: list[str]
    points: np.ndarray  # (S, I) unrounded, NaN = left out (reweight)
    missing: np.ndarray  # (S, I) bool
    policy: np.ndarray  # (I,) zero_flag | reweight | error
    maxima: np.ndarray  # (I,)
    nodes: list[NodeWeights]
    columns: list[np.ndarray]  # per node: its indicator columns (leaf) or child node positions
    bonus: np.ndarray  # (S,) published (rounded)
    veto_grade: np.ndarray  # (S,) index in grade_order of the worst veto, -1 none
    grade_order: list[str]
    band_mins: np.ndarray  # ascending
    band_grades: np.ndarray  # grade index of each band (ascending mins)
    quota_grade: int  # index in grade_order, -1 none
    quota_share: float
    quota_ties: str
    decimals: int
    trim_min: int
    trim_drop: int
    pools: list[RaterPool]
    published: pd.DataFrame  # school_id, total, grade, rank (model order)
    marks: pd.DataFrame  # every rater's points of the multi-rater items (for the audit)

    @property
    def n_schools(self) -> int:
        return len(self.school_ids)

    @property
    def leaves(self) -> list[int]:
        """Positions in ``nodes`` of the areas whose children are indicators."""
        return [k for k, n in enumerate(self.nodes[:-1]) if n.leaf]


def build_model(observations: pd.DataFrame, fw: Framework, results: Results, year: int) -> Model:
    """The model of ``year`` (see the module docstring) from the observations that were scored
    into ``results`` with ``fw``."""
    from evalkit.observations import encode_observations
    from evalkit.scoring.combine import combine_raters, combine_sources
    from evalkit.scoring.engine import _indicator_grid
    from evalkit.scoring.nodes import node_table
    from evalkit.scoring.prepare import check, scorable_rows, score_rows

    year = int(year)
    data = encode_observations(observations, years=[year])
    enc = data.enc
    nodes, rules = node_table(fw)
    parsed = check(data, fw, nodes, rules)
    rows = scorable_rows(nodes, rules, enc, parsed)
    rows["points"] = score_rows(rows, nodes, rules, enc)
    rows["sentence"] = np.full(len(rows["points"]), "", dtype=object)
    raw = {k: rows[k].copy() for k in ("_sch", "_ind", "_src", "_rcode", "_source", "_node", "_shared", "points",
                                       "num", "_vcode")}
    per_source = combine_raters(rows, nodes, fw.sources.trim, fw.precision)
    per_node = combine_sources(rows, per_source, nodes, fw, fw.precision, enc)

    published = results.schools[results.schools["year"] == year]
    sy = published[["school_id", "year"]].sort_values(["year", "school_id"]).reset_index(drop=True)
    grid, _ = _indicator_grid(per_node, sy, nodes, fw, enc)
    ind_ids = [i.id for i in fw.indicators]
    n_ind = len(ind_ids)
    points = grid["points"].to_numpy(dtype=float).reshape(-1, n_ind)
    missing = grid["missing"].to_numpy(dtype=bool).reshape(-1, n_ind)
    school_ids = sy["school_id"].astype(str).to_numpy(dtype=object)

    pub = published.set_index(published["school_id"].astype(str)).loc[school_ids]
    order = fw.grade_order
    grade_index = {g: i for i, g in enumerate(order)}
    veto = np.full(len(school_ids), -1)
    vetoes = results.vetoes[results.vetoes["year"] == year] if len(results.vetoes) else results.vetoes
    if len(vetoes):
        worst = vetoes.assign(g=vetoes["grade"].map(grade_index)).groupby(vetoes["school_id"].astype(str))["g"].max()
        veto = pd.Series(school_ids).map(worst).fillna(-1).to_numpy(dtype=int)
    bands = sorted(fw.grades, key=lambda g: g.min)
    weights = fw.sources.weights
    pools, marks = _rater_pools(raw, per_source, rows, nodes, enc, school_ids, ind_ids, weights, fw)
    node_list = node_weights(fw, data_driven_weights(fw, points, year))
    return Model(
        year=year,
        school_ids=school_ids,
        indicator_ids=ind_ids,
        points=points,
        missing=missing,
        policy=np.array([fw.missing_policy(i) for i in fw.indicators], dtype=object),
        maxima=np.array([i.max_points for i in fw.indicators], dtype=float),
        nodes=node_list,
        columns=node_columns(node_list, ind_ids),
        bonus=pub["bonus"].to_numpy(dtype=float),
        veto_grade=veto,
        grade_order=order,
        band_mins=np.array([b.min for b in bands], dtype=float),
        band_grades=np.array([grade_index[b.name] for b in bands]),
        quota_grade=grade_index[fw.quota.grade] if fw.quota is not None else -1,
        quota_share=fw.quota.max_share if fw.quota is not None else 1.0,
        quota_ties=fw.quota.ties if fw.quota is not None else "demote_all",
        decimals=fw.precision,
        trim_min=fw.sources.trim.min_raters,
        trim_drop=fw.sources.trim.drop,
        pools=pools,
        published=pd.DataFrame({
            "school_id": school_ids,
            "school_name": pub["school_name"].to_numpy(dtype=object),
            "total": pub["total"].to_numpy(dtype=float),
            "grade": pub["grade"].to_numpy(dtype=object),
            "rank": pub["rank"].to_numpy(dtype=int),
        }),
        marks=marks.assign(year=year),
    )


def _rater_pools(raw, per_source, rows, nodes, enc, school_ids, ind_ids, weights, fw):  # type: ignore[no-untyped-def]
    """Rater pools per indicator and the table of every rater's points (see :class:`RaterPool`)."""
    # the rows that share a source with other rows: one group per school × year × node × source
    cand = np.flatnonzero(raw["_shared"])
    gid_all = pd.factorize(raw["_source"][cand])[0] if len(cand) else np.zeros(0, dtype=int)
    multi = cand[(np.bincount(gid_all) > 1)[gid_all]] if len(cand) else cand
    kind = nodes["kind"].to_numpy()
    multi = multi[kind[raw["_ind"][multi]] == "indicator"]
    empty_marks = pd.DataFrame(columns=["school_id", "indicator_id", "indicator_name", "source", "rater", "points",
                                        "max_points", "value"])
    if not len(multi):
        return [], empty_marks
    # Σ w over the sources present for each school × node (weight > 0), as in combine_sources
    sources = enc.uniques["source"]
    weight_of = np.array([weights.get(s, 0.0) for s in sources] + [0.0])
    w_src = weight_of[rows["_src"][per_source]]
    node_key = rows["_node"][per_source]
    present = pd.Series(np.where(w_src > 0, w_src, 0.0)).groupby(node_key).sum()

    school_pos = {s: k for k, s in enumerate(school_ids)}
    sid = enc.uniques["school_id"][raw["_sch"][multi]]
    row_school = np.array([school_pos.get(str(s), -1) for s in sid])
    keep = row_school >= 0
    multi, row_school = multi[keep], row_school[keep]
    gid, first = pd.factorize(raw["_source"][multi])[0], None
    n_groups = int(gid.max(initial=-1)) + 1
    first = np.full(n_groups, -1)
    first[gid[::-1]] = np.arange(len(gid))[::-1]
    size = np.bincount(gid, minlength=n_groups)
    g_ind = raw["_ind"][multi][first]
    g_school = row_school[first]
    g_share = weight_of[raw["_src"][multi][first]] / present.reindex(raw["_node"][multi][first]).to_numpy()
    pts = raw["points"][multi]

    # each group's points as a row of a (groups × n) matrix, by size
    slot = np.zeros(len(gid), dtype=int)
    order = np.argsort(gid, kind="stable")
    starts = np.r_[0, np.cumsum(size)[:-1]]
    slot[order] = np.arange(len(gid)) - np.repeat(starts, size)
    col_of = {i: k for k, i in enumerate(ind_ids)}
    pools = []
    for ind in np.unique(g_ind):
        ind_id = str(nodes.index[ind])
        groups_here = np.flatnonzero(g_ind == ind)
        local = np.full(n_groups, -1)
        local[groups_here] = np.arange(len(groups_here))
        pool = RaterPool(ind_id, str(nodes.at[ind_id, "name"]), col_of[ind_id], g_school[groups_here],
                         g_share[groups_here], np.zeros(len(groups_here)))
        for n in np.unique(size[groups_here]):
            gs = groups_here[size[groups_here] == n]
            mat = np.zeros((len(gs), n))
            at = np.isin(gid, gs)
            where = np.searchsorted(gs, gid[at])
            mat[where, slot[at]] = pts[at]
            pool.marks[int(n)] = (local[gs], mat)
            pool.base[local[gs]] = trimmed_mean(mat, fw.sources.trim.min_raters, fw.sources.trim.drop)
        pools.append(pool)

    max_points = nodes["max_points"].to_numpy(dtype=float)
    is_label = nodes["is_label"].to_numpy()[raw["_ind"][multi]]
    label = np.where(raw["_vcode"][multi] >= 0, np.append(enc.uniques["value"], "")[raw["_vcode"][multi]], "")
    marks = pd.DataFrame({
        "school_id": pd.Series(sid[keep], dtype=object).astype(str),
        "indicator_id": nodes.index.to_numpy(dtype=object)[raw["_ind"][multi]],
        "indicator_name": nodes["name"].to_numpy(dtype=object)[raw["_ind"][multi]],
        "source": enc.uniques["source"][raw["_src"][multi]],
        "rater": np.append(enc.uniques["rater"], "")[raw["_rcode"][multi]],
        "points": pts,
        "max_points": max_points[raw["_ind"][multi]],
        "value": np.where(is_label, label, raw["num"][multi].astype(object)),
    })
    marks["value"] = marks["value"].astype(str)
    return pools, marks.sort_values(["indicator_id", "school_id", "source", "rater"]).reset_index(drop=True)


def trimmed_mean(points: np.ndarray, min_raters: int, drop: int) -> np.ndarray:
    """Mean over the last axis after dropping the ``drop`` highest and lowest marks when there
    are at least ``min_raters`` of them (the framework's ``sources.trim``, as in scoring)."""
    n = points.shape[-1]
    if n >= min_raters and drop > 0:
        return np.sort(points, axis=-1)[..., drop:n - drop].mean(axis=-1)
    return points.mean(axis=-1)
