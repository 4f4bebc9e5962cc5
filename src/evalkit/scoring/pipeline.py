"""Indicators with a ``pipeline`` (COINr-style data steps, :mod:`evalkit.mcda.treat`): their
points are recomputed per year from the combined values of every school, after the rules and
the missing-data policy have run:

1. ``impute`` missing values by the mean / median of their group (``impute_by``, a column of the
   school registry such as ``school_type``, or any extra column it has, such as 片区) or of the
   county;
2. ``treat`` outliers: winsorise while ``|skew| ≥ skew_max`` and ``kurtosis ≥ kurt_max``, up to
   ``winmax`` points, else log-transform;
3. ``normalise`` over the year's (treated) values, optionally within ``normalise_by`` groups;
4. ``points = max_points × normalised value``.

Each step's parameters and effect go to ``Results.meta["pipeline"][indicator][year]``, and each
school's sentence says what was done to its value. Imputed values are flagged ``imputed``
instead of ``missing_*``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalkit.framework import Framework
from evalkit.mcda import treat
from evalkit.scoring.combine import got_series
from evalkit.textfmt import num_series


def apply_pipelines(
    grid: pd.DataFrame,
    flags: pd.DataFrame,
    fw: Framework,
    schools: pd.DataFrame,
    decimals: int,
    registry: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """``(grid, flags, meta)`` with the pipeline indicators re-scored (the others untouched).
    ``registry``: where a group column that ``schools`` lacks is looked up (an extra column
    of the registry such as 片区, see :mod:`evalkit.intake.registry`)."""
    todo = [ind for ind in fw.indicators if ind.pipeline is not None]
    if not todo:
        return grid, flags, {}
    grid = grid.copy()
    info = _with_registry_columns(schools, registry, {c for ind in todo for c in (ind.pipeline.impute_by,
                                                                                 ind.pipeline.normalise_by) if c})
    meta: dict[str, Any] = {}
    imputed_keys: list[tuple[str, int, str]] = []
    for ind in todo:
        spec = ind.pipeline
        assert spec is not None
        at = np.flatnonzero((grid["indicator_id"] == ind.id).to_numpy())
        rows = grid.iloc[at]
        keys = pd.MultiIndex.from_arrays([rows["school_id"], rows["year"]])

        impute_groups = _groups(info, spec.impute_by, keys, rows.index, ind.id)
        norm_groups = _groups(info, spec.normalise_by, keys, rows.index, ind.id)
        per_year: dict[str, list[dict]] = {}
        notes = pd.Series("", index=rows.index, dtype=object)
        new_points = pd.Series(np.nan, index=rows.index)
        for year in sorted(rows["year"].unique()):
            in_year = rows["year"] == year
            x = rows.loc[in_year, "value"].astype(float)
            records = []
            if spec.impute != "none":
                g = impute_groups[in_year] if impute_groups is not None else None
                x, rec = treat.impute_by_group(x, g, spec.impute)
                records.append(rec)
                for k, (_, after) in rec.changed.items():
                    notes[k] += f"未提供数据，按{'同类学校' if g is not None else '全县'}" \
                                f"{'均值' if spec.impute == 'mean' else '中位数'} {after:.4g}{ind.unit} 插补；"
                    imputed_keys.append((rows.at[k, "school_id"], int(year), ind.id))
            if spec.treat:
                x, rec = treat.treat_outliers(
                    x, winmax=spec.winmax, skew_max=spec.skew_max, kurt_max=spec.kurt_max,
                    log_fallback=spec.log_fallback,
                )
                records.append(rec)
                if rec.method == "winsorise":
                    for k, (before, after) in rec.changed.items():
                        notes[k] += f"极端值 {before:.4g}{ind.unit} 缩尾为 {after:.4g}{ind.unit}；"
                elif rec.method == "log":
                    notes[x.index] += "偏度、峰度超标，取对数后标准化；"
            g = norm_groups[in_year] if norm_groups is not None else None
            normalised, rec = treat.normalise(x, spec.normalise, groups=g, higher_is_better=ind.higher_is_better)
            records.append(rec)
            new_points[x.index] = ind.max_points * normalised
            per_year[str(int(year))] = [r.to_meta() | {"changed": _changed_json(r, rows)} for r in records]
        meta[ind.id] = {"params": spec.model_dump(mode="json"), "by_year": per_year}

        ok = new_points.notna()
        pos = at[ok.to_numpy()]
        pts = new_points[ok]
        grid.loc[grid.index[pos], "points"] = pts.to_numpy()
        grid.loc[grid.index[pos], "share"] = (pts / ind.max_points if ind.max_points > 0 else pts * np.nan).to_numpy()
        method_text = {"minmax": "按当年各校数据最小—最大值标准化", "zscore": "按当年各校标准分标准化",
                       "rank": "按当年各校排名标准化"}[spec.normalise]
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
    return grid, flags.reset_index(drop=True), meta


def _with_registry_columns(schools: pd.DataFrame, registry: pd.DataFrame | None, wanted: set[str]) -> pd.DataFrame:
    """``schools`` indexed by (school_id, year), with the ``wanted`` registry columns it lacks."""
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
