"""Combining raters and sources, and the sentence that explains each indicator's points.

Raters (several inspectors marking one item, same source): with at least ``trim.min_raters``
marks the ``trim.drop`` highest and lowest *points* are dropped; the points are the mean of the
rest (``Σ kept / n_kept``).

Sources (self-assessment, inspection, survey): ``points = Σ_s w_s p_s / Σ_s w_s`` over the
sources present for that school × indicator, with the framework's ``sources.weights``
re-normalised over those present. The combined raw value of a numeric indicator is the same
weighted mean of the sources' values (used for veto thresholds and display).

Explanations are built once per distinct (indicator, value, points) with the rule's own
sentence and taken onto rows by position; the raters' sentences once per distinct (indicator,
number of raters, mean, marks); combination clauses are assembled column-wise.

Every indicator also gets a *public* value text and explanation, for reports sent to schools:
the same, except that the individual marks of several raters are left out — only how many
raters there were and how their marks were combined
(``德育“333”机制落实：5 位评分人评分，去掉最高、最低后平均得 2.5 分（满分 3 分）``).
Groups are integer ids (one factorisation), and sums per group are ``np.bincount``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.framework import Framework, RaterTrim
from evalkit.framework.rules import Case
from evalkit.observations.codes import Columns, Encoded, groups
from evalkit.scoring.prepare import row_values
from evalkit.scoring.strjoin import join_by_group
from evalkit.textfmt import SOURCE_NAMES, num, num_series


def got_series(points: pd.Series, max_points: pd.Series, decimals: int) -> pd.Series:
    """Vectorised :attr:`evalkit.framework.rules.Case.got`: ``得满分 4 分`` or ``得 3.5 分（满分 4 分）``."""
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
    gid, first = groups(key)
    values = row_values(rows, first, nodes, enc)
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
        sentences[k] = spec.rule.explain(case, spec.parsed)  # group k's first row is first[k]
    return sentences[gid]


def combine_raters(rows: Columns, nodes: pd.DataFrame, trim: RaterTrim, decimals: int) -> np.ndarray:
    """Raters → one row per school × year × indicator × source. Returns the positions of the
    rows that stand for each (ascending); each group of several raters is written, in place,
    onto its first row: ``points`` the trimmed mean, ``num`` the mean of the kept raters'
    values, ``value_text`` / ``evidence`` / ``sentence`` for the raters together, ``n_raters``.

    Duplicates (and totals beside a rater's items) were refused and each rater's items
    collapsed, so several rows per source need a named rater: only the rows of nodes with a
    named rater or with items somewhere are grouped (items kept in for safety, at little cost)."""
    n_rows = len(rows["_ind"])
    rows["n_raters"] = np.ones(n_rows, dtype=np.int64)
    rows["public_text"], rows["public_sentence"] = rows["value_text"], rows["sentence"]
    shared_nodes = np.zeros(len(nodes), dtype=bool)
    shared_nodes[rows["_ind"][rows["_shared"]]] = True
    candidates = np.flatnonzero(shared_nodes[rows["_ind"]])
    gid = pd.factorize(rows["_source"][candidates])[0]
    multi = candidates[(np.bincount(gid) > 1)[gid]] if len(candidates) else candidates
    if not len(multi):
        return np.arange(n_rows)
    cols = ("_source", "_ind", "points", "num", "value_text", "evidence")
    agg = _trimmed({col: rows[col][multi] for col in cols}, nodes, trim, decimals)
    first = multi[agg.pop("_first")]
    rows["public_text"], rows["public_sentence"] = rows["value_text"].copy(), rows["sentence"].copy()
    for col, values in agg.items():
        rows[col][first] = values
    stays = np.ones(n_rows, dtype=bool)
    stays[multi] = False
    stays[first] = True
    return np.flatnonzero(stays)


def _trimmed(rows: Columns, nodes: pd.DataFrame, trim: RaterTrim, decimals: int) -> Columns:
    """Per rater group (``_source``) of ``rows``: the position of its first row, the trimmed
    mean of the points, the raters' value texts and evidence, the sentence, and the mean of the
    kept raters' values."""
    gid, first = groups(rows["_source"])
    g = pd.Series(rows["points"]).groupby(gid, sort=False)
    n = g.transform("size").to_numpy()
    lo = g.rank(method="first", ascending=True).to_numpy()
    hi = g.rank(method="first", ascending=False).to_numpy()
    keep = (n < trim.min_raters) | ((lo > trim.drop) & (hi > trim.drop))
    points = rows["points"]
    n_groups = len(first)
    mean_points = np.bincount(gid, weights=np.where(keep, points, 0.0)) / np.bincount(gid, weights=keep.astype(float))
    n_raters = np.bincount(gid)
    value_text = join_by_group(gid, rows["value_text"], "、", n_groups)
    ind = rows["_ind"][first]
    max_points = nodes["max_points"].to_numpy(dtype=float)[ind]
    drop_clause = f"，去掉最高和最低各 {trim.drop} 个后" if trim.drop else "，"
    public_drop = ("，去掉最高、最低后" if trim.drop == 1 else drop_clause) if trim.drop else "，"
    # the sentences are written once per distinct (indicator, raters, mean) — ``a`` — and per
    # distinct (a, the raters' marks) — ``b`` — then taken onto the groups
    a_gid, a_first = groups(_combined(ind, n_raters, pd.factorize(mean_points, use_na_sentinel=False)[0]))
    b_gid, b_first = groups(_combined(a_gid, pd.factorize(value_text)[0]))
    got = got_series(pd.Series(mean_points[a_first]), pd.Series(max_points[a_first]), decimals).to_numpy()
    how_many = n_raters[a_first].astype(str).astype(object) + " 位评分人"
    head = nodes["name"].to_numpy(dtype=object)[ind[a_first]] + "：" + how_many
    is_trimmed = n_raters[a_first] >= trim.min_raters
    public_sentence = (head + "评分" + np.where(is_trimmed, public_drop, "，").astype(object) + "平均" + got)[a_gid]
    a_of_b = a_gid[b_first]
    sentence = (
        head[a_of_b] + "评定为 " + value_text[b_first]
        + np.where(is_trimmed[a_of_b], drop_clause, "，").astype(object) + "平均" + got[a_of_b]
    )[b_gid]
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
        "public_text": (how_many + "评定")[a_gid],
        "public_sentence": public_sentence,
        "num": np.where(v_cnt > 0, v_sum / np.where(v_cnt > 0, v_cnt, 1), np.nan),
        "_vcode": np.full(n_groups, -1, dtype=np.int64),
    }


def _combined(*codes: np.ndarray) -> np.ndarray:
    """One int64 per row identifying its combination of the non-negative integer ``codes``
    (pairs numbered as they appear, so the key never outgrows the number of rows squared)."""
    key = codes[0]
    for code in codes[1:]:
        key = pd.factorize(key * (int(code.max(initial=0)) + 1) + code)[0]
    return key


def combine_sources(
    rows: Columns, per_source: np.ndarray, nodes: pd.DataFrame, fw: Framework, decimals: int, enc: Encoded
) -> pd.DataFrame:
    """One row per school × year × indicator from the rows ``per_source`` (one per source, see
    :func:`combine_raters`): weighted points over the sources present,
    the combined value (``num``, or ``value_label`` for labels), ``value_text``,
    ``explanation``, ``evidence``, ``n_obs``, ``n_sources``; with ``_sch`` / ``_ind`` codes.

    The explanation is the sentence of the highest-weighted source present; when the sources'
    points differ it goes on with the other sources and the weighting, e.g.
    ``…得 3 分（满分 4 分）；自评 12次，得 4 分；按实地核查 70%、自评 30% 加权合成，得 3.3 分（满分 4 分）``.
    Each group has at most one row per source, so the primary row and the points' range are
    found source by source (in weight order) with plain scatters, no sort.
    """
    weights = fw.sources.weights
    order = sorted(weights, key=lambda s: (-weights[s], s))
    sources = enc.uniques["source"]
    weight_of = np.array([weights.get(s, 0.0) for s in sources] + [0.0])
    at = per_source[weight_of[rows["_src"][per_source]] > 0]
    ps = {col: rows[col][at] for col in ("_src", "_node", "points", "num", "n_raters")}
    gid = pd.factorize(ps["_node"])[0]
    n_groups = int(gid.max(initial=-1)) + 1
    src, pts, num_val = ps["_src"], ps["points"], ps["num"]
    primary = np.full(n_groups, -1)
    p_min, p_max = np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    code_of = {name: code for code, name in enumerate(sources)}
    for name in order:
        of_source = np.flatnonzero(src == code_of.get(name, -2))
        g = gid[of_source]
        unset = primary[g] < 0
        primary[g[unset]] = of_source[unset]
        p_min[g], p_max[g] = np.fmin(p_min[g], pts[of_source]), np.fmax(p_max[g], pts[of_source])
    w = weight_of[src]
    has_val = ~np.isnan(num_val)

    lead = at[primary]  # the primary source's row in ``rows``
    ind = rows["_ind"][lead]
    out = pd.DataFrame({
        "school_id": pd.Series(enc.uniques["school_id"][rows["_sch"][lead]], dtype=object),
        "year": rows["year"][lead],
        "indicator_id": pd.Series(nodes.index.to_numpy(dtype=object)[ind], dtype=object),
    })
    out["points"] = np.bincount(gid, weights=w * pts) / np.bincount(gid, weights=w)
    wn = np.bincount(gid, weights=np.where(has_val, w, 0.0))
    wv = np.bincount(gid, weights=np.where(has_val, w * np.nan_to_num(num_val), 0.0))
    out["num"] = np.where(wn > 0, wv / np.where(wn > 0, wn, 1.0), np.nan)
    vcode = rows["_vcode"][lead]
    is_label = nodes["is_label"].to_numpy()[ind] & (vcode >= 0)
    label = np.full(n_groups, "", dtype=object)
    label[is_label] = enc.uniques["value"][vcode[is_label]]
    out["value_label"] = pd.Series(label, dtype=object)
    out["value_text"] = pd.Series(rows["value_text"][lead], dtype=object)
    n_sources = np.bincount(gid)
    differ = (n_sources > 1) & (p_max - p_min > 1e-9)
    explanations = {}
    # the public clause differs only where a source row stands for several raters
    rated = np.bincount(gid, weights=ps["n_raters"] > 1, minlength=n_groups) > 0
    for name, text, sentence in (("explanation", "value_text", "sentence"),
                                 ("public_explanation", "public_text", "public_sentence")):
        if name == "public_explanation" and rows["public_sentence"] is rows["sentence"]:
            explanations[name] = explanations["explanation"]  # no rater groups: nothing to hide
            continue
        explanation = rows[sentence][lead]
        redo = differ
        if name == "public_explanation":
            explanation[differ] = explanations["explanation"][differ]
            redo = differ & rated
        if redo.any():
            explanation[redo] = _combination_clause(
                rows, at, src, gid, primary, redo, out["points"].to_numpy(), sources, order, weights, nodes,
                decimals, text=text, sentence=sentence,
            )
        explanations[name] = explanation
    out["explanation"] = pd.Series(explanations["explanation"], dtype=object)
    out["public_value_text"] = pd.Series(rows["public_text"][lead], dtype=object)
    out["public_explanation"] = pd.Series(explanations["public_explanation"], dtype=object)
    out["evidence"] = pd.Series(rows["evidence"][lead], dtype=object)
    out["n_obs"] = np.bincount(gid, weights=ps["n_raters"]).astype(np.int64)
    out["n_sources"] = n_sources
    out["_sch"], out["_ind"] = rows["_sch"][lead], ind
    return out


def _combination_clause(
    rows: Columns, at: np.ndarray, src: np.ndarray, gid: np.ndarray, primary: np.ndarray, differ: np.ndarray,
    points: np.ndarray, sources: np.ndarray, order: list[str], weights: dict[str, float], nodes: pd.DataFrame,
    decimals: int, *, text: str = "value_text", sentence: str = "sentence",
) -> np.ndarray:
    """Sentences for the groups whose sources disagree: primary sentence, the other sources'
    values and points (in weight order), and the weighting. ``text`` and ``sentence`` name the
    columns of ``rows`` to use (``public_text`` / ``public_sentence`` for the public version).
    Source row ``k`` is row ``at[k]`` of ``rows`` with source code ``src[k]``; ``gid`` and
    ``primary`` number the groups and give each group's primary source row."""
    rank_of = np.array([order.index(s) if s in order else len(order) for s in sources] + [len(order)])
    others = np.flatnonzero(differ[gid])
    others = others[primary[gid[others]] != others]
    others = others[np.lexsort((rank_of[src[others]], gid[others]))]
    source_name = np.array([SOURCE_NAMES.get(s, s) for s in sources] + [""], dtype=object)
    piece = (
        "；" + source_name[src[others]] + " " + rows[text][at[others]] + "，得 "
        + num_series(pd.Series(rows["points"][at[others]]), decimals).to_numpy(dtype=object) + " 分"
    )
    disagree = np.flatnonzero(differ)
    other_text = join_by_group(gid[others], piece, "", len(differ))[disagree]

    bit = np.array([1 << r if r < len(order) else 0 for r in rank_of])[src]
    mask = np.bincount(gid, weights=bit).astype(int)[disagree]
    clause = {}
    for m in np.unique(mask):
        srcs = [s for i, s in enumerate(order) if m & (1 << i)]
        total = sum(weights[s] for s in srcs)
        clause[m] = "、".join(f"{SOURCE_NAMES.get(s, s)} {num(100 * weights[s] / total, 1)}%" for s in srcs)
    weighting = np.array([clause[m] for m in mask], dtype=object)

    lead = at[primary[disagree]]
    max_points = nodes["max_points"].to_numpy(dtype=float)[rows["_ind"][lead]]
    got = got_series(pd.Series(points[disagree]), pd.Series(max_points), decimals).to_numpy()
    return rows[sentence][lead] + other_text + "；按" + weighting + " 加权合成，" + got
