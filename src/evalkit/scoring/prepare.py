"""From Observations to one scorable row per school × year × node × source × rater.

Checks the observations against the framework (every problem collected, none dropped
silently), converts values to numbers for numeric data types, and collapses item rows
(``C5``: warnings and violations) into one weighted total per rater:
``value = Σ_k weight_k × n_k`` (weight 1 when the rule has no weights).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.framework import LABEL_TYPES, Framework, RuleSpec
from evalkit.observations import ObservationsError
from evalkit.rules import get_rule
from evalkit.scoring.nodes import lookup
from evalkit.scoring.strjoin import join_by_group
from evalkit.textfmt import ITEM_NAMES, LEVEL_NAMES, num_series

RATER_KEY = ["school_id", "year", "indicator_id", "source", "rater"]


def _where(df: pd.DataFrame) -> pd.Series:
    """``学校 001 2024年 指标 A1 (来源 inspection 评分人 R1)`` per row, for messages."""
    text = "学校 " + df["school_id"].astype(str) + " " + df["year"].astype(str) + "年 指标 " + df["indicator_id"]
    extra = np.where(df["rater"] != "", "（评分人 " + df["rater"].astype(str) + "）", "")
    if "cell" in df.columns:
        file, sheet = df.get("file", "").astype(str), df.get("sheet", "").astype(str)
        loc = " [" + file + " " + sheet + " " + df["cell"].astype(str) + "]"
        return text + extra + loc
    return text + extra


def check(obs: pd.DataFrame, fw: Framework, nodes: pd.DataFrame, rules: dict) -> None:
    """Raise :class:`ObservationsError` listing every observation that cannot be scored:
    unknown indicator ids, unknown sources, unknown items, and values of the wrong type."""
    problems: list[str] = []
    unknown = ~obs["indicator_id"].isin(fw.known_ids)
    for ind_id, n in obs.loc[unknown, "indicator_id"].value_counts().sort_index().items():
        problems.append(f"未知指标编号“{ind_id}”（{n} 行）/ unknown indicator id")
    sources = set(fw.sources.weights)
    bad_src = ~obs["source"].isin(sources)
    for src, n in obs.loc[bad_src, "source"].value_counts().sort_index().items():
        problems.append(
            f"未知的数据来源“{src}”（{n} 行），应为 {', '.join(sorted(sources))} 之一 / unknown source"
        )
    scored = obs  # rows of other ids (vetoes, unknown) have no data type and are skipped below
    dtype = lookup(scored["indicator_id"], nodes["data_type"], "")
    present = scored["value"].notna() & (dtype != "")

    numeric = present & ~dtype.isin([*LABEL_TYPES, ""])
    as_num = pd.to_numeric(scored.loc[numeric, "value"], errors="coerce")
    for idx in as_num.index[as_num.isna()]:
        row = scored.loc[idx]
        problems.append(f"{_where(scored.loc[[idx]]).iloc[0]}：值“{row['value']}”不是数字 / not a number")

    labelled = scored[present & dtype.isin(LABEL_TYPES)]
    label_text = labelled["value"].astype("str")
    label_type = lookup(labelled["indicator_id"], nodes["data_type"])
    bad = (label_type == "level") & ~label_text.isin(list(LEVEL_NAMES))
    for idx in labelled.index[bad]:
        problems.append(
            f"{_where(scored.loc[[idx]]).iloc[0]}：级别“{scored.at[idx, 'value']}”无法识别，"
            f"应为 {'/'.join(LEVEL_NAMES)} / unknown level"
        )
    for ind_id in labelled.loc[label_type == "rating", "indicator_id"].unique():
        scale = _spec(nodes, rules, ind_id).parsed.scale
        mask = (labelled["indicator_id"] == ind_id) & ~label_text.isin(list(scale))
        for idx in labelled.index[mask]:
            problems.append(
                f"{_where(scored.loc[[idx]]).iloc[0]}：等级“{scored.at[idx, 'value']}”无法识别，"
                f"应为 {'/'.join(scale)} / unknown rating"
            )

    pairs = scored.loc[scored["item"] != "", ["indicator_id", "item"]].drop_duplicates()
    pairs = pairs[pairs["indicator_id"].isin(nodes.index)]
    for ind_id, grp in pairs.groupby("indicator_id", sort=True):
        weights = _item_weights(_spec(nodes, rules, ind_id))
        if weights is None:
            problems.append(f"指标 {ind_id} 不分子项，但数据中有子项 {sorted(grp['item'])} / takes no items")
        else:
            for item in sorted(set(grp["item"]) - set(weights)):
                problems.append(f"指标 {ind_id} 的子项“{item}”未在规则中定义，应为 {'/'.join(weights)} / unknown item")

    dup = _duplicated(obs, ["school_id", "year", "indicator_id", "item", "source", "rater"])
    for idx in obs.index[dup]:
        where = _where(obs.loc[[idx]]).iloc[0]
        problems.append(f"{where}：重复的观测（同一学校、年度、指标、来源、评分人）/ duplicate")
    if problems:
        raise ObservationsError(problems)


def _duplicated(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """``frame.duplicated(keys)`` through one integer key per row (factor codes of each column
    in mixed radix; 64-bit row hashes when that would overflow): candidates by key, confirmed
    exactly (a hash collision cannot report a false duplicate)."""
    key = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for col in keys:  # mixed-radix integer key from each column's factor codes
        codes, uniques = pd.factorize(frame[col])
        span *= len(uniques) + 1
        key = key * (len(uniques) + 1) + codes + 1
    if span >= 2**62:  # too many combinations for one int64: fall back to 64-bit row hashes
        key = pd.util.hash_pandas_object(frame[keys], index=False).to_numpy()
    hashes = pd.Series(key, index=frame.index)
    candidates = hashes.duplicated(keep=False)
    out = pd.Series(False, index=frame.index)
    if candidates.any():
        out[candidates] = frame.loc[candidates, keys].duplicated(keep="first")
    return out


def _spec(nodes: pd.DataFrame, rules: dict, node_id: str) -> RuleSpec:
    return rules[nodes.at[node_id, "rule_key"]][0]


def _item_weights(spec: RuleSpec) -> dict[str, float] | None:
    rule = get_rule(spec.name)
    if rule.item_weights is None:
        return None
    return getattr(spec.parsed, rule.item_weights) or None


def scorable_rows(obs: pd.DataFrame, nodes: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """One row per school × year × node × source × rater with a usable value.

    Columns: the rater key, ``value`` (float for numeric types, label otherwise), ``num``
    (the value as a float; NaN for labels),
    ``value_text`` (as an evaluator reads it: ``17次``, ``85%``, ``警示 1次、违规 0次``),
    ``evidence``. Rows whose value is missing are left out here (a missing value is the same as
    no observation; the engine applies the missing-data policy).
    """
    keep = obs["indicator_id"].isin(nodes.index) & obs["value"].notna()
    rows = obs.loc[keep, [*RATER_KEY, "item", "value", "evidence"]]
    for col, codes in _integer_keys(rows, nodes).items():
        rows[col] = codes
    dtype = pd.Series(nodes["data_type"].to_numpy(dtype=object)[rows["_ind"].to_numpy()], index=rows.index)
    numeric = ~dtype.isin(LABEL_TYPES)
    rows["num"] = np.nan
    rows.loc[numeric, "num"] = pd.to_numeric(rows.loc[numeric, "value"], errors="coerce")

    itemised = rows["item"] != ""
    plain = rows[~itemised]
    parts = [_plain_rows(plain, nodes, numeric[~itemised])]
    if itemised.any():
        parts.append(_collapse_items(rows[itemised], nodes, rules))
    out = pd.concat(parts, ignore_index=True)
    out["_text"] = pd.factorize(out["value_text"])[0] if len(parts) > 1 else out["_text"]
    return out


def _integer_keys(rows: pd.DataFrame, nodes: pd.DataFrame) -> dict[str, np.ndarray]:
    """Integer codes for the grouping keys, so every later group-by is over one int64 column:
    ``_ind`` (node position), ``_node`` (school × year × node), ``_source`` (… × source),
    ``_rater`` (… × rater)."""
    school, _ = pd.factorize(rows["school_id"])
    year, years = pd.factorize(rows["year"])
    source, sources = pd.factorize(rows["source"])
    rater, raters = pd.factorize(rows["rater"])
    ind = nodes.index.get_indexer(rows["indicator_id"]).astype(np.int64)
    node = (school.astype(np.int64) * len(years) + year) * len(nodes) + ind
    src = node * max(len(sources), 1) + source
    return {"_ind": ind, "_node": node, "_source": src, "_rater": src * max(len(raters), 1) + rater}


def _plain_rows(rows: pd.DataFrame, nodes: pd.DataFrame, numeric: pd.Series) -> pd.DataFrame:
    out = rows[[*RATER_KEY, "evidence", "_ind", "_node", "_source", "_rater", "num"]]
    out["value"] = rows["value"].astype(object)
    out.loc[numeric, "value"] = rows.loc[numeric, "num"]
    out["value_text"], out["_text"] = _value_text(out, nodes)
    return out


def _value_text(rows: pd.DataFrame, nodes: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """:func:`evalkit.textfmt.value_text` for every row, computed once per distinct
    (indicator, value) and taken onto rows by group id; also returns the group ids."""
    from evalkit.textfmt import value_text

    value_code = pd.factorize(rows["value"].astype(object))[0].astype(np.int64)
    gid = pd.factorize(rows["_ind"].to_numpy() * (value_code.max(initial=0) + 2) + value_code + 1)[0]
    _, first = np.unique(gid, return_index=True)
    texts = np.empty(len(first), dtype=object)
    data_type, unit = nodes["data_type"].to_dict(), nodes["unit"].to_dict()
    for k, (ind_id, value) in enumerate(zip(rows["indicator_id"].iloc[first], rows["value"].iloc[first], strict=True)):
        texts[gid[first[k]]] = value_text(value, data_type[ind_id], unit[ind_id])
    return pd.Series(texts[gid], index=rows.index, dtype=object), gid


def _collapse_items(rows: pd.DataFrame, nodes: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """``value = Σ weight[item] × n`` per rater; ``value_text`` lists the items:
    ``警示 1次、违规 1次``."""
    weights = {}
    for node_id in rows["indicator_id"].unique():
        w = _item_weights(_spec(nodes, rules, node_id)) or {}
        weights.update({(node_id, k): v for k, v in w.items()})
    pair = rows["indicator_id"].astype("str") + "\x1f" + rows["item"].astype("str")
    w = lookup(pair, {f"{i}\x1f{k}": v for (i, k), v in weights.items()}, 1.0).astype(float)
    rows = rows.assign(weighted=rows["num"] * w)
    unit = lookup(rows["indicator_id"], nodes["unit"], "").astype(object)
    names = lookup(rows["item"], {k: ITEM_NAMES.get(k, k) for k in rows["item"].unique()}).astype(object)
    rows["piece"] = names + " " + num_series(rows["num"]) + unit
    keys = ["_rater"]
    first = ~rows["_rater"].duplicated()
    out = rows.loc[first, [*RATER_KEY, "_ind", "_node", "_source", "_rater"]].set_index("_rater", drop=False)
    out["num"] = rows.groupby(keys, sort=False)["weighted"].sum()
    out["value"] = out["num"].astype(object)
    out["value_text"] = join_by_group(rows, keys, "piece", "、")
    out["evidence"] = join_by_group(rows, keys, "evidence", "；", skip_empty=True)
    out["evidence"] = out["evidence"].fillna("")
    return out.reset_index(drop=True)


def score_rows(rows: pd.DataFrame, nodes: pd.DataFrame, rules: dict) -> pd.Series:
    """Points per row: one vectorised rule call per distinct rule application (name,
    parameters, direction), over every row of every node that uses it; population rules
    (z-score, percentile) within each node × year × source × rater."""
    points = pd.Series(np.nan, index=rows.index, dtype=float)
    keys = lookup(rows["indicator_id"], nodes["rule_key"])
    max_points = lookup(rows["indicator_id"], nodes["max_points"]).astype(float)
    for key, idx in rows.groupby(keys, sort=False).groups.items():
        spec, hib = rules[key]
        rule, params = spec.rule, spec.parsed
        vals = rows.loc[idx, "value"]
        if not rule.labels:
            vals = vals.astype(float)
        if rule.population:
            part = rows.loc[idx]
            scored = vals.groupby(
                [part["indicator_id"], part["year"], part["source"], part["rater"]], sort=False
            ).transform(lambda s, r=rule, p=params, h=hib: r.score(s, 1.0, p, h))
            points[idx] = scored * max_points[idx]
        else:
            points[idx] = rule.score(vals, max_points[idx], params, hib).astype(float)
    return points
