"""Indicators with a ``pipeline`` (COINr-style data steps, :mod:`evalkit.mcda.treat`): their
points are recomputed per year from the combined values of every school, after the rules and
the missing-data policy have run, in COINr's order:

1. ``denominate`` by a registry column (``pupils`` …) or another indicator's value, times
   ``per`` (``per × x ÷ d``); a missing or zero denominator where the indicator has a value is
   refused, naming school, year, indicator and column;
2. ``impute`` missing values by the mean / median of their group (``impute_by``, a column of the
   school registry such as ``school_type``, or any extra column it has, such as 片区) or of the
   county;
3. ``treat`` outliers exactly as COINr's ``Treat`` (winsorise while ``|skew| ≥ skew_max`` and
   ``kurtosis ≥ kurt_max``, up to ``winmax`` distinct points, else ``log_CT`` of the original
   values);
4. ``normalise`` over the year's (treated) values, optionally within ``normalise_by`` groups,
   or against fixed ``goalposts`` (values beyond a goalpost score as the goalpost);
5. ``points = max_points × normalised value``.

Each step's parameters and effect go to ``Results.meta["pipeline"][indicator][year]``, each
school's sentence says what was done to its value (one Chinese clause per step), and the value
after each step goes to the stage tables (:mod:`evalkit.scoring.stages`). Imputed values are
flagged ``imputed`` instead of ``missing_*``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalkit.framework import Framework
from evalkit.framework.model import Denominate
from evalkit.intake.registry import CHINESE_HEADERS
from evalkit.mcda import treat
from evalkit.observations import ObservationsError
from evalkit.scoring.combine import got_series
from evalkit.textfmt import num_series


def apply_pipelines(
    grid: pd.DataFrame, flags: pd.DataFrame, fw: Framework, schools: pd.DataFrame, decimals: int,
    registry: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """``(grid, flags, meta, stages)`` with the pipeline indicators re-scored (the others
    untouched); ``stages``: ``school_id, year, indicator_id, stage, value`` — each pipeline
    indicator's value after each step (:data:`STEP_STAGES`)."""
    todo = [ind for ind in fw.indicators if ind.pipeline is not None]
    if not todo:
        return grid, flags, {}, pd.DataFrame(columns=["school_id", "year", "indicator_id", "stage", "value"])
    _check_denominators(grid, fw, todo, schools, registry)
    grid = grid.copy()
    info = _with_registry_columns(schools, registry, {c for ind in todo for c in (ind.pipeline.impute_by,
                                                                                 ind.pipeline.normalise_by) if c})
    meta: dict[str, Any] = {}
    stage_frames: list[pd.DataFrame] = []
    imputed_keys: list[tuple[str, int, str]] = []
    for ind in todo:
        spec = ind.pipeline
        assert spec is not None
        at = np.flatnonzero((grid["indicator_id"] == ind.id).to_numpy())
        rows = grid.iloc[at]
        keys = pd.MultiIndex.from_arrays([rows["school_id"], rows["year"]])
        denominators = _denominators(grid, spec.denominate, rows, registry) if spec.denominate else None
        unit = ind.unit if spec.denominate is None else ""
        den_label = _denominator_label(spec.denominate, fw) if spec.denominate else ""

        impute_groups = _groups(info, spec.impute_by, keys, rows.index, ind.id)
        norm_groups = _groups(info, spec.normalise_by, keys, rows.index, ind.id)
        per_year: dict[str, list[dict]] = {}
        notes = pd.Series("", index=rows.index, dtype=object)
        new_points = pd.Series(np.nan, index=rows.index)
        stage_values: dict[str, pd.Series] = {s: pd.Series(np.nan, index=rows.index) for s in STEP_STAGES}
        for year in sorted(rows["year"].unique()):
            in_year = rows["year"] == year
            x = rows.loc[in_year, "value"].astype(float)
            stage_values["raw"][x.index] = x
            records = []
            if spec.denominate is not None and denominators is not None:
                per = spec.denominate.per
                d = denominators[in_year]
                x, rec = treat.denominate(x, d, per)
                records.append(rec)
                times = f"、乘以 {per:g}" if per != 1 else ""
                for k, (_, after) in rec.changed.items():
                    notes[k] += f"除以{den_label} {d[k]:g}{times} 得 {after:.4g}；"
                for k in x.index[d.isna() & rows.loc[in_year, "value"].notna()]:
                    notes[k] += f"{den_label}缺失，比值按缺失值处理；"
            stage_values["denominated"][x.index] = x
            if spec.impute != "none":
                g = impute_groups[in_year] if impute_groups is not None else None
                x, rec = treat.impute_by_group(x, g, spec.impute)
                records.append(rec)
                for k, (_, after) in rec.changed.items():
                    notes[k] += f"未提供数据，按{'同类学校' if g is not None else '全县'}" \
                                f"{'均值' if spec.impute == 'mean' else '中位数'} {after:.4g}{unit} 插补；"
                    imputed_keys.append((rows.at[k, "school_id"], int(year), ind.id))
            stage_values["imputed"][x.index] = x
            if spec.treat:
                x, rec = treat.treat_outliers(
                    x, winmax=spec.winmax, skew_max=spec.skew_max, kurt_max=spec.kurt_max,
                    log_fallback=spec.log_fallback,
                )
                records.append(rec)
                if rec.method == "winsorise":
                    for k, (before, after) in rec.changed.items():
                        notes[k] += f"极端值 {before:.4g}{unit} 缩尾为 {after:.4g}{unit}；"
                elif rec.method == "log":
                    notes[x.index] += "偏度、峰度超标，取对数后标准化；"
            stage_values["treated"][x.index] = x
            g = norm_groups[in_year] if norm_groups is not None else None
            posts = (spec.goalposts.lower, spec.goalposts.upper, spec.goalposts.log) if spec.goalposts else None
            normalised, rec = treat.normalise(x, spec.normalise, groups=g, higher_is_better=ind.higher_is_better,
                                              goalposts=posts)
            records.append(rec)
            if posts is not None:
                lo, hi, _ = posts
                for k in x.index[x > hi]:
                    notes[k] += f"高于上限 {hi:g}{unit}，按上限计；"
                for k in x.index[x < lo]:
                    notes[k] += f"低于下限 {lo:g}{unit}，按下限计；"
            stage_values["normalised"][x.index] = normalised
            new_points[x.index] = ind.max_points * normalised
            per_year[str(int(year))] = [r.to_meta() | {"changed": _changed_json(r, rows)} for r in records]
        meta[ind.id] = {"params": spec.model_dump(mode="json"), "by_year": per_year}
        for stage, values in stage_values.items():
            stage_frames.append(pd.DataFrame({
                "school_id": rows["school_id"].to_numpy(dtype=object), "year": rows["year"].to_numpy(),
                "indicator_id": ind.id, "stage": stage, "value": values.to_numpy(dtype=float),
            }))

        ok = new_points.notna()
        pos = at[ok.to_numpy()]
        pts = new_points[ok]
        grid.loc[grid.index[pos], "points"] = pts.to_numpy()
        grid.loc[grid.index[pos], "share"] = (pts / ind.max_points if ind.max_points > 0 else pts * np.nan).to_numpy()
        method_text = {"minmax": "按当年各校数据最小—最大值标准化", "zscore": "按当年各校标准分标准化",
                       "rank": "按当年各校排名标准化"}.get(spec.normalise) or _goalpost_text(spec)
        by = "（分类型）" if spec.normalise_by else ""
        value_text = rows.loc[ok, "value_text"].astype(str).where(~rows.loc[ok, "missing"], "无数据")
        got = got_series(pts, pd.Series(ind.max_points, index=pts.index), decimals)
        grid.loc[grid.index[pos], "explanation"] = (
            ind.name + " " + value_text + "：" + notes[ok] + method_text + by + "为 "
            + num_series(pts / ind.max_points if ind.max_points > 0 else pts, 3) + "，" + got
        ).to_numpy()

    if imputed_keys:
        imp = pd.DataFrame(imputed_keys, columns=["school_id", "year", "indicator_id"])
        key = ["school_id", "year", "indicator_id"]
        merged = flags.merge(imp.assign(_imp=True), on=key, how="left")
        flags = merged[merged["_imp"].isna()].drop(columns="_imp")
        names = {i.id: i.name for i in fw.indicators}
        added = imp.assign(
            indicator_name=imp["indicator_id"].map(names), kind="imputed", message="缺少数据，已按数据处理步骤插补"
        )
        flags = pd.concat([flags, added[flags.columns]], ignore_index=True)
    return grid, flags.reset_index(drop=True), meta, pd.concat(stage_frames, ignore_index=True)


STEP_STAGES = ("raw", "denominated", "imputed", "treated", "normalised")
"""The value of a pipeline indicator after each step (a step not asked for carries the value)."""


def _goalpost_text(spec) -> str:  # type: ignore[no-untyped-def]
    """The sentence's clause for ``normalise: goalposts``: 按固定上下限 20—85 标准化 (对数尺度)."""
    gp = spec.goalposts
    return f"按固定上下限 {gp.lower:g}—{gp.upper:g}{'（对数尺度）' if gp.log else ' '}标准化"


def _registry_column(registry: pd.DataFrame | None, column: str) -> str | None:
    """The registry's column named ``column`` (or its Chinese header), None when absent."""
    if registry is None:
        return None
    if column in registry.columns:
        return column
    english = {zh: en for en, zh in CHINESE_HEADERS.items()}.get(column)
    return english if english is not None and english in registry.columns else None


def _denominator_label(den: Denominate, fw: Framework) -> str:
    """How the sentence names the denominator: the registry column's Chinese header, or the
    indicator's name."""
    if den.indicator is not None:
        return fw.indicator(den.indicator).name
    column = den.column or ""
    return CHINESE_HEADERS.get(column, column)


def _denominators(
    grid: pd.DataFrame, den: Denominate, rows: pd.DataFrame, registry: pd.DataFrame | None
) -> pd.Series:
    """Each row's denominator: the registry column of its school, or the other indicator's
    combined value in the same school-year (NaN when absent)."""
    if den.indicator is not None:
        other = grid[grid["indicator_id"] == den.indicator]
        lookup = pd.Series(other["value"].to_numpy(dtype=float),
                           index=pd.MultiIndex.from_arrays([other["school_id"], other["year"]]))
        keys = pd.MultiIndex.from_arrays([rows["school_id"], rows["year"]])
        return pd.Series(lookup.reindex(keys).to_numpy(dtype=float), index=rows.index)
    column = _registry_column(registry, den.column or "")
    if column is None or registry is None:
        return pd.Series(np.nan, index=rows.index)
    reg = registry.assign(_sid=registry["school_id"].astype(str)).drop_duplicates("_sid").set_index("_sid")
    values = pd.to_numeric(reg[column], errors="coerce").astype(float)
    return pd.Series(values.reindex(rows["school_id"].astype(str)).to_numpy(dtype=float), index=rows.index)


def _check_denominators(
    grid: pd.DataFrame, fw: Framework, todo: list, schools: pd.DataFrame, registry: pd.DataFrame | None
) -> None:
    """Refuse, all at once, every school-year whose indicator has a value but whose denominator
    is missing or zero, naming school, year, indicator and column (the registry having no such
    column at all is said once per indicator)."""
    problems: list[str] = []
    names = dict(zip(schools["school_id"].astype(str), schools["school_name"].astype(str), strict=False))
    for ind in todo:
        den = ind.pipeline.denominate
        if den is None:
            continue
        if den.column is not None and _registry_column(registry, den.column) is None:
            problems.append(
                f"指标 {ind.id}（{ind.name}）按学校名册的“{den.column}”列折算，但学校名册没有该列 / "
                "the registry has no such column"
            )
            continue
        rows = grid[grid["indicator_id"] == ind.id]
        d = _denominators(grid, den, rows, registry)
        has_value = rows["value"].notna().to_numpy()
        where = f"学校名册“{_denominator_label(den, fw)}”列（{den.column}）" if den.column is not None \
            else f"指标 {den.indicator}（{_denominator_label(den, fw)}）"
        for r, dv, hv in zip(rows.itertuples(), d.to_numpy(), has_value, strict=True):
            if not hv:
                continue
            if (np.isnan(dv) and den.missing == "error") or dv == 0:
                what = "缺失" if np.isnan(dv) else "为 0"
                school = f"{r.school_id}（{names.get(str(r.school_id), r.school_id)}）"
                problems.append(
                    f"学校 {school} {r.year} 年指标 {ind.id}（{ind.name}）的分母{what}：{where}，无法折算 / "
                    f"{'missing' if np.isnan(dv) else 'zero'} denominator"
                )
    if problems:
        raise ObservationsError(problems)


def _with_registry_columns(schools: pd.DataFrame, registry: pd.DataFrame | None, wanted: set[str]) -> pd.DataFrame:
    """``schools`` indexed by (school_id, year), with the ``wanted`` registry columns it lacks
    (an extra column of the registry such as 片区, see :mod:`evalkit.intake.registry`)."""
    info = schools.set_index(["school_id", "year"])
    if registry is None:
        return info
    reg = registry.assign(school_id=registry["school_id"].astype(str)).drop_duplicates("school_id")
    reg = reg.set_index("school_id")
    for column in sorted(wanted - set(info.columns)):
        if column in reg.columns:
            info[column] = info.index.get_level_values("school_id").map(reg[column]).to_numpy(dtype=object)
    return info


def _groups(
    info: pd.DataFrame, column: str | None, keys: pd.MultiIndex, index: pd.Index, indicator_id: str
) -> pd.Series | None:
    """Each row's group (a column of the school registry), or None for the whole county."""
    if column is None:
        return None
    if column not in info.columns:
        raise ValueError(f"指标 {indicator_id} 的数据处理步骤按“{column}”分组，但学校名册没有该列"
                         f"（名册的列：{'、'.join(str(c) for c in info.columns)}）")
    return pd.Series(info[column].reindex(keys).to_numpy(dtype=object), index=index).fillna("")


def _changed_json(rec: treat.StepRecord, rows: pd.DataFrame) -> list[dict]:
    return [
        {"school_id": str(rows.at[k, "school_id"]), "before": None if np.isnan(b) else b, "after": a}
        for k, (b, a) in rec.changed.items()
    ]
