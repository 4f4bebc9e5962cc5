"""The run's data through intake's gate, scored once for every year of the data; the year's
robustness tables attached before its scores are saved."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TextIO

import pandas as pd

from evalkit.planner.runfile import RunSpec
from evalkit.results import Results


def score_run(spec: RunSpec, out: TextIO | None = None) -> tuple[pd.DataFrame, Results, list[str]]:
    """Read the run's data through intake's gate (any error, or a score-changing warning the
    run file's ``allow`` does not list, stops the run with the complete list; what is allowed
    is printed; warnings go into ``Results.flags``) and score it once (all years); return
    (observations, Results, grade order)."""
    from evalkit.api import intake_flags
    from evalkit.framework import load_framework
    from evalkit.intake import read_validated
    from evalkit.intake.registry import county_registry, load_registry
    from evalkit.observations import coerce_observations
    from evalkit.scoring import score

    fw = load_framework(spec.framework)
    registry = None
    if spec.registry is not None:
        if spec.registry_county:
            registry = county_registry(shared_registry(spec.registry), spec.registry_county, str(spec.registry))
        else:
            registry = load_registry(spec.registry)
    validated = read_validated(list(spec.data), fw, registry, allow=spec.allow)  # the gate
    obs = coerce_observations(validated.frame)
    results = score(validated, fw, registry)
    if spec.registry_county and registry is not None:  # the county's rows travel with its scores
        results.extra["registry"] = registry.reset_index(drop=True)
    results.flags = pd.concat([results.flags, intake_flags(validated.intake)], ignore_index=True)
    for note in validated.allowed_notes():
        print(note, file=out or sys.stderr, flush=True)
    return obs, results, fw.grade_order


def shared_registry(path: Path) -> pd.DataFrame:
    """A registry shared by a region's counties, read once per run (not once per county) while
    the file is unchanged."""
    st = path.stat()
    return _read_shared_registry(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _read_shared_registry(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    """Like :func:`evalkit.intake.registry.load_registry`, but without a 县区 column that is the one
    error reported (its ids would otherwise all read as duplicates across counties)."""
    from evalkit.intake.registry import COUNTY, RegistryError, county_registry, read_registry

    frame, issues = read_registry(path)
    if frame is not None and COUNTY not in frame.columns:
        county_registry(frame, "", path)  # raises: no county column
    if frame is None or any(i.is_error for i in issues):
        raise RegistryError(issues)
    frame.attrs["issues"] = [i for i in issues if not i.is_error]
    return frame


def add_robustness(spec: RunSpec, obs: pd.DataFrame, results: Results, year: int) -> None:
    """The year's Monte Carlo rank intervals (and the rater marks the framework audit reads)
    into ``results.extra``, saved with the scores (see :mod:`evalkit.robustness`)."""
    if spec.robustness is None and "framework_audit" not in spec.notebooks:
        _drop_year_tables(results)
        return
    from evalkit.framework import load_framework
    from evalkit.robustness import attach_robustness

    _drop_year_tables(results)
    results.meta.pop("robustness", None)
    try:
        attach_robustness(results, obs, load_framework(spec.framework), year, spec.robustness)
    except Exception as err:  # the reports still run, saying no robustness analysis was made
        _drop_year_tables(results)
        results.meta.pop("robustness", None)
        print(f"警告：{year} 年排名稳健性分析未能完成，报告中将不显示排名区间 / robustness skipped: {err!r}",
              file=sys.stderr, flush=True)
        return
    if not results.meta.get("robustness", {}).get("reproduces_published", True):
        print(f"警告：{year} 年稳健性模型未能复现公布的总分，排名区间仅供参考 / the model does not replay the "
              "published totals", file=sys.stderr, flush=True)


def _drop_year_tables(results: Results) -> None:
    """Forget the previous year's robustness tables (the county's registry rows stay)."""
    for name in [n for n in results.extra if n != "registry"]:
        del results.extra[name]
