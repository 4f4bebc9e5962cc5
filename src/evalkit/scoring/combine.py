"""Combining raters and sources, and the sentence that explains each indicator's points.

Raters (several inspectors marking one item, same source): with at least ``trim.min_raters``
marks the ``trim.drop`` highest and lowest *points* are dropped; the points are the mean of the
rest (``Σ kept / n_kept``).

Sources (self-assessment, inspection, survey): ``points = Σ_s w_s p_s / Σ_s w_s`` over the
sources present for that school × indicator, with the framework's ``sources.weights``
re-normalised over those present. The combined raw value of a numeric indicator is the same
weighted mean of the sources' values (used for veto thresholds and display).

Explanations are built once per distinct (indicator, value, points) with the rule's own
sentence, then joined onto rows; combination clauses are assembled column-wise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.framework import Framework, RaterTrim
from evalkit.rules import Case
from evalkit.textfmt import SOURCE_NAMES, num, num_series

SOURCE_KEY = ["school_id", "year", "indicator_id", "source"]
NODE_KEY = ["school_id", "year", "indicator_id"]


def got_series(points: pd.Series, max_points: pd.Series, decimals: int) -> pd.Series:
    """Vectorised :attr:`evalkit.rules.Case.got`: ``得满分 4 分`` or ``得 3.5 分（满分 4 分）``."""
    full = points >= max_points - 1e-9
    max_text = num_series(max_points)
    partial = "得 " + num_series(points, decimals) + " 分（满分 " + max_text + " 分）"
    return ("得满分 " + max_text + " 分").where(full, partial)


def rule_sentences(rows: pd.DataFrame, nodes: pd.DataFrame, rules: dict, decimals: int) -> pd.Series:
    """The rule's own sentence for every row, computed once per distinct
    (indicator, value as shown, points)."""
    keys = ["indicator_id", "value_text", "points"]
    distinct = rows.drop_duplicates(keys)[[*keys, "value"]]
    sentences = []
    for ind_id, text, pts, value in distinct.itertuples(index=False):
        node = nodes.loc[ind_id]
        spec = rules[node["rule_key"]][0]
        case = Case(
            name=node["name"], unit=node["unit"], data_type=node["data_type"], value=value,
            value_text=text, points=float(pts), max_points=float(node["max_points"]), decimals=decimals,
        )
        sentences.append(spec.rule.explain(case, spec.parsed))
    distinct = distinct.assign(sentence=sentences)
    merged = rows[keys].merge(distinct[[*keys, "sentence"]], on=keys, how="left")
    return pd.Series(merged["sentence"].to_numpy(), index=rows.index)


def combine_raters(rows: pd.DataFrame, nodes: pd.DataFrame, trim: RaterTrim, decimals: int) -> pd.DataFrame:
    """One row per school × year × indicator × source: points (trimmed mean over raters),
    value, value_text, sentence, evidence, n_raters."""
    n = rows.groupby(SOURCE_KEY, sort=False)["points"].transform("size")
    single = rows[n == 1]
    out = [single[[*SOURCE_KEY, "value", "value_text", "points", "sentence", "evidence"]].assign(n_raters=1)]
    multi = rows[n > 1]
    if not multi.empty:
        out.append(_trimmed(multi, nodes, trim, decimals))
    return pd.concat(out, ignore_index=True)


def _trimmed(rows: pd.DataFrame, nodes: pd.DataFrame, trim: RaterTrim, decimals: int) -> pd.DataFrame:
    g = rows.groupby(SOURCE_KEY, sort=False)["points"]
    n = g.transform("size")
    lo = g.rank(method="first", ascending=True)
    hi = g.rank(method="first", ascending=False)
    trimmed = n >= trim.min_raters
    keep = ~trimmed | ((lo > trim.drop) & (hi > trim.drop))
    rows = rows.assign(kept=rows["points"].where(keep))
    agg = rows.groupby(SOURCE_KEY, sort=False).agg(
        points=("kept", "mean"),
        n_raters=("points", "size"),
        value_text=("value_text", "、".join),
        evidence=("evidence", lambda s: "；".join(dict.fromkeys(x for x in s if x))),
    ).reset_index()
    node = nodes.loc[agg["indicator_id"]]
    max_points = pd.Series(node["max_points"].to_numpy(), index=agg.index)
    is_trimmed = agg["n_raters"] >= trim.min_raters
    drop_clause = f"，去掉最高和最低各 {trim.drop} 个后" if trim.drop else "，"
    agg["sentence"] = (
        pd.Series(node["name"].to_numpy(), index=agg.index)
        + "："
        + agg["n_raters"].astype(str)
        + " 位评分人评定为 "
        + agg["value_text"]
        + np.where(is_trimmed, drop_clause, "，")
        + "平均"
        + got_series(agg["points"], max_points, decimals)
    )
    agg["value"] = None
    return agg


def combine_sources(
    per_source: pd.DataFrame, nodes: pd.DataFrame, fw: Framework, decimals: int
) -> pd.DataFrame:
    """One row per school × year × indicator: weighted points over the sources present,
    the combined value, ``value_text``, ``explanation``, ``evidence``, ``n_obs``."""
    weights = fw.sources.weights
    order = sorted(weights, key=lambda s: (-weights[s], s))
    ps = per_source.assign(w=per_source["source"].map(weights).astype(float))
    ps = ps[ps["w"] > 0] if (ps["w"] > 0).any() else ps
    num_val = pd.to_numeric(ps["value"].where(ps["value"].map(lambda v: not isinstance(v, str))), errors="coerce")
    ps = ps.assign(wp=ps["w"] * ps["points"], wv=ps["w"] * num_val, wn=ps["w"].where(num_val.notna(), 0.0))
    g = ps.groupby(NODE_KEY, sort=False)
    out = g.agg(
        wp=("wp", "sum"), w=("w", "sum"), wv=("wv", "sum"), wn=("wn", "sum"),
        n_sources=("source", "size"), n_obs=("n_raters", "sum"),
    )
    out["points"] = out["wp"] / out["w"]

    wide = ps.set_index([*NODE_KEY, "source"])[["points", "value", "value_text", "sentence", "evidence"]].unstack(
        "source"
    )
    wide = wide.reindex(out.index)
    present = [s for s in order if ("points", s) in wide.columns]
    # primary source: the highest-weighted source present for that school × indicator
    primary = pd.Series(None, index=out.index, dtype=object)
    for s in reversed(present):
        primary = primary.mask(wide[("points", s)].notna(), s)
    out["primary_source"] = primary
    for col in ("sentence", "value_text", "value", "evidence"):
        picked = pd.Series(None, index=out.index, dtype=object)
        for s in present:
            picked = picked.mask(primary == s, wide[(col, s)])
        out[f"primary_{col}"] = picked

    out["value"] = (out["wv"] / out["wn"]).where(out["wn"] > 0).astype(object)
    labels = out["value"].isna()
    out.loc[labels, "value"] = out.loc[labels, "primary_value"]
    out["value_text"] = out["primary_value_text"]
    out["evidence"] = out["primary_evidence"].fillna("")

    max_points = out.index.get_level_values("indicator_id").map(nodes["max_points"]).to_numpy()
    max_points = pd.Series(max_points, index=out.index, dtype=float)
    p_min = ps.groupby(NODE_KEY, sort=False)["points"].min().reindex(out.index)
    p_max = ps.groupby(NODE_KEY, sort=False)["points"].max().reindex(out.index)
    differ = (out["n_sources"] > 1) & ((p_max - p_min).abs() > 1e-9)
    explanation = out["primary_sentence"].astype(object)
    if differ.any():
        explanation[differ] = _combination_clause(out[differ], wide[differ], present, weights, max_points[differ], decimals)
    out["explanation"] = explanation
    out = out.reset_index()
    return out[[*NODE_KEY, "points", "value", "value_text", "explanation", "evidence", "n_obs", "n_sources"]]


def _combination_clause(
    out: pd.DataFrame, wide: pd.DataFrame, present: list[str], weights: dict[str, float],
    max_points: pd.Series, decimals: int,
) -> pd.Series:
    """``<primary sentence>；自评 17次，得 4 分；按实地核查 70%、自评 30% 加权，得 3.3 分（满分 4 分）``."""
    text = out["primary_sentence"].astype(str)
    mask_cols = []
    for s in present:
        has = wide[("points", s)].notna()
        mask_cols.append(has)
        other = has & (out["primary_source"] != s)
        piece = (
            "；" + SOURCE_NAMES.get(s, s) + " " + wide[("value_text", s)].astype(str)
            + "，得 " + num_series(wide[("points", s)], decimals) + " 分"
        )
        text = text + piece.where(other, "")
    # weights clause per combination of sources present
    combo = pd.Series("", index=out.index, dtype=object)
    for s, has in zip(present, mask_cols, strict=True):
        combo = combo + np.where(has, s + ",", "")
    clause = {}
    for key in combo.unique():
        srcs = [s for s in key.split(",") if s]
        total = sum(weights[s] for s in srcs)
        clause[key] = "、".join(f"{SOURCE_NAMES.get(s, s)} {num(100 * weights[s] / total, 1)}%" for s in srcs)
    return text + "；按" + combo.map(clause) + " 加权合成，" + got_series(out["points"], max_points, decimals)
