"""Stage tables, like COINr's data sets (``Raw``, ``Denominated``, ``Imputed``, ``Treated``,
``Normalised``, ``Aggregated``): for a framework with a ``pipeline``, the value of every
indicator after each step and every aggregate, per school and year.

One long table ``stage, school_id, year, code, value`` (``Results.extra["stages"]``, saved and
loaded with the Results), at full precision (the published tables are rounded):

- ``raw``: each indicator's combined value (the rules' input; NaN for label indicators and
  missing values);
- ``denominated``, ``imputed``, ``treated``: a pipeline indicator's value after that step (the
  previous value when the step is not asked for); other indicators carry their raw value;
- ``normalised``: a pipeline indicator's normalised value (points = max points × it); for
  other indicators the share the rule gave, points ÷ max points (a missing value scored 0
  under ``zero_flag`` is 0 here);
- ``aggregated``: every indicator's points, every area's points at every depth, and ``base``
  (the aggregated total before bonus).

:func:`stage_frames` gives one wide table per stage (a row per school-year, a column per code).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.framework import Framework

STAGES = ("raw", "denominated", "imputed", "treated", "normalised", "aggregated")
STAGE_TITLES = {
    "raw": "阶段1 原始值",
    "denominated": "阶段2 分母折算",
    "imputed": "阶段3 插补",
    "treated": "阶段4 极端值处理",
    "normalised": "阶段5 标准化",
    "aggregated": "阶段6 汇总",
}
"""Sheet titles of the stages in ``evalkit score -o 结果.xlsx``."""

COLUMNS = ["stage", "school_id", "year", "code", "value"]


def stage_table(
    indicators: pd.DataFrame,
    pipeline_stages: pd.DataFrame,
    area_points: pd.DataFrame,
    base: pd.DataFrame,
    fw: Framework,
) -> pd.DataFrame:
    """The long stage table (see module docstring). ``indicators``: the unrounded indicator
    grid after the pipelines; ``pipeline_stages``: ``school_id, year, indicator_id, stage,
    value`` from :func:`evalkit.scoring.pipeline.apply_pipelines`; ``area_points``:
    ``school_id, year, node_id, points`` for every area at every depth; ``base``:
    ``school_id, year, base``."""
    key = ["school_id", "year", "indicator_id"]
    grid = indicators[[*key, "value", "points", "max_points"]].copy()
    grid["school_id"] = grid["school_id"].astype(str)
    frames = []
    piped = pipeline_stages.assign(school_id=pipeline_stages["school_id"].astype(str))
    for stage in ("raw", "denominated", "imputed", "treated"):
        own = piped[piped["stage"] == stage][[*key, "value"]]
        merged = grid[[*key, "value"]].merge(own, on=key, how="left", suffixes=("", "_p"))
        in_pipe = merged["indicator_id"].isin(set(piped["indicator_id"]))
        value = np.where(in_pipe, merged["value_p"], merged["value"])
        frames.append(_long(stage, merged, value))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (grid["points"] / grid["max_points"].where(grid["max_points"] > 0)).to_numpy(dtype=float)
    own = piped[piped["stage"] == "normalised"][[*key, "value"]]
    merged = grid[key].merge(own, on=key, how="left")
    in_pipe = merged["indicator_id"].isin(set(piped["indicator_id"])).to_numpy()
    frames.append(_long("normalised", grid, np.where(in_pipe, merged["value"].to_numpy(dtype=float), share)))
    frames.append(_long("aggregated", grid, grid["points"].to_numpy(dtype=float)))
    order = {a.id: k for k, (_, a, _, _) in enumerate(fw.iter_areas())}
    nodes = area_points.assign(school_id=area_points["school_id"].astype(str))
    nodes = nodes.assign(_o=nodes["node_id"].map(order)).sort_values(["year", "school_id", "_o"], kind="stable")
    frames.append(pd.DataFrame({
        "stage": "aggregated", "school_id": nodes["school_id"].to_numpy(dtype=object),
        "year": nodes["year"].to_numpy(), "code": nodes["node_id"].to_numpy(dtype=object),
        "value": nodes["points"].to_numpy(dtype=float),
    }))
    frames.append(pd.DataFrame({
        "stage": "aggregated", "school_id": base["school_id"].astype(str).to_numpy(dtype=object),
        "year": base["year"].to_numpy(), "code": "base", "value": base["base"].to_numpy(dtype=float),
    }))
    out = pd.concat(frames, ignore_index=True)
    out["stage"] = out["stage"].astype(object)
    out["code"] = out["code"].astype(object)
    return out[COLUMNS]


def _long(stage: str, frame: pd.DataFrame, value: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "stage": stage, "school_id": frame["school_id"].to_numpy(dtype=object), "year": frame["year"].to_numpy(),
        "code": frame["indicator_id"].to_numpy(dtype=object), "value": np.asarray(value, dtype=float),
    })


def stage_frames(stages: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One wide table per stage (``STAGES`` order): 年度, 学校编号, then a column per code in
    the order first seen (indicators in framework order, then areas, then ``base``)."""
    out: dict[str, pd.DataFrame] = {}
    for stage in STAGES:
        part = stages[stages["stage"] == stage]
        if part.empty:
            continue
        codes = list(dict.fromkeys(part["code"]))
        wide = part.pivot(index=["year", "school_id"], columns="code", values="value")
        wide = wide.sort_index().reindex(columns=codes).reset_index()
        wide.columns.name = None
        out[stage] = wide.rename(columns={"year": "年度", "school_id": "学校编号"})
    return out
