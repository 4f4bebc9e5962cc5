"""Observations × Framework → Results.

The pipeline, each step vectorised over all schools and years:

1. check the observations against the framework (every problem at once);
2. one scorable row per school × year × node × source × rater (items collapsed);
3. points per row by the node's rule (one call per distinct rule application);
4. raters → source (trimmed mean), sources → indicator (re-normalised weights), with the
   explanation sentence;
5. the full grid of schools × indicators, with the missing-data policy applied;
6. areas and base total by the framework's aggregation; bonus (item caps, overall cap);
7. vetoes, grades, quota, ranks;
8. rounding, once, to the framework's precision.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import evalkit
from evalkit.framework import Framework
from evalkit.observations import EncodedObservations, ObservationsError, encode_observations, fingerprint_codes
from evalkit.observations.codes import Encoded
from evalkit.results import Results
from evalkit.scoring.combine import combine_raters, combine_sources, rule_sentences
from evalkit.scoring.grading import apply_quota, apply_vetoes, grade_by_score, next_grade, ranks
from evalkit.scoring.nodes import node_table
from evalkit.scoring.pages import small_pages
from evalkit.scoring.pipeline import apply_pipelines
from evalkit.scoring.prepare import check, scorable_rows, score_rows
from evalkit.scoring.stages import stage_table
from evalkit.scoring.tree import aggregate_tree, rating_children, rating_memberships
from evalkit.textfmt import num_series, round_half_up

if TYPE_CHECKING:
    from evalkit.intake.gate import ValidatedObservations

SCHOOL_COLUMNS = ["school_id", "school_name", "school_type", "township"]


def score(
    observations: ValidatedObservations | pd.DataFrame,
    framework: Framework,
    registry: pd.DataFrame | None = None,
    *,
    years: list[int] | None = None,
    allow: Iterable[str] | None = None,
) -> Results:
    """Score every school and year in ``observations`` with ``framework``.

    ``observations``: what passed intake's gate (:class:`evalkit.intake.ValidatedObservations`);
    a DataFrame in the Observations contract is first validated through the same gate
    (:func:`evalkit.intake.validate_observations`, with ``allow``), which raises
    :class:`evalkit.intake.GateError` listing every problem. ``registry`` (see
    :mod:`evalkit.intake.registry`) gives names and types and the schools that must be scored (those
    active in a year); without it, the registry the observations were validated with, or the
    schools in the data. A school-year without any data (allowed as ``missing_schools``) is
    缺报: left out of the tables (not ranked, not graded) and listed in ``flags`` (kind
    ``missing_school``) and ``meta["missing_schools"]``. The input frame is not modified.
    Large arrays are made on ordinary pages (:func:`evalkit.scoring.pages.small_pages`).
    """
    with small_pages():
        return _score(observations, framework, registry, years=years, allow=allow)


def _score(
    observations: ValidatedObservations | pd.DataFrame,
    framework: Framework,
    registry: pd.DataFrame | None,
    *,
    years: list[int] | None,
    allow: Iterable[str] | None,
) -> Results:
    from evalkit.intake.gate import as_validated

    fw = framework
    validated = as_validated(observations, fw, registry, allow)
    registry = registry if registry is not None else validated.registry
    data = encode_observations(validated.frame, years=years)
    enc = data.enc
    nodes, rules = node_table(fw)
    parsed = check(data, fw, nodes, rules)  # an assertion: the gate has refused all of this
    decimals = fw.decimals("indicators")
    schools = _school_years(enc, registry, years)
    _check_schools(enc, schools, registry)
    schools, missing = _without_missing(enc, schools, validated, years)

    rows = scorable_rows(nodes, rules, enc, parsed)
    # what still needs the observations row by row, taken now: their codes (an int64 per row
    # and column) and parsed values are then let go before the largest tables are built
    marks, flagged = _rating_marks(data, fw), _flag_veto_rows(data, fw)
    data_fingerprint, n_observations = fingerprint_codes(enc.codes, enc.uniques), len(data)
    enc = Encoded(codes={}, uniques=enc.uniques)
    del data, parsed
    rows["points"] = score_rows(rows, nodes, rules, enc)
    rows["sentence"] = rule_sentences(rows, nodes, rules, decimals, enc)
    per_source = combine_raters(rows, nodes, fw.sources.trim, decimals)
    for done in ("_rcode", "_shared", "_source", "_text"):  # not read by combine_sources
        del rows[done]
    per_node = combine_sources(rows, per_source, nodes, fw, decimals, enc)
    del rows

    indicators, flags = _indicator_grid(per_node, schools, nodes, fw, enc)
    flags = pd.concat([flags, _missing_flags(missing)], ignore_index=True) if len(missing) else flags
    allowed_flags = validated.allowed_flags()  # values intake read against their column, allowed
    if years is not None:
        allowed_flags = allowed_flags[allowed_flags["year"].isin([int(y) for y in years])]
    flags = pd.concat([flags, allowed_flags], ignore_index=True) if len(allowed_flags) else flags
    indicators, flags, pipeline_meta, pipeline_stages = apply_pipelines(
        indicators, flags, fw, schools, decimals, registry
    )
    areas, base, node_points, node_weights = _areas(indicators, fw, marks)
    extra = {}
    if pipeline_meta:
        every_area = (node_points if node_points is not None else areas.rename(columns={"area_id": "node_id"}))
        extra["stages"] = stage_table(indicators, pipeline_stages, every_area, base, fw)
    bonus_detail, bonus_total = _bonus(per_node, nodes, fw)
    vetoes = _vetoes(flagged, indicators, fw)

    table = schools.merge(base, on=["school_id", "year"], how="left")
    table = table.merge(bonus_total, on=["school_id", "year"], how="left")
    table["bonus"] = table["bonus"].fillna(0.0)
    total_decimals = fw.decimals("total")
    table["base"] = round_half_up(table["base"], total_decimals)
    table["bonus"] = round_half_up(table["bonus"], total_decimals)
    table["total"] = round_half_up(table["base"] + table["bonus"], total_decimals)
    table = _grade(table, vetoes, fw)

    meta = {
        "framework_id": fw.id,
        "framework_name": fw.name,
        "framework_version": fw.version,
        "framework_fingerprint": fw.fingerprint,
        "data_fingerprint": data_fingerprint,
        "evalkit_version": evalkit.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "years": sorted(int(y) for y in table["year"].unique()),
        "precision": decimals,
        "n_observations": n_observations,
        "allowed": validated.allowed_counts(),
        "allow_requested": sorted(validated.kinds),
        "allowed_notes": validated.allowed_notes(),
        "missing_schools": missing.to_dict("records"),
    }
    if node_weights:
        meta["weights"] = node_weights
    if pipeline_meta:
        meta["pipeline"] = pipeline_meta
    if fw.display_precision is not None:
        meta["display_precision"] = {lv: fw.decimals(lv) for lv in ("indicators", "areas", "total")}
    area_decimals = fw.decimals("areas")
    results = Results(
        indicators=_round(indicators, ["points", "max_points"], decimals),
        areas=_round(areas, ["points", "max_points"], area_decimals),
        schools=table,
        bonus=_round(bonus_detail, ["points"], total_decimals),
        vetoes=vetoes,
        flags=flags,
        meta=meta,
        nodes=None if node_points is None else _round(node_points, ["points", "max_points"], area_decimals),
        extra=extra,
    )
    if registry is not None and registry.attrs.get("extra_columns"):  # 片区, 城乡…: they travel with the scores
        results.extra["registry"] = registry.reset_index(drop=True)
    return results


# ---------------------------------------------------------------------------------------------


def _observed_school_years(enc: Encoded, rows: np.ndarray | None = None) -> pd.DataFrame:
    """The distinct (school_id, year) pairs of the observations (of the rows where ``rows`` is
    true, when given), ordered by school code then year code: a presence table over the codes
    (one scatter, no sort or hash)."""
    present = _presence(enc, rows)
    n_years = len(enc.uniques["year"]) + 1
    pairs = np.flatnonzero(present)
    school, year = pairs // n_years - 1, pairs % n_years - 1
    return pd.DataFrame({
        "school_id": pd.Series(np.append(enc.uniques["school_id"], "")[school], dtype="str"),
        "year": np.append(enc.uniques["year"], 0).astype(np.int64)[year],
    })


def _presence(enc: Encoded, rows: np.ndarray | None = None) -> np.ndarray:
    """``present[(school code + 1) × (n_years + 1) + year code + 1]``: whether that school-year
    has an observation (among ``rows``)."""
    school, year = enc.codes["school_id"], enc.codes["year"]
    if rows is not None:
        school, year = school[rows], year[rows]
    n_years = len(enc.uniques["year"]) + 1
    present = np.zeros((len(enc.uniques["school_id"]) + 1) * n_years, dtype=bool)
    present[(school + 1) * n_years + year + 1] = True
    return present


def _school_years(enc: Encoded, registry: pd.DataFrame | None, years: list[int] | None) -> pd.DataFrame:
    """Every school × year to be scored, with name, type and township."""
    year_list = sorted(years) if years is not None else sorted(int(y) for y in enc.uniques["year"])
    if registry is None:
        pairs = _observed_school_years(enc)
        pairs = pairs.assign(school_name=pairs["school_id"], school_type="", township="")
        return pairs.sort_values(["year", "school_id"]).reset_index(drop=True)
    reg = registry.copy()
    for col in SCHOOL_COLUMNS:
        if col not in reg.columns:
            reg[col] = reg["school_id"] if col == "school_name" else ""
    reg["school_id"] = reg["school_id"].astype(str)
    frames = []
    for year in year_list:
        active = pd.Series(True, index=reg.index)
        if "active_from" in reg.columns:
            active &= pd.to_numeric(reg["active_from"], errors="coerce").astype(float).fillna(-np.inf) <= year
        if "active_to" in reg.columns:
            active &= pd.to_numeric(reg["active_to"], errors="coerce").astype(float).fillna(np.inf) >= year
        frames.append(reg.loc[active, SCHOOL_COLUMNS].assign(year=year))
    out = pd.concat(frames, ignore_index=True)[["school_id", "year", *SCHOOL_COLUMNS[1:]]]
    return out.astype({"school_name": object, "school_type": object, "township": object})


def _without_missing(
    enc: Encoded, schools: pd.DataFrame, validated: ValidatedObservations, years: list[int] | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``schools`` without the school-years that have no value at all (缺报), and those
    (school_id, school_name, year). Each must have been allowed at the gate
    (``missing_schools``); anything else is a defect (the gate refuses it)."""
    present = _presence(enc, enc.codes["value"] >= 0)
    n_years = len(enc.uniques["year"]) + 1
    school = pd.Index(enc.uniques["school_id"]).get_indexer(schools["school_id"].astype(str))
    year = pd.Index(enc.uniques["year"].astype(np.int64)).get_indexer(schools["year"].astype(np.int64))
    absent = (school < 0) | (year < 0) | ~present[(school + 1) * n_years + year + 1]
    unexpected = [
        (s, y)
        for s, y in zip(schools["school_id"].astype(str)[absent], schools["year"].astype(int)[absent], strict=True)
        if (s, y) not in validated.missing
    ]
    if unexpected:
        raise ObservationsError(
            [f"学校 {s} {y} 年没有任何数据，且未允许缺报（missing_schools）/ no data" for s, y in unexpected]
        )
    listed = [(s, y, name) for (s, y), name in validated.missing.items() if years is None or y in years]
    names = {}
    if listed:
        names = dict(zip(schools["school_id"].astype(str), schools["school_name"].astype(str), strict=True))
    missing = pd.DataFrame(
        [{"school_id": s, "school_name": names.get(s, name), "year": int(y)} for s, y, name in sorted(listed)],
        columns=["school_id", "school_name", "year"],
    )
    return schools[~absent].reset_index(drop=True), missing


def _missing_flags(missing: pd.DataFrame) -> pd.DataFrame:
    """One ``flags`` row per 缺报 school-year."""
    return pd.DataFrame({
        "school_id": missing["school_id"],
        "year": missing["year"],
        "indicator_id": "",
        "indicator_name": "",
        "kind": "missing_school",
        "message": missing["school_name"] + " " + missing["year"].astype(str)
        + " 年没有任何数据，按缺报处理：不评分、不排名、不评等次（已允许 missing_schools）",
    })


def _check_schools(enc: Encoded, schools: pd.DataFrame, registry: pd.DataFrame | None) -> None:
    if registry is None:
        return
    known = set(zip(schools["school_id"], schools["year"], strict=True))
    pairs = _observed_school_years(enc)
    unknown = [f"学校 {s}（{y} 年）不在学校名册中或当年不参评 / school not in the registry"
               for s, y in zip(pairs["school_id"], pairs["year"], strict=True) if (s, y) not in known]
    if unknown:
        raise ObservationsError(unknown)


def _indicator_grid(per_node: pd.DataFrame, schools: pd.DataFrame, nodes: pd.DataFrame, fw: Framework, enc: Encoded):  # type: ignore[no-untyped-def]
    """Every school × year × indicator (ordered by year, school, framework order), with the
    missing-data policy applied. Built positionally: row ``s × n_indicators + i`` is
    school-year ``s`` and indicator ``i``; each column is gathered from the scored rows by their codes."""
    ind = nodes[nodes["kind"] == "indicator"].sort_values("order")
    sy = schools[["school_id", "year"]].sort_values(["year", "school_id"]).reset_index(drop=True)
    n_sy, n_ind = len(sy), len(ind)
    # school-year position of each scored row: (school code, year) → row of ``sy``
    year_values = np.unique(np.r_[sy["year"].to_numpy(), per_node["year"].to_numpy()])
    n_years = len(year_values)
    sy_code = pd.Index(enc.uniques["school_id"]).get_indexer(sy["school_id"])
    sy_key = np.where(sy_code >= 0, sy_code * n_years + np.searchsorted(year_values, sy["year"].to_numpy()), -1)
    position = np.full((len(enc.uniques["school_id"]) + 1) * n_years, -1)
    position[sy_key[sy_key >= 0]] = np.flatnonzero(sy_key >= 0)
    sy_pos = position[per_node["_sch"].to_numpy() * n_years + np.searchsorted(year_values, per_node["year"].to_numpy())]
    ind_pos = np.full(len(nodes), -1)
    ind_pos[nodes.index.get_indexer(ind.index)] = np.arange(n_ind)
    ind_pos = ind_pos[per_node["_ind"].to_numpy()]
    hit = np.flatnonzero((sy_pos >= 0) & (ind_pos >= 0))
    # source[g] = the row of ``per_node`` scored into grid cell g (or -1): each column is then
    # one gather (no fill-then-scatter of every column, no filtered copy of ``per_node``)
    source = np.full(n_sy * n_ind, -1, dtype=np.int64)
    source[sy_pos[hit] * n_ind + ind_pos[hit]] = hit
    scored_at = source >= 0
    take = np.where(scored_at, source, 0)

    def gathered(col: str, empty: object) -> np.ndarray:
        values = per_node[col].to_numpy()
        out = values[take] if len(values) else np.empty(n_sy * n_ind, dtype=values.dtype)
        out[~scored_at] = empty
        return out

    area_names = {a.id: a.name for a in fw.areas}
    grid = pd.DataFrame({
        "school_id": pd.Series(np.repeat(sy["school_id"].to_numpy(dtype=object), n_ind), dtype=object),
        "year": np.repeat(sy["year"].to_numpy(), n_ind),
        "area_id": pd.Series(np.tile(ind["area_id"].to_numpy(dtype=object), n_sy), dtype=object),
        "area_name": pd.Series(np.tile(ind["area_id"].map(area_names).to_numpy(dtype=object), n_sy), dtype=object),
        "indicator_id": pd.Series(np.tile(ind.index.to_numpy(dtype=object), n_sy), dtype=object),
        "indicator_name": pd.Series(np.tile(ind["name"].to_numpy(dtype=object), n_sy), dtype=object),
        "max_points": np.tile(ind["max_points"].to_numpy(dtype=float), n_sy),
    })
    points = gathered("points", np.nan).astype(float, copy=False)
    n_obs = gathered("n_obs", 0).astype(int, copy=False)
    text_cols = {
        col: gathered(col, empty).astype(object, copy=False)
        for col, empty in (("value_text", "—"), ("explanation", None), ("evidence", ""), ("value_label", ""),
                           ("public_value_text", "—"), ("public_explanation", None))
    }
    num = gathered("num", np.nan).astype(float, copy=False)
    is_label = np.tile(ind["is_label"].to_numpy(), n_sy)

    policy = np.tile(ind["missing"].to_numpy(dtype=object), n_sy)
    missing = np.isnan(points)
    errors = np.flatnonzero(missing & (policy == "error"))
    if errors.size:
        g = grid.iloc[errors]
        raise ObservationsError(
            [f"学校 {r.school_id} {r.year} 年缺少指标 {r.indicator_id} {r.indicator_name} 的数据"
             "（该指标不允许缺失）/ required"
             for r in g.itertuples()]
        )
    zero = missing & (policy == "zero_flag")
    rew = missing & (policy == "reweight")
    points[zero] = 0.0
    names = grid["indicator_name"].to_numpy()
    max_text = np.tile(num_series(ind["max_points"]).to_numpy(dtype=object), n_sy)
    expl = text_cols["explanation"]
    expl[zero] = names[zero] + "：未提供数据，按 0 分计（满分 " + max_text[zero] + " 分）"
    expl[rew] = names[rew] + "：未提供数据，不计分，所在领域其余指标按比例折算"
    public = text_cols["public_explanation"]
    public[missing] = expl[missing]

    grid["value"] = np.where(is_label, np.nan, num)
    grid["value_label"] = pd.Series(text_cols["value_label"], dtype=object)
    grid["value_text"] = pd.Series(text_cols["value_text"], dtype=object)
    grid["points"] = points
    grid["share"] = points / np.where(grid["max_points"] > 0, grid["max_points"], np.nan)
    grid["missing"] = missing
    grid["explanation"] = pd.Series(expl, dtype=object)
    grid["evidence"] = pd.Series(text_cols["evidence"], dtype=object)
    grid["n_obs"] = n_obs
    # for reports sent to schools: several raters' individual marks left out (see scoring.combine)
    grid["public_value_text"] = pd.Series(text_cols["public_value_text"], dtype=object)
    grid["public_explanation"] = pd.Series(public, dtype=object)
    flags = grid.loc[missing, ["school_id", "year", "indicator_id", "indicator_name"]].assign(
        kind=np.where(zero[missing], "missing_zero", "missing_reweight"),
        message=np.where(zero[missing], "缺少数据，按 0 分计", "缺少数据，所在领域按比例折算"),
    )
    return grid, flags.reset_index(drop=True)


def _rating_marks(data: EncodedObservations, fw: Framework) -> pd.DataFrame | None:
    """The raters' marks of rating indicators under fuzzy nodes with ``membership: ratings``."""
    wanted = rating_children(fw)
    if not wanted:
        return None
    return data.rows(np.flatnonzero(data.enc.per_row("indicator_id", dict.fromkeys(wanted, True), False, dtype=bool)))


def _areas(
    indicators: pd.DataFrame, fw: Framework, marks: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, dict]:
    """Area points per school × year (long, top-level areas), the base total (wide), every
    area at every depth (long, with level and parent; fuzzy labels; only for frameworks with
    sub-areas or fuzzy nodes, else None), and the weights used, all
    unrounded (:func:`evalkit.scoring.tree.aggregate_tree`).

    ``indicators`` is the positional grid of :func:`_indicator_grid` (each school-year's
    indicators in framework order), so the wide table of points is a reshape."""
    ids = [i.id for i in fw.indicators]
    n_ind = len(ids)
    firsts = indicators.iloc[::n_ind]
    sy = pd.DataFrame({"school_id": firsts["school_id"].to_numpy(dtype=object), "year": firsts["year"].to_numpy()})
    wide = pd.DataFrame(indicators["points"].to_numpy(dtype=float).reshape(-1, n_ind), columns=ids)
    maxima = pd.Series(indicators["max_points"].to_numpy(dtype=float)[:n_ind], index=ids)
    memberships = rating_memberships(marks, fw, sy) if marks is not None else None
    tree = aggregate_tree(wide, maxima, fw, sy["year"].to_numpy(), memberships=memberships)
    area_wide = pd.DataFrame({a.id: tree.areas[a.id] for a in fw.areas})
    area_max = pd.Series({a.id: a.points for a in fw.areas})
    n_areas = len(fw.areas)
    long = pd.DataFrame({
        "school_id": pd.Series(np.repeat(sy["school_id"].to_numpy(), n_areas), dtype="str"),
        "year": np.repeat(sy["year"].to_numpy(), n_areas),
        "area_id": pd.Series(np.tile(area_max.index.to_numpy(dtype=object), len(sy)), dtype="str"),
        "area_name": pd.Series(np.tile(np.array([a.name for a in fw.areas], dtype=object), len(sy)), dtype="str"),
        "points": np.nan_to_num(area_wide.to_numpy(dtype=float).ravel(), nan=0.0),
        "max_points": np.tile(area_max.to_numpy(dtype=float), len(sy)),
    })
    long["share"] = long["points"] / long["max_points"]
    deep = fw.depth > 1 or any(a.aggregate.method == "fuzzy" for _, a, _, _ in fw.iter_areas())
    nodes = _node_table(tree, sy, fw) if deep else None
    return long, sy.assign(base=tree.base.to_numpy()), nodes, tree.meta


def _node_table(tree, sy: pd.DataFrame, fw: Framework) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every area at every depth per school-year: ``node_id, node_name, level (1 = top),
    parent_id, points, max_points, share, label`` (the fuzzy grade, '' otherwise)."""
    frames = []
    for _, area, depth, parent in fw.iter_areas():
        label = tree.labels.get(area.id)
        frames.append(pd.DataFrame({
            "school_id": sy["school_id"].to_numpy(dtype=object), "year": sy["year"].to_numpy(),
            "node_id": area.id, "node_name": area.name, "level": depth, "parent_id": parent,
            "points": np.nan_to_num(tree.areas[area.id].to_numpy(dtype=float), nan=0.0),
            "max_points": float(area.points),
            "label": label.to_numpy(dtype=object) if label is not None else "",
        }))
    out = pd.concat(frames, ignore_index=True).sort_values(["year", "school_id"], kind="stable")
    out["share"] = out["points"] / out["max_points"].replace(0, np.nan)
    return out.reset_index(drop=True)


def _bonus(per_node: pd.DataFrame, nodes: pd.DataFrame, fw: Framework) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bonus items (each already capped at its cap by its rule) and the capped total."""
    is_bonus = (nodes["kind"] == "bonus").to_numpy()[per_node["_ind"].to_numpy()]
    detail = per_node[is_bonus].rename(columns={"indicator_id": "item_id", "num": "value"})
    detail["item_name"] = detail["item_id"].map(nodes["name"])
    detail = detail[["school_id", "year", "item_id", "item_name", "value", "value_label",
                     "value_text", "points", "explanation", "evidence"]]
    total = detail.groupby(["school_id", "year"], as_index=False)["points"].sum()
    total["bonus"] = total["points"].clip(upper=fw.bonus.cap)
    return detail.reset_index(drop=True), total[["school_id", "year", "bonus"]]


def _flag_veto_rows(data: EncodedObservations, fw: Framework) -> pd.DataFrame:
    """The observations of flag vetoes (vetoes without a trigger indicator)."""
    flag_ids = {v.id for v in fw.vetoes if v.trigger.indicator is None}
    is_flag = data.enc.per_row("indicator_id", dict.fromkeys(flag_ids, True), False, dtype=bool)
    return data.rows(np.flatnonzero(is_flag))


def _vetoes(flagged: pd.DataFrame, indicators: pd.DataFrame, fw: Framework) -> pd.DataFrame:
    """Triggered vetoes: a flag veto when any of its observations (``flagged``,
    :func:`_flag_veto_rows`) is yes (≥ 0.5); a threshold veto when the indicator's combined
    value is below / above its threshold. ``indicators`` is the positional grid of
    :func:`_indicator_grid`: an indicator's rows are every ``n_indicators``-th row."""
    frames = []
    ids = [i.id for i in fw.indicators]
    if not flagged.empty:
        yes = pd.to_numeric(flagged["value"], errors="coerce") >= 0.5
        hit = flagged[yes].groupby(["school_id", "year", "indicator_id"], as_index=False).agg(
            evidence=("evidence", lambda s: "；".join(dict.fromkeys(x for x in s if x)))
        )
        frames.append(hit.rename(columns={"indicator_id": "veto_id"}))
    for v in fw.vetoes:
        t = v.trigger
        if t.indicator is None:
            continue
        if t.indicator in ids:
            rows = indicators.iloc[ids.index(t.indicator)::len(ids)]
        else:
            rows = indicators[indicators["indicator_id"] == t.indicator]
        value = pd.to_numeric(rows["value"], errors="coerce")
        hit = value < t.below if t.below is not None else value > t.above
        sel = rows[hit.fillna(False)]
        bound = f"低于 {t.below:g}" if t.below is not None else f"高于 {t.above:g}"
        frames.append(
            pd.DataFrame({
                "school_id": sel["school_id"], "year": sel["year"], "veto_id": v.id,
                "evidence": sel["indicator_name"] + " " + sel["value_text"] + "，" + bound,
            })
        )
    cols = ["school_id", "year", "veto_id", "veto_name", "grade", "evidence"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    names = {v.id: v.name for v in fw.vetoes}
    grades = {v.id: v.grade for v in fw.vetoes}
    out["veto_name"] = out["veto_id"].map(names)
    out["grade"] = out["veto_id"].map(grades)
    return out[cols].sort_values(["year", "school_id", "veto_id"]).reset_index(drop=True)


def _grade(table: pd.DataFrame, vetoes: pd.DataFrame, fw: Framework) -> pd.DataFrame:
    table["grade_by_score"] = grade_by_score(table["total"], fw)
    order = {g: i for i, g in enumerate(fw.grade_order)}
    if vetoes.empty:
        worst = pd.DataFrame(columns=["school_id", "year", "veto_grade", "veto_ids"])
    else:
        v = vetoes.assign(rank=vetoes["grade"].map(order))
        worst = v.sort_values("rank").groupby(["school_id", "year"], as_index=False).agg(
            veto_grade=("grade", "last"), veto_ids=("veto_id", lambda s: "、".join(sorted(s)))
        )
    table = table.merge(worst, on=["school_id", "year"], how="left")
    table["veto"] = table["veto_grade"].notna()
    table["veto_ids"] = table["veto_ids"].fillna("").astype(object)
    table["grade"] = apply_vetoes(table["grade_by_score"], table["veto_grade"], fw)
    demoted = apply_quota(table, fw)
    table["quota_demoted"] = demoted
    table.loc[demoted, "grade"] = next_grade(table.loc[demoted, "grade"], fw)
    table = table.drop(columns="veto_grade")
    table = pd.concat([table, ranks(table)], axis=1)
    table = table.sort_values(["year", "rank", "school_id"]).reset_index(drop=True)
    cols = ["school_id", "year", "school_name", "school_type", "township", "base", "bonus", "total",
            "grade_by_score", "veto", "veto_ids", "grade", "quota_demoted", "rank", "rank_in_type",
            "n_in_type", "n_schools"]
    return table[cols]


def _round(frame: pd.DataFrame, columns: list[str], decimals: int) -> pd.DataFrame:
    out = frame.copy(deep=False)  # copy-on-write: the columns set below never reach ``frame``
    for col in columns:
        out[col] = round_half_up(out[col].astype(float), decimals)
    if "share" in out.columns:
        out["share"] = out["points"] / out["max_points"].replace(0, np.nan)
    return out
