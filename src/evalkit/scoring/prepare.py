"""From Observations to one scorable row per school × year × node × source × rater.

Checks the observations against the framework (every problem collected, none dropped
silently), converts values to numbers for numeric data types, and collapses item rows
(``C5``: warnings and violations) into one weighted total per rater:
``value = Σ_k weight_k × n_k`` (weight 1 when the rule has no weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.framework import LABEL_TYPES, Framework, RuleSpec
from evalkit.observations import KEY, ObservationsError
from evalkit.rules import get_rule
from evalkit.scoring.codes import Encoded
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


def check(obs: pd.DataFrame, fw: Framework, nodes: pd.DataFrame, rules: dict, enc: Encoded) -> Parsed:
    """Raise :class:`ObservationsError` listing every observation that cannot be scored:
    unknown indicator ids, unknown sources, unknown items, values of the wrong type, and
    duplicates. Every test runs on the distinct values (``enc``) and is taken onto rows.
    Returns the parsed values for :func:`scorable_rows`."""
    problems: list[str] = []
    sources = set(fw.sources.weights)
    for col, known in (("indicator_id", fw.known_ids), ("source", sources)):
        counts = np.bincount(enc.codes[col][enc.codes[col] >= 0], minlength=len(enc.uniques[col]))
        for value, n in sorted(zip(enc.uniques[col], counts, strict=True)):
            if value in known:
                continue
            if col == "source":
                problems.append(
                    f"未知的数据来源“{value}”（{n} 行），应为 {', '.join(sorted(sources))} 之一 / unknown source"
                )
            else:
                problems.append(f"未知指标编号“{value}”（{n} 行）/ unknown indicator id")

    dtype = enc.per_row("indicator_id", nodes["data_type"].to_dict(), "")
    present = (enc.codes["value"] >= 0) & (dtype != "")
    is_label = np.isin(dtype, list(LABEL_TYPES))
    num_u = pd.to_numeric(pd.Series(enc.uniques["value"], dtype=object), errors="coerce").to_numpy(dtype=float)
    num = np.append(num_u, np.nan)[enc.codes["value"]]
    for idx in np.flatnonzero(present & ~is_label & np.isnan(num)):
        problems.append(f"{_where(obs.iloc[[idx]]).iloc[0]}：值“{obs['value'].iat[idx]}”不是数字 / not a number")

    text_u = np.array([str(u) for u in enc.uniques["value"]] + [""], dtype=object)
    level_ok = np.isin(text_u, list(LEVEL_NAMES))[enc.codes["value"]]
    for idx in np.flatnonzero(present & (dtype == "level") & ~level_ok):
        problems.append(
            f"{_where(obs.iloc[[idx]]).iloc[0]}：级别“{obs['value'].iat[idx]}”无法识别，"
            f"应为 {'/'.join(LEVEL_NAMES)} / unknown level"
        )
    rating = present & (dtype == "rating")
    indicator = obs["indicator_id"].to_numpy()
    for ind_id in sorted(set(indicator[rating])):
        scale = _spec(nodes, rules, ind_id).parsed.scale
        ok = np.isin(text_u, list(scale))[enc.codes["value"]]
        for idx in np.flatnonzero(rating & (indicator == ind_id) & ~ok):
            problems.append(
                f"{_where(obs.iloc[[idx]]).iloc[0]}：等级“{obs['value'].iat[idx]}”无法识别，"
                f"应为 {'/'.join(scale)} / unknown rating"
            )

    has_item = enc.per_row("item", {"": False}, True, dtype=bool) & (dtype != "")
    pairs = obs.loc[has_item, ["indicator_id", "item"]].drop_duplicates()
    for ind_id, grp in pairs.groupby("indicator_id", sort=True):
        weights = _item_weights(_spec(nodes, rules, ind_id))
        if weights is None:
            problems.append(f"指标 {ind_id} 不分子项，但数据中有子项 {sorted(grp['item'])} / takes no items")
        else:
            for item in sorted(set(grp["item"]) - set(weights)):
                problems.append(f"指标 {ind_id} 的子项“{item}”未在规则中定义，应为 {'/'.join(weights)} / unknown item")

    for idx in np.flatnonzero(_duplicated(obs, enc, KEY)):
        where = _where(obs.iloc[[idx]]).iloc[0]
        problems.append(f"{where}：重复的观测（同一学校、年度、指标、来源、评分人）/ duplicate")
    if problems:
        raise ObservationsError(problems)
    return Parsed(dtype=dtype, num=num, is_label=is_label)


@dataclass(frozen=True)
class Parsed:
    """Per observation row: its node's data type (``""`` for vetoes), value as a float, label?"""

    dtype: np.ndarray
    num: np.ndarray
    is_label: np.ndarray


def _duplicated(frame: pd.DataFrame, enc: Encoded, keys: list[str]) -> np.ndarray:
    """``frame.duplicated(keys)`` through one integer key per row (mixed radix over the codes;
    64-bit row hashes when that would overflow): candidates by key, confirmed exactly."""
    key = enc.key(keys)
    if key is None:
        key = pd.util.hash_pandas_object(frame[keys], index=False).to_numpy()
    candidates = pd.Series(key).duplicated(keep=False).to_numpy()
    out = np.zeros(len(frame), dtype=bool)
    if candidates.any():
        out[candidates] = frame.loc[candidates, keys].duplicated(keep="first").to_numpy()
    return out


def _spec(nodes: pd.DataFrame, rules: dict, node_id: str) -> RuleSpec:
    return rules[nodes.at[node_id, "rule_key"]][0]


def _item_weights(spec: RuleSpec) -> dict[str, float] | None:
    rule = get_rule(spec.name)
    if rule.item_weights is None:
        return None
    return getattr(spec.parsed, rule.item_weights) or None


def scorable_rows(
    obs: pd.DataFrame, nodes: pd.DataFrame, rules: dict, enc: Encoded, parsed: Parsed
) -> pd.DataFrame:
    """One row per school × year × node × source × rater with a usable value.

    Columns: the rater key, ``value`` (float for numeric types, label otherwise), ``num``
    (the value as a float; NaN for labels),
    ``value_text`` (as an evaluator reads it: ``17次``, ``85%``, ``警示 1次、违规 0次``),
    ``evidence``, and integer keys ``_ind`` (node), ``_node``, ``_source``, ``_rater`` built
    from the codes of ``enc`` (mixed radix). Rows whose value is missing are left out here (a
    missing value is the same as no observation; the engine applies the missing-data policy).
    """
    ind = enc.per_row("indicator_id", {n: i for i, n in enumerate(nodes.index)}, -1, dtype=np.int64)
    keep = (ind >= 0) & (enc.codes["value"] >= 0)
    # text columns as object arrays taken from the distinct values: filtering and copying them
    # later is a pointer copy (Arrow-backed strings would be re-encoded at every step)
    rows = pd.DataFrame(
        {col: pd.Series(enc.text(col, keep), dtype=object) for col in ("school_id", "indicator_id", "source", "rater")}
    )
    rows.insert(1, "year", obs["year"].to_numpy()[keep])
    rows["item"] = pd.Series(enc.text("item", keep), dtype=object)
    rows["value"] = pd.Series(obs["value"].to_numpy(dtype=object)[keep], dtype=object)
    rows["evidence"] = pd.Series(enc.text("evidence", keep), dtype=object)
    ny, ns, nr = (len(enc.uniques[c]) + 1 for c in ("year", "source", "rater"))
    node = ((enc.codes["school_id"][keep] + 1) * ny + enc.codes["year"][keep] + 1) * len(nodes) + ind[keep]
    source = node * ns + enc.codes["source"][keep] + 1
    rows["_ind"], rows["_node"], rows["_source"] = ind[keep], node, source
    rows["_rater"] = source * nr + enc.codes["rater"][keep] + 1
    rows["_vcode"] = enc.codes["value"][keep]
    numeric = pd.Series(~parsed.is_label[keep], index=rows.index)
    rows["num"] = np.where(numeric, parsed.num[keep], np.nan)

    itemised = pd.Series(enc.per_row("item", {"": False}, True, dtype=bool)[keep], index=rows.index)
    rows["value"] = rows["value"].where(~numeric, rows["num"])
    rows["value_text"], rows["_text"] = _value_text(rows, nodes)
    if itemised.any():
        # item rows (C5 warnings / violations) collapse into the first row of their rater group
        agg = _collapse_items(rows[itemised], nodes, rules)
        for col in ("num", "value", "value_text", "evidence"):
            rows.loc[agg.index, col] = agg[col]
        rows = rows[~itemised | rows.index.isin(agg.index)]
        rows["_text"] = pd.factorize(rows["value_text"])[0]
    return rows.reset_index(drop=True)


def _value_text(rows: pd.DataFrame, nodes: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """:func:`evalkit.textfmt.value_text` for every row, computed once per distinct
    (indicator, value) and taken onto rows by group id; also returns the group ids."""
    from evalkit.textfmt import value_text

    value_code = rows["_vcode"].to_numpy()
    gid = pd.factorize(rows["_ind"].to_numpy() * (value_code.max(initial=0) + 2) + value_code + 1)[0]
    _, first = np.unique(gid, return_index=True)
    texts = np.empty(len(first), dtype=object)
    data_type, unit = nodes["data_type"].to_dict(), nodes["unit"].to_dict()
    for k, (ind_id, value) in enumerate(zip(rows["indicator_id"].iloc[first], rows["value"].iloc[first], strict=True)):
        texts[gid[first[k]]] = value_text(value, data_type[ind_id], unit[ind_id])
    return pd.Series(texts[gid], index=rows.index, dtype=object), gid


def _collapse_items(rows: pd.DataFrame, nodes: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """``value = Σ weight[item] × n`` per rater; ``value_text`` lists the items:
    ``警示 1次、违规 1次``. Indexed by the label of each rater group's first row."""
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
    first = rows.index[~rows["_rater"].duplicated()]
    out = pd.DataFrame(index=rows.loc[first, "_rater"])
    out["num"] = rows.groupby(keys, sort=False)["weighted"].sum()
    out["value"] = out["num"].astype(object)
    out["value_text"] = join_by_group(rows, keys, "piece", "、")
    out["evidence"] = join_by_group(rows, keys, "evidence", "；", skip_empty=True)
    out["evidence"] = out["evidence"].fillna("").astype(object)
    out.index = first  # each group's aggregate sits on its first row
    return out


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
