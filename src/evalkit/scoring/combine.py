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

from evalkit.framework import LABEL_TYPES, Framework, RaterTrim
from evalkit.rules import Case
from evalkit.scoring.codes import Columns, Encoded, take
from evalkit.scoring.prepare import row_values
from evalkit.scoring.strjoin import join_by_group
from evalkit.textfmt import SOURCE_NAMES, num, num_series


def got_series(points: pd.Series, max_points: pd.Series, decimals: int) -> pd.Series:
    """Vectorised :attr:`evalkit.rules.Case.got`: ``得满分 4 分`` or ``得 3.5 分（满分 4 分）``."""
    full = (points >= max_points - 1e-9).to_numpy()
    max_text = num_series(max_points).to_numpy(dtype=object)
    pts_text = num_series(points, decimals).to_numpy(dtype=object)
    out = np.where(full, "得满分 " + max_text + " 分", "得 " + pts_text + " 分（满分 " + max_text + " 分）")
    return pd.Series(out, index=points.index, dtype=object)


def rule_sentences(rows: Columns, nodes: pd.DataFrame, rules: dict, decimals: int, enc: Encoded) -> np.ndarray:
    """The rule's own sentence for every row, computed once per distinct
    (indicator, value as shown, points)."""
    points_code, _ = pd.factorize(rows["points"], use_na_sentinel=False)
    key = (rows["_ind"] * (int(rows["_text"].max(initial=0)) + 1) + rows["_text"]) * (
        int(points_code.max(initial=0)) + 1
    ) + points_code
    gid, _ = pd.factorize(key)
    _, first = np.unique(gid, return_index=True)
    label_nodes = nodes["data_type"].isin(LABEL_TYPES).to_numpy()
    values = row_values(rows, first, label_nodes, enc)
    node = {col: nodes[col].to_numpy() for col in ("name", "unit", "data_type", "max_points", "rule_key")}
    sentences = np.empty(len(first), dtype=object)
    for k, (i, text, pts, value) in enumerate(
        zip(rows["_ind"][first], rows["value_text"][first], rows["points"][first], values, strict=True)
    ):
        spec = rules[node["rule_key"][i]][0]
        case = Case(
            name=node["name"][i], unit=node["unit"][i], data_type=node["data_type"][i], value=value,
            value_text=text, points=float(pts), max_points=float(node["max_points"][i]), decimals=decimals,
        )
        sentences[gid[first[k]]] = spec.rule.explain(case, spec.parsed)
    return sentences[gid]


def combine_raters(rows: Columns, nodes: pd.DataFrame, trim: RaterTrim, decimals: int) -> Columns:
    """One row per school × year × indicator × source: the rows' columns with ``points`` the
    trimmed mean over raters, ``value_text`` / ``evidence`` / ``sentence`` for the raters
    together, and ``n_raters``."""
    gid, _ = pd.factorize(rows["_source"])
    multi = (np.bincount(gid) > 1)[gid]
    out = {**rows, "n_raters": np.ones(len(gid), dtype=np.int64)}
    if not multi.any():
        return out
    # each rater group's combination is written onto its first row; the other rows go
    sub = np.flatnonzero(multi)
    agg = _trimmed(take(rows, sub), nodes, trim, decimals)
    first = sub[agg.pop("_first")]
    for col, values in agg.items():
        out[col] = out[col].copy()
        out[col][first] = values
    drop = multi.copy()
    drop[first] = False
    return take(out, ~drop)


def _trimmed(rows: Columns, nodes: pd.DataFrame, trim: RaterTrim, decimals: int) -> Columns:
    """Per rater group (``_source``) of ``rows``: the position of its first row, the trimmed
    mean of the points, the raters' value texts and evidence, the sentence, and the mean of the
    kept raters' values."""
    gid, _ = pd.factorize(rows["_source"])
    g = pd.Series(rows["points"]).groupby(gid, sort=False)
    n = g.transform("size").to_numpy()
    lo = g.rank(method="first", ascending=True).to_numpy()
    hi = g.rank(method="first", ascending=False).to_numpy()
    keep = (n < trim.min_raters) | ((lo > trim.drop) & (hi > trim.drop))
    points = rows["points"]
    n_groups = int(gid.max()) + 1
    _, first = np.unique(gid, return_index=True)
    mean_points = np.bincount(gid, weights=np.where(keep, points, 0.0)) / np.bincount(gid, weights=keep.astype(float))
    n_raters = np.bincount(gid)
    value_text = join_by_group(gid, rows["value_text"], "、", n_groups)
    ind = rows["_ind"][first]
    max_points = nodes["max_points"].to_numpy(dtype=float)[ind]
    is_trimmed = n_raters >= trim.min_raters
    drop_clause = f"，去掉最高和最低各 {trim.drop} 个后" if trim.drop else "，"
    sentence = (
        nodes["name"].to_numpy(dtype=object)[ind] + "："
        + n_raters.astype(str).astype(object) + " 位评分人评定为 " + value_text
        + np.where(is_trimmed, drop_clause, "，").astype(object) + "平均"
        + got_series(pd.Series(mean_points), pd.Series(max_points), decimals).to_numpy()
    )
    # the raw value of a numeric indicator: the mean of the kept raters' values
    use = keep & ~np.isnan(rows["num"])
    v_sum = np.bincount(gid, weights=np.where(use, rows["num"], 0.0))
    v_cnt = np.bincount(gid, weights=use.astype(float))
    return {
        "_first": first,
        "points": mean_points,
        "n_raters": n_raters,
        "value_text": value_text,
        "evidence": join_by_group(gid, rows["evidence"], "；", n_groups, skip_empty=True),
        "sentence": sentence,
        "num": np.where(v_cnt > 0, v_sum / np.where(v_cnt > 0, v_cnt, 1), np.nan),
        "_vcode": np.full(n_groups, -1, dtype=np.int64),
    }


def combine_sources(
    per_source: Columns, nodes: pd.DataFrame, fw: Framework, decimals: int, enc: Encoded
) -> pd.DataFrame:
    """One row per school × year × indicator: weighted points over the sources present,
    the combined value (``num``, or ``value_label`` for labels), ``value_text``,
    ``explanation``, ``evidence``, ``n_obs``, ``n_sources``; with ``_sch`` / ``_ind`` codes.

    The explanation is the sentence of the highest-weighted source present; when the sources'
    points differ it goes on with the other sources and the weighting, e.g.
    ``…得 3 分（满分 4 分）；自评 12次，得 4 分；按实地核查 70%、自评 30% 加权合成，得 3.3 分（满分 4 分）``.
    """
    weights = fw.sources.weights
    order = sorted(weights, key=lambda s: (-weights[s], s))
    sources = enc.uniques["source"]
    weight_of = np.array([weights.get(s, 0.0) for s in sources] + [0.0])
    rank_of = np.array([order.index(s) if s in weights else len(order) for s in sources] + [len(order)])
    ps = take(per_source, weight_of[per_source["_src"]] > 0)
    gid, _ = pd.factorize(ps["_node"])
    by_group = np.lexsort((rank_of[ps["_src"]], gid))  # groups contiguous, sources by weight
    ps, gid = take(ps, by_group), gid[by_group]
    w = weight_of[ps["_src"]]
    pts, num_val = ps["points"], ps["num"]
    has_val = ~np.isnan(num_val)
    first = np.r_[True, gid[1:] != gid[:-1]]
    starts = np.flatnonzero(first)

    ind = ps["_ind"][starts]
    out = pd.DataFrame({
        "school_id": pd.Series(enc.uniques["school_id"][ps["_sch"][starts]], dtype=object),
        "year": ps["year"][starts],
        "indicator_id": pd.Series(nodes.index.to_numpy(dtype=object)[ind], dtype=object),
    })
    out["points"] = np.bincount(gid, weights=w * pts) / np.bincount(gid, weights=w)
    wn = np.bincount(gid, weights=np.where(has_val, w, 0.0))
    wv = np.bincount(gid, weights=np.where(has_val, w * np.nan_to_num(num_val), 0.0))
    out["num"] = np.where(wn > 0, wv / np.where(wn > 0, wn, 1.0), np.nan)
    vcode = ps["_vcode"][starts]
    is_label = nodes["data_type"].isin(LABEL_TYPES).to_numpy()[ind] & (vcode >= 0)
    label = np.full(len(starts), "", dtype=object)
    label[is_label] = enc.uniques["value"][vcode[is_label]]
    out["value_label"] = pd.Series(label, dtype=object)
    out["value_text"] = pd.Series(ps["value_text"][starts], dtype=object)
    n_sources = np.bincount(gid)
    p_min, p_max = np.fmin.reduceat(pts, starts), np.fmax.reduceat(pts, starts)
    differ = (n_sources > 1) & (p_max - p_min > 1e-9)
    explanation = ps["sentence"][starts]
    if differ.any():
        explanation[differ] = _combination_clause(
            ps, gid, first, differ, out["points"].to_numpy(), ind, sources, order, weights, nodes, decimals
        )
    out["explanation"] = pd.Series(explanation, dtype=object)
    out["evidence"] = pd.Series(ps["evidence"][starts], dtype=object)
    out["n_obs"] = np.bincount(gid, weights=ps["n_raters"]).astype(np.int64)
    out["n_sources"] = n_sources
    out["_sch"], out["_ind"] = ps["_sch"][starts], ind
    return out


def _combination_clause(
    ps: Columns, gid: np.ndarray, first: np.ndarray, differ: np.ndarray, points: np.ndarray, ind: np.ndarray,
    sources: np.ndarray, order: list[str], weights: dict[str, float], nodes: pd.DataFrame, decimals: int,
) -> np.ndarray:
    """Sentences for the groups whose sources disagree: primary sentence, the other sources'
    values and points, and the weighting."""
    others = np.flatnonzero(differ[gid] & ~first)
    source_name = np.array([SOURCE_NAMES.get(s, s) for s in sources] + [""], dtype=object)
    piece = (
        "；" + source_name[ps["_src"][others]] + " " + ps["value_text"][others] + "，得 "
        + num_series(pd.Series(ps["points"][others]), decimals).to_numpy(dtype=object) + " 分"
    )
    groups = np.flatnonzero(differ)
    other_text = join_by_group(gid[others], piece, "", len(differ))[groups]

    bit = np.array([1 << order.index(s) if s in order else 0 for s in sources] + [0])[ps["_src"]]
    mask = np.bincount(gid, weights=bit).astype(int)[groups]
    clause = {}
    for m in np.unique(mask):
        srcs = [s for i, s in enumerate(order) if m & (1 << i)]
        total = sum(weights[s] for s in srcs)
        clause[m] = "、".join(f"{SOURCE_NAMES.get(s, s)} {num(100 * weights[s] / total, 1)}%" for s in srcs)
    weighting = np.array([clause[m] for m in mask], dtype=object)

    max_points = nodes["max_points"].to_numpy(dtype=float)[ind[groups]]
    got = got_series(pd.Series(points[groups]), pd.Series(max_points), decimals).to_numpy()
    sentence = ps["sentence"][np.flatnonzero(first)[groups]]
    return sentence + other_text + "；按" + weighting + " 加权合成，" + got
