"""Combining raters and sources, and the sentence that explains each indicator's points.

Raters (several inspectors marking one item, same source): with at least ``trim.min_raters``
marks the ``trim.drop`` highest and lowest *points* are dropped; the points are the mean of the
rest (``Σ kept / n_kept``).

Sources (self-assessment, inspection, survey): ``points = Σ_s w_s p_s / Σ_s w_s`` over the
sources present for that school × indicator, with the framework's ``sources.weights``
re-normalised over those present. The combined raw value of a numeric indicator is the same
weighted mean of the sources' values (used for veto thresholds and display).

Explanations are built once per distinct (indicator, value, points) with the rule's own
sentence and taken onto rows by position; combination clauses are assembled column-wise.
Groups are integer ids (one factorisation), and sums per group are ``np.bincount``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.framework import Framework, RaterTrim
from evalkit.rules import Case
from evalkit.scoring.nodes import lookup
from evalkit.scoring.strjoin import join_by_group
from evalkit.textfmt import SOURCE_NAMES, num, num_series

SOURCE_KEY = ["school_id", "year", "indicator_id", "source"]
NODE_KEY = ["school_id", "year", "indicator_id"]


def got_series(points: pd.Series, max_points: pd.Series, decimals: int) -> pd.Series:
    """Vectorised :attr:`evalkit.rules.Case.got`: ``得满分 4 分`` or ``得 3.5 分（满分 4 分）``."""
    full = (points >= max_points - 1e-9).to_numpy()
    max_text = num_series(max_points).to_numpy(dtype=object)
    pts_text = num_series(points, decimals).to_numpy(dtype=object)
    out = np.where(full, "得满分 " + max_text + " 分", "得 " + pts_text + " 分（满分 " + max_text + " 分）")
    return pd.Series(out, index=points.index, dtype=object)


def _group_ids(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Group number of each row, in order of first appearance (one int64 key column is the
    fast case: the engine's ``_node`` / ``_source`` codes)."""
    if len(keys) == 1:
        return pd.factorize(frame[keys[0]])[0]
    return frame.groupby(keys, sort=False).ngroup().to_numpy()


def rule_sentences(rows: pd.DataFrame, nodes: pd.DataFrame, rules: dict, decimals: int) -> pd.Series:
    """The rule's own sentence for every row, computed once per distinct
    (indicator, value as shown, points)."""
    gid = _group_ids(rows, ["_ind", "_text", "points"])
    _, first = np.unique(gid, return_index=True)
    distinct = rows.iloc[first]
    sentences = np.empty(len(first), dtype=object)
    info = nodes.to_dict("index")
    for k, (ind_id, text, pts, value) in enumerate(
        zip(distinct["indicator_id"], distinct["value_text"], distinct["points"], distinct["value"], strict=True)
    ):
        node = info[ind_id]
        spec = rules[node["rule_key"]][0]
        case = Case(
            name=node["name"], unit=node["unit"], data_type=node["data_type"], value=value,
            value_text=text, points=float(pts), max_points=float(node["max_points"]), decimals=decimals,
        )
        sentences[gid[first[k]]] = spec.rule.explain(case, spec.parsed)
    return pd.Series(sentences[gid], index=rows.index, dtype=object)


def combine_raters(rows: pd.DataFrame, nodes: pd.DataFrame, trim: RaterTrim, decimals: int) -> pd.DataFrame:
    """One row per school × year × indicator × source: points (trimmed mean over raters),
    value, value_text, sentence, evidence, n_raters."""
    gid = _group_ids(rows, ["_source"])
    n = np.bincount(gid)[gid]
    cols = [*SOURCE_KEY, "_node", "value", "num", "value_text", "points", "sentence", "evidence"]
    out = rows[cols].assign(n_raters=1)
    multi = n > 1
    if multi.any():
        # each rater group's combination is written onto its first row; the other rows go
        agg = _trimmed(rows[multi], nodes, trim, decimals)
        first = rows.index[multi][agg.pop("_first").to_numpy()]
        for col in ("points", "n_raters", "value_text", "evidence", "sentence", "num", "value"):
            out.loc[first, col] = agg[col].to_numpy()
        out = out[~multi | out.index.isin(first)]
    return out.reset_index(drop=True)


def _trimmed(rows: pd.DataFrame, nodes: pd.DataFrame, trim: RaterTrim, decimals: int) -> pd.DataFrame:
    gid = _group_ids(rows, ["_source"])
    g = pd.Series(rows["points"].to_numpy(), index=gid).groupby(level=0, sort=False)
    n = g.transform("size").to_numpy()
    lo = g.rank(method="first", ascending=True).to_numpy()
    hi = g.rank(method="first", ascending=False).to_numpy()
    keep = (n < trim.min_raters) | ((lo > trim.drop) & (hi > trim.drop))
    points = rows["points"].to_numpy()
    sums = np.bincount(gid, weights=np.where(keep, points, 0.0))
    counts = np.bincount(gid, weights=keep.astype(float))
    _, first = np.unique(gid, return_index=True)
    agg = rows.iloc[first][[*SOURCE_KEY, "_node"]].reset_index(drop=True)
    agg["_first"] = first  # position (in ``rows``) of each group's first row
    agg["points"] = sums / counts
    agg["n_raters"] = np.bincount(gid)
    keyed = rows.assign(_gid=gid)
    agg["value_text"] = join_by_group(keyed, ["_gid"], "value_text", "、").sort_index().to_numpy()
    evidence = join_by_group(keyed, ["_gid"], "evidence", "；", skip_empty=True)
    agg["evidence"] = evidence.reindex(range(len(agg))).fillna("").to_numpy()
    node = nodes.loc[agg["indicator_id"]]
    max_points = pd.Series(node["max_points"].to_numpy(), index=agg.index)
    is_trimmed = (agg["n_raters"] >= trim.min_raters).to_numpy()
    drop_clause = f"，去掉最高和最低各 {trim.drop} 个后" if trim.drop else "，"
    agg["sentence"] = (
        node["name"].to_numpy(dtype=object) + "："
        + agg["n_raters"].astype(str).to_numpy(dtype=object) + " 位评分人评定为 "
        + agg["value_text"].to_numpy(dtype=object)
        + np.where(is_trimmed, drop_clause, "，") + "平均"
        + got_series(agg["points"], max_points, decimals).to_numpy()
    )
    # the raw value of a numeric indicator: the mean of the kept raters' values
    num = rows["num"].to_numpy(dtype=float)
    use = keep & ~np.isnan(num)
    v_sum = np.bincount(gid, weights=np.where(use, num, 0.0))
    v_cnt = np.bincount(gid, weights=use.astype(float))
    agg["num"] = np.where(v_cnt > 0, v_sum / np.where(v_cnt > 0, v_cnt, 1), np.nan)
    agg["value"] = agg["num"].astype(object)
    agg.loc[v_cnt == 0, "value"] = None
    return agg


def combine_sources(
    per_source: pd.DataFrame, nodes: pd.DataFrame, fw: Framework, decimals: int
) -> pd.DataFrame:
    """One row per school × year × indicator: weighted points over the sources present,
    the combined value, ``value_text``, ``explanation``, ``evidence``, ``n_obs``.

    The explanation is the sentence of the highest-weighted source present; when the sources'
    points differ it goes on with the other sources and the weighting, e.g.
    ``…得 3 分（满分 4 分）；自评 12次，得 4 分；按实地核查 70%、自评 30% 加权合成，得 3.3 分（满分 4 分）``.
    """
    weights = fw.sources.weights
    order = sorted(weights, key=lambda s: (-weights[s], s))
    rank = {s: i for i, s in enumerate(order)}
    ps = per_source[lookup(per_source["source"], weights, 0.0).astype(float) > 0]
    ps = ps.assign(_rank=lookup(ps["source"], rank).astype(int))
    gid = _group_ids(ps, ["_node"])
    ps = ps.assign(_gid=gid).sort_values(["_gid", "_rank"], kind="stable").reset_index(drop=True)
    gid = ps["_gid"].to_numpy()
    w = lookup(ps["source"], weights).to_numpy(dtype=float)
    pts = ps["points"].to_numpy(dtype=float)
    num_val = ps["num"].to_numpy(dtype=float)
    has_val = ~np.isnan(num_val)

    first = np.r_[True, gid[1:] != gid[:-1]]
    out = ps.loc[first, [*NODE_KEY, "source", "value", "value_text", "sentence", "evidence"]].reset_index(drop=True)
    w_sum = np.bincount(gid, weights=w)
    out["points"] = np.bincount(gid, weights=w * pts) / w_sum
    wn = np.bincount(gid, weights=np.where(has_val, w, 0.0))
    wv = np.bincount(gid, weights=np.where(has_val, w * np.nan_to_num(num_val), 0.0))
    out["num"] = np.where(wn > 0, wv / np.where(wn > 0, wn, 1.0), np.nan)
    out["value"] = out["num"].astype(object).where(wn > 0, out["value"])
    out["n_obs"] = np.bincount(gid, weights=ps["n_raters"].to_numpy(dtype=float)).astype(int)
    n_sources = np.bincount(gid)
    out["n_sources"] = n_sources

    p_min = pd.Series(pts).groupby(gid, sort=False).min().to_numpy()
    p_max = pd.Series(pts).groupby(gid, sort=False).max().to_numpy()
    differ = (n_sources > 1) & (p_max - p_min > 1e-9)
    explanation = out["sentence"].to_numpy(dtype=object).copy()
    if differ.any():
        explanation[differ] = _combination_clause(ps, gid, first, differ, out, order, weights, nodes, decimals)
    out["explanation"] = pd.Series(explanation, dtype=object)
    out["evidence"] = out["evidence"].fillna("")
    return out[[*NODE_KEY, "points", "value", "num", "value_text", "explanation", "evidence", "n_obs", "n_sources"]]


def _combination_clause(
    ps: pd.DataFrame, gid: np.ndarray, first: np.ndarray, differ: np.ndarray, out: pd.DataFrame,
    order: list[str], weights: dict[str, float], nodes: pd.DataFrame, decimals: int,
) -> np.ndarray:
    """Sentences for the groups whose sources disagree: primary sentence, the other sources'
    values and points, and the weighting."""
    in_differ = differ[gid]
    others = ps[in_differ & ~first]
    piece = (
        "；" + lookup(others["source"], {s: SOURCE_NAMES.get(s, s) for s in order}).astype(object)
        + " " + others["value_text"].astype(object) + "，得 "
        + num_series(others["points"], decimals).astype(object) + " 分"
    )
    other_text = join_by_group(others.assign(_piece=piece), ["_gid"], "_piece", "")
    groups = np.flatnonzero(differ)
    other_text = other_text.reindex(groups).fillna("").to_numpy(dtype=object)

    bit = lookup(ps["source"], {s: 1 << i for i, s in enumerate(order)}).to_numpy(dtype=float)
    mask = np.bincount(gid, weights=bit).astype(int)[groups]
    clause = {}
    for m in np.unique(mask):
        srcs = [s for i, s in enumerate(order) if m & (1 << i)]
        total = sum(weights[s] for s in srcs)
        clause[m] = "、".join(f"{SOURCE_NAMES.get(s, s)} {num(100 * weights[s] / total, 1)}%" for s in srcs)
    weighting = np.array([clause[m] for m in mask], dtype=object)

    sub = out.iloc[groups]
    max_points = pd.Series(lookup(sub["indicator_id"], nodes["max_points"]).to_numpy(dtype=float))
    got = got_series(pd.Series(sub["points"].to_numpy()), max_points, decimals).to_numpy()
    return sub["sentence"].to_numpy(dtype=object) + other_text + "；按" + weighting + " 加权合成，" + got
