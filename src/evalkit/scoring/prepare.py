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
from evalkit.textfmt import ITEM_NAMES, LEVEL_NAMES, num_series

RATER_KEY = ["school_id", "year", "indicator_id", "source", "rater"]


def _where(df: pd.DataFrame) -> pd.Series:
    """``学校 001 2024年 指标 A1 (来源 inspection 评分人 R1)`` per row, for messages."""
    text = "学校 " + df["school_id"].astype(str) + " " + df["year"].astype(str) + "年 指标 " + df["indicator_id"]
    extra = np.where(df["rater"] != "", "（评分人 " + df["rater"].astype(str) + "）", "")
    if "cell" in df.columns:
        loc = " [" + df.get("file", "").astype(str) + " " + df.get("sheet", "").astype(str) + " " + df["cell"].astype(str) + "]"
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
    scored = obs[obs["indicator_id"].isin(nodes.index)]
    dtype = scored["indicator_id"].map(nodes["data_type"])
    present = scored["value"].notna()

    numeric = present & ~dtype.isin(LABEL_TYPES)
    as_num = pd.to_numeric(scored.loc[numeric, "value"], errors="coerce")
    for idx in as_num.index[as_num.isna()]:
        row = scored.loc[idx]
        problems.append(f"{_where(scored.loc[[idx]]).iloc[0]}：值“{row['value']}”不是数字 / not a number")

    for data_type, allowed in (("level", set(LEVEL_NAMES)),):
        mask = present & (dtype == data_type)
        bad = mask & ~scored["value"].astype(str).isin(allowed)
        for idx in scored.index[bad]:
            problems.append(
                f"{_where(scored.loc[[idx]]).iloc[0]}：级别“{scored.at[idx, 'value']}”无法识别，"
                f"应为 {'/'.join(allowed)} / unknown level"
            )
    rating = present & (dtype == "rating")
    if rating.any():
        for ind_id in scored.loc[rating, "indicator_id"].unique():
            scale = _spec(nodes, rules, ind_id).parsed.scale
            mask = rating & (scored["indicator_id"] == ind_id) & ~scored["value"].astype(str).isin(scale)
            for idx in scored.index[mask]:
                problems.append(
                    f"{_where(scored.loc[[idx]]).iloc[0]}：等级“{scored.at[idx, 'value']}”无法识别，"
                    f"应为 {'/'.join(scale)} / unknown rating"
                )

    with_items = scored[scored["item"] != ""]
    for ind_id, grp in with_items.groupby("indicator_id", sort=True):
        weights = _item_weights(_spec(nodes, rules, ind_id))
        if weights is None:
            problems.append(f"指标 {ind_id} 不分子项，但数据中有子项 {sorted(grp['item'].unique())} / takes no items")
        else:
            for item in sorted(set(grp["item"]) - set(weights)):
                problems.append(f"指标 {ind_id} 的子项“{item}”未在规则中定义，应为 {'/'.join(weights)} / unknown item")

    dup = obs.duplicated(["school_id", "year", "indicator_id", "item", "source", "rater"], keep="first")
    for idx in obs.index[dup]:
        problems.append(f"{_where(obs.loc[[idx]]).iloc[0]}：重复的观测（同一学校、年度、指标、来源、评分人）/ duplicate")
    if problems:
        raise ObservationsError(problems)


def _spec(nodes: pd.DataFrame, rules: dict, node_id: str) -> RuleSpec:
    return rules[nodes.at[node_id, "rule_key"]][0]


def _item_weights(spec: RuleSpec) -> dict[str, float] | None:
    rule = get_rule(spec.name)
    if rule.item_weights is None:
        return None
    return getattr(spec.parsed, rule.item_weights) or None


def scorable_rows(obs: pd.DataFrame, nodes: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """One row per school × year × node × source × rater with a usable value.

    Columns: the rater key, ``value`` (float for numeric types, label otherwise),
    ``value_text`` (as an evaluator reads it: ``17次``, ``85%``, ``警示 1次、违规 0次``),
    ``evidence``. Rows whose value is missing are left out here (a missing value is the same as
    no observation; the engine applies the missing-data policy).
    """
    rows = obs[obs["indicator_id"].isin(nodes.index) & obs["value"].notna()].copy()
    dtype = rows["indicator_id"].map(nodes["data_type"])
    numeric = ~dtype.isin(LABEL_TYPES)
    rows["num"] = np.nan
    rows.loc[numeric, "num"] = pd.to_numeric(rows.loc[numeric, "value"], errors="coerce")

    itemised = rows["item"] != ""
    plain = rows[~itemised]
    parts = [_plain_rows(plain, nodes, numeric[~itemised])]
    if itemised.any():
        parts.append(_collapse_items(rows[itemised], nodes, rules))
    out = pd.concat(parts, ignore_index=True)
    return out


def _plain_rows(rows: pd.DataFrame, nodes: pd.DataFrame, numeric: pd.Series) -> pd.DataFrame:
    out = rows[[*RATER_KEY, "evidence"]].copy()
    out["value"] = rows["value"].astype(object)
    out.loc[numeric, "value"] = rows.loc[numeric, "num"]
    out["value_text"] = _value_text(out, nodes)
    return out


def _value_text(rows: pd.DataFrame, nodes: pd.DataFrame) -> pd.Series:
    """Vectorised :func:`evalkit.textfmt.value_text` by data type."""
    from evalkit.textfmt import value_text

    dtype = rows["indicator_id"].map(nodes["data_type"])
    unit = rows["indicator_id"].map(nodes["unit"]).fillna("")
    text = pd.Series("", index=rows.index, dtype=object)
    for kind in dtype.unique():
        mask = dtype == kind
        vals = rows.loc[mask, "value"]
        if kind in ("count", "number", "score"):
            text[mask] = num_series(vals.astype(float)) + unit[mask]
        elif kind == "ratio":
            text[mask] = num_series(vals.astype(float) * 100, 1) + "%"
        else:
            table = {v: value_text(v, kind) for v in pd.unique(vals)}
            text[mask] = vals.map(table)
    return text


def _collapse_items(rows: pd.DataFrame, nodes: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """``value = Σ weight[item] × n`` per rater; ``value_text`` lists the items:
    ``警示 1次、违规 1次``."""
    weights = {}
    for node_id in rows["indicator_id"].unique():
        w = _item_weights(_spec(nodes, rules, node_id)) or {}
        weights.update({(node_id, k): v for k, v in w.items()})
    keys = list(zip(rows["indicator_id"], rows["item"], strict=True))
    w = pd.Series([weights.get(k, 1.0) for k in keys], index=rows.index)
    rows = rows.assign(weighted=rows["num"] * w)
    unit = rows["indicator_id"].map(nodes["unit"]).fillna("")
    rows["piece"] = rows["item"].map(lambda k: ITEM_NAMES.get(k, k)) + " " + num_series(rows["num"]) + unit
    g = rows.groupby(RATER_KEY, sort=False)
    out = g.agg(
        value=("weighted", "sum"),
        value_text=("piece", "、".join),
        evidence=("evidence", lambda s: "；".join(x for x in s if x)),
    ).reset_index()
    out["value"] = out["value"].astype(object)
    return out


def score_rows(rows: pd.DataFrame, nodes: pd.DataFrame, rules: dict) -> pd.Series:
    """Points per row: one vectorised rule call per distinct rule application (name,
    parameters, direction), over every row of every node that uses it; population rules
    (z-score, percentile) within each node × year × source × rater."""
    points = pd.Series(np.nan, index=rows.index, dtype=float)
    keys = rows["indicator_id"].map(nodes["rule_key"])
    max_points = rows["indicator_id"].map(nodes["max_points"]).astype(float)
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
