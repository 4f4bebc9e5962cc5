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

from evalkit.framework import Framework, RuleSpec
from evalkit.framework.rules import get_rule
from evalkit.observations import KEY, EncodedObservations, ObservationsError
from evalkit.observations.codes import Columns, Encoded, groups
from evalkit.scoring.strjoin import join_by_group
from evalkit.textfmt import ITEM_NAMES, LEVEL_NAMES, num_series

COUNTING_LIMIT = 1 << 24
"""Largest key space counted with ``np.bincount`` (an int64 per possible key: 128 MB)."""


def _where(df: pd.DataFrame) -> pd.Series:
    """``学校 001 2024年 指标 A1 (来源 inspection 评分人 R1)`` per row, for messages."""
    text = "学校 " + df["school_id"].astype(str) + " " + df["year"].astype(str) + "年 指标 " + df["indicator_id"]
    extra = np.where(df["rater"] != "", "（评分人 " + df["rater"].astype(str) + "）", "")
    if "cell" in df.columns:
        file, sheet = df.get("file", "").astype(str), df.get("sheet", "").astype(str)
        loc = " [" + file + " " + sheet + " " + df["cell"].astype(str) + "]"
        return text + extra + loc
    return text + extra


def check(data: EncodedObservations, fw: Framework, nodes: pd.DataFrame, rules: dict) -> Parsed:
    """Parse the values for scoring and, as an assertion behind the data gate
    (:mod:`evalkit.intake.gate`, which refuses all of this with the cells first), raise
    :class:`ObservationsError` listing every observation that cannot be scored: unknown
    indicator ids, unknown sources, unknown items, values of the wrong type, and duplicates.
    Every test runs on the distinct values (``data.enc``) and is taken onto rows;
    only the rows in a message are decoded. Returns the parsed values for :func:`scorable_rows`."""
    enc = data.enc
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
    is_label = enc.per_row("indicator_id", nodes["is_label"].to_dict(), False, dtype=bool)
    num_u = pd.to_numeric(pd.Series(enc.uniques["value"], dtype=object), errors="coerce").to_numpy(dtype=float)
    num = np.append(num_u, np.nan)[enc.codes["value"]]
    for where, value in _located(data, present & ~is_label & np.isnan(num)):
        problems.append(f"{where}：值“{value}”不是数字 / not a number")

    text_u = np.array([str(u) for u in enc.uniques["value"]] + [""], dtype=object)
    level_ok = np.isin(text_u, list(LEVEL_NAMES))[enc.codes["value"]]
    for where, value in _located(data, present & (dtype == "level") & ~level_ok):
        problems.append(
            f"{where}：级别“{value}”无法识别，"
            f"应为 {'/'.join(LEVEL_NAMES)} / unknown level"
        )
    rating = present & (dtype == "rating")
    indicator = enc.codes["indicator_id"]
    for code in sorted(np.unique(indicator[rating]), key=lambda c: enc.uniques["indicator_id"][c]):
        ind_id = enc.uniques["indicator_id"][code]
        scale = _spec(nodes, rules, ind_id).parsed.scale
        ok = np.isin(text_u, list(scale))[enc.codes["value"]]
        for where, value in _located(data, rating & (indicator == code) & ~ok):
            problems.append(
                f"{where}：等级“{value}”无法识别，"
                f"应为 {'/'.join(scale)} / unknown rating"
            )

    has_item = enc.per_row("item", {"": False}, True, dtype=bool) & (dtype != "")
    n_items = len(enc.uniques["item"]) + 1
    pairs = np.unique(indicator[has_item] * n_items + enc.codes["item"][has_item])
    for code in sorted(np.unique(pairs // n_items), key=lambda c: enc.uniques["indicator_id"][c]):
        ind_id = enc.uniques["indicator_id"][code]
        items = {enc.uniques["item"][p % n_items] for p in pairs[pairs // n_items == code]}
        weights = _item_weights(_spec(nodes, rules, ind_id))
        if weights is None:
            problems.append(f"指标 {ind_id} 不分子项，但数据中有子项 {sorted(items)} / takes no items")
        else:
            for item in sorted(items - set(weights)):
                problems.append(f"指标 {ind_id} 的子项“{item}”未在规则中定义，应为 {'/'.join(weights)} / unknown item")

    for where, value in _located(data, _total_beside_items(enc, has_item & present, present & ~has_item)):
        problems.append(
            f"{where}：该评分人已按子项填报，又有不分子项的值“{value}”，无法合并 / a total beside item rows"
        )
    for where, _ in _located(data, _duplicated(data, KEY)):
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


def _located(data: EncodedObservations, mask: np.ndarray) -> list[tuple[str, object]]:
    """``(where, value as given)`` for the rows of ``mask``, for messages."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    rows = data.rows(idx)
    return list(zip(_where(rows), rows["value"], strict=True))


def _total_beside_items(enc: Encoded, itemised: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """The ``plain`` rows (no item) whose rater also gave item rows (``itemised``) for the same
    school × year × indicator × source: the two cannot be combined into one value."""
    out = np.zeros(len(itemised), dtype=bool)
    if not itemised.any():
        return out
    indicator = enc.codes["indicator_id"]
    has_items = np.zeros(len(enc.uniques["indicator_id"]) + 1, dtype=bool)
    has_items[indicator[itemised]] = True
    items, candidates = np.flatnonzero(itemised), np.flatnonzero(plain & has_items[indicator])
    keys = enc.key(["school_id", "year", "indicator_id", "source", "rater"], np.r_[items, candidates])
    item_keys, candidate_keys = keys[: len(items)], keys[len(items):]
    out[candidates] = np.isin(candidate_keys, item_keys)
    return out


def _duplicated(data: EncodedObservations, keys: list[str]) -> np.ndarray:
    """Rows repeating an earlier row's ``keys`` (school, year, indicator, item, source, rater),
    through one exact integer key per row (:meth:`Encoded.key`). Rows alone in their school ×
    year × indicator × source (counted with ``np.bincount`` when that space is small) cannot
    repeat, so only the others are hashed."""
    enc = data.enc
    candidates = np.arange(len(data))
    coarse = enc.key(["school_id", "year", "indicator_id", "source"])
    if coarse.max(initial=0) < COUNTING_LIMIT:
        candidates = np.flatnonzero(np.bincount(coarse)[coarse] > 1)
    out = np.zeros(len(data), dtype=bool)
    out[candidates] = pd.Series(enc.key(keys, candidates)).duplicated(keep="first").to_numpy()
    return out


def _spec(nodes: pd.DataFrame, rules: dict, node_id: str) -> RuleSpec:
    return rules[nodes.at[node_id, "rule_key"]][0]


def _item_weights(spec: RuleSpec) -> dict[str, float] | None:
    rule = get_rule(spec.name)
    if rule.item_weights is None:
        return None
    return getattr(spec.parsed, rule.item_weights) or None


def scorable_rows(nodes: pd.DataFrame, rules: dict, enc: Encoded, parsed: Parsed) -> Columns:
    """One row per school × year × node × source × rater with a usable value, as columns of
    numbers (filtering and grouping never touch a string; text is carried as object arrays
    whose copies are pointer copies).

    Columns: ``_sch`` (the school's code in ``enc``), ``year``, ``_ind`` (the node's position in
    ``nodes``), ``_src`` / ``_rcode`` (the source's and rater's codes), ``_shared`` (a rater is
    named or the row stands for items: rows that may share a source with others), ``_node`` /
    ``_source`` (one int64 per school × year × node, … × source: mixed radix over the codes),
    ``_vcode`` (the value's code; ``-1`` once values were combined), ``num`` (the value as a
    float; NaN for labels), ``value_text`` (as an evaluator reads it: ``17次``, ``85%``,
    ``警示 1次、违规 0次``) with ``_text`` its code, and ``evidence``. Rows whose value is
    missing are left out here (a missing value is the same as no observation; the engine
    applies the missing-data policy). Item rows are collapsed first (:func:`_collapse_items`),
    so every other column is built once, for the rows that stay.
    """
    ind_all = enc.per_row("indicator_id", {n: i for i, n in enumerate(nodes.index)}, -1, dtype=np.int64)
    valid = (ind_all >= 0) & (enc.codes["value"] >= 0)
    itemised = np.flatnonzero(valid & enc.per_row("item", {"": False}, True, dtype=bool))
    collapsed = None
    if len(itemised):
        collapsed = _collapse_items(itemised, ind_all[itemised], enc, parsed, nodes, rules)
        valid[itemised] = False
        valid[collapsed["_first"]] = True
    keep = np.flatnonzero(valid)

    code = {col: enc.codes[col][keep] for col in ("school_id", "year", "source", "rater", "value")}
    ind = ind_all[keep]
    node, source, _ = _keys(code, ind, enc, len(nodes))
    rows: Columns = {
        "_sch": code["school_id"],
        "year": np.append(enc.uniques["year"], 0).astype(np.int64)[code["year"]],
        "_ind": ind,
        "_src": code["source"],
        "_rcode": code["rater"],
        "_shared": enc.per_row("rater", {"": False}, True, dtype=bool)[keep],
        "_node": node,
        "_source": source,
        "_vcode": code["value"],
        "num": np.where(parsed.is_label[keep], np.nan, parsed.num[keep]),
        "evidence": enc.text("evidence", keep),
    }
    rows["value_text"], rows["_text"] = _value_text(rows, nodes, enc)
    if collapsed is not None:
        at = np.searchsorted(keep, collapsed.pop("_first"))
        for col, values in collapsed.items():
            rows[col][at] = values
        rows["_vcode"][at] = -1
        rows["_shared"][at] = True
        rows["_text"][at] = rows["_text"].max() + 1 + pd.factorize(collapsed["value_text"])[0]
    return rows


def _keys(code: dict[str, np.ndarray], ind: np.ndarray, enc: Encoded, n_nodes: int) -> tuple[np.ndarray, ...]:
    """``(node, source, rater)``: one int64 per school × year × node, … × source, … × rater
    (mixed radix over the codes, so equal keys mean equal combinations)."""
    ny, ns, nr = (len(enc.uniques[c]) + 1 for c in ("year", "source", "rater"))
    node = ((code["school_id"] + 1) * ny + code["year"] + 1) * n_nodes + ind
    source = node * ns + code["source"] + 1
    return node, source, source * nr + code["rater"] + 1


def row_values(rows: Columns, idx: np.ndarray, nodes: pd.DataFrame, enc: Encoded) -> np.ndarray:
    """The values of rows ``idx`` as rules and sentences take them: the label (``"B"``,
    ``"city"``) for label data types, the number otherwise (object array)."""
    vcode = rows["_vcode"][idx]
    label = nodes["is_label"].to_numpy()[rows["_ind"][idx]] & (vcode >= 0)
    if label.all():  # a label rule's rows: no number is boxed only to be replaced
        return enc.uniques["value"].astype(object, copy=False)[vcode]
    out = rows["num"][idx].astype(object)
    out[label] = enc.uniques["value"][vcode[label]]
    return out


def _value_text(rows: Columns, nodes: pd.DataFrame, enc: Encoded) -> tuple[np.ndarray, np.ndarray]:
    """:func:`evalkit.textfmt.value_text` for every row, computed once per distinct
    (indicator, value) and taken onto rows by group id; also returns the group ids."""
    from evalkit.textfmt import value_text

    gid, first = groups(rows["_ind"] * (len(enc.uniques["value"]) + 1) + rows["_vcode"] + 1)
    values = row_values(rows, first, nodes, enc)
    data_type, unit = nodes["data_type"].to_numpy(), nodes["unit"].to_numpy()
    texts = np.array(
        [value_text(v, data_type[i], unit[i]) for i, v in zip(rows["_ind"][first], values, strict=True)], dtype=object
    )
    return texts[gid], gid


def _collapse_items(
    idx: np.ndarray, ind: np.ndarray, enc: Encoded, parsed: Parsed, nodes: pd.DataFrame, rules: dict
) -> Columns:
    """The item rows ``idx`` (of the observations) collapsed per rater: ``_first`` (the
    observation row that stands for the group), ``num`` = ``Σ weight[item] × n``,
    ``value_text`` listing the items (``警示 1次、违规 1次``) and the joined ``evidence``."""
    item_code, n = enc.codes["item"][idx], parsed.num[idx]
    item_names = enc.uniques["item"]
    weight = np.ones(len(idx))
    for i in np.unique(ind):
        w = _item_weights(_spec(nodes, rules, nodes.index[i])) or {}
        at = ind == i
        weight[at] = np.array([w.get(k, 1.0) for k in item_names] + [1.0])[item_code[at]]
    unit = nodes["unit"].to_numpy(dtype=object)[ind]
    names = np.array([ITEM_NAMES.get(k, k) for k in item_names] + [""], dtype=object)[item_code]
    piece = names + " " + num_series(pd.Series(n)).to_numpy(dtype=object) + unit
    code = {col: enc.codes[col][idx] for col in ("school_id", "year", "source", "rater")}
    gid, first = groups(_keys(code, ind, enc, len(nodes))[2])
    n_groups = len(first)
    return {
        "_first": idx[first],
        "num": np.bincount(gid, weights=n * weight),
        "value_text": join_by_group(gid, piece, "、", n_groups),
        "evidence": join_by_group(gid, enc.text("evidence", idx), "；", n_groups, skip_empty=True),
    }


def score_rows(rows: Columns, nodes: pd.DataFrame, rules: dict, enc: Encoded) -> np.ndarray:
    """Points per row: one vectorised rule call per distinct rule application (name,
    parameters, direction), over every row of every node that uses it; population rules
    (z-score, percentile) within each node × year × source × rater. The other rules are
    elementwise, so a label rule (ratings, levels) scores each distinct (node, label) once."""
    points = np.full(len(rows["_ind"]), np.nan)
    rule_code, rule_keys = pd.factorize(nodes["rule_key"])
    max_points = nodes["max_points"].to_numpy(dtype=float)
    per_row = rule_code[rows["_ind"]]
    order = np.argsort(per_row, kind="stable")
    bounds = np.searchsorted(per_row[order], np.arange(len(rule_keys) + 1))
    for r, key in enumerate(rule_keys):
        idx = order[bounds[r]:bounds[r + 1]]
        if not len(idx):
            continue
        spec, hib = rules[key]
        rule, params = spec.rule, spec.parsed
        distinct = _distinct_labels(rows, idx, nodes, enc) if rule.labels and not rule.population else None
        if distinct is not None:
            gid, first = distinct  # labels as an object column (an inferred ``str`` one is Arrow)
            vals = pd.Series(row_values(rows, idx[first], nodes, enc), dtype=object)
            scored = rule.score(vals, pd.Series(max_points[rows["_ind"][idx[first]]]), params, hib)
            points[idx] = scored.to_numpy(dtype=float)[gid]
            continue
        vals = pd.Series(row_values(rows, idx, nodes, enc) if rule.labels else rows["num"][idx])
        mx = max_points[rows["_ind"][idx]]
        if rule.population:
            population = [rows[col][idx] for col in ("_ind", "year", "_src", "_rcode")]
            scored = vals.groupby(population, sort=False).transform(
                lambda s, r=rule, p=params, h=hib: r.score(s, 1.0, p, h)
            )
            points[idx] = scored.to_numpy(dtype=float) * mx
        else:
            points[idx] = rule.score(vals, pd.Series(mx), params, hib).to_numpy(dtype=float)
    return points


def _distinct_labels(rows: Columns, idx: np.ndarray, nodes: pd.DataFrame, enc: Encoded) -> tuple | None:
    """``(gid, first)`` over the distinct (node, label) of rows ``idx`` (see :func:`groups`),
    or None when some of them hold a number (items collapsed into a total) rather than a label."""
    vcode, ind = rows["_vcode"][idx], rows["_ind"][idx]
    if not ((vcode >= 0).all() and nodes["is_label"].to_numpy()[ind].all()):
        return None
    return groups(ind * (len(enc.uniques["value"]) + 1) + vcode)
