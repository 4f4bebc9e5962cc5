"""The run's data through intake's gate, scored once for every year of the data; the year's
robustness tables attached before its scores are saved."""

from __future__ import annotations

import functools
import sys
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from evalkit.planner.runfile import FrameworkYearError, RunSpec
from evalkit.results import Results

if TYPE_CHECKING:
    from evalkit.framework import Framework


def score_run(spec: RunSpec, out: TextIO | None = None) -> tuple[pd.DataFrame, Results, list[str]]:
    """Read the run's data through intake's gate (any error, or a score-changing warning the
    run file's ``allow`` does not list, stops the run with the complete list; what is allowed
    is printed; warnings go into ``Results.flags``) and score it once (all years); return
    (observations, Results, grade order).

    With one framework, every year is read and scored under it. With a per-year mapping
    (``framework: {2024: …, 2025: …}``), each year's rows are checked against and scored under
    that year's framework (:func:`evalkit.intake.years.read_validated_years`) and the Results
    concatenated; an indicator absent from a year's framework is not scored that year (不适用).
    Either way ``meta["frameworks"]`` records each year's framework (id, name, version,
    fingerprint, total points, precision, ``history``) and an earlier year that is sealed
    (:mod:`evalkit.planner.published`) keeps its published rows instead of being rescored; the
    years so read are printed."""
    from evalkit.api import intake_flags
    from evalkit.framework import load_framework
    from evalkit.intake import read_validated
    from evalkit.intake.registry import county_registry, load_registry
    from evalkit.observations import coerce_observations
    from evalkit.scoring import score

    registry = None
    if spec.registry is not None:
        if spec.registry_county:
            registry = county_registry(shared_registry(spec.registry), spec.registry_county, str(spec.registry))
        else:
            registry = load_registry(spec.registry)
    if spec.frameworks:
        frameworks = {y: load_framework(ref) for y, ref in spec.frameworks}
        _check_histories(frameworks)
        obs, results = _score_per_year(spec, frameworks, registry, out)
        fw = frameworks[max(frameworks)]
    else:
        fw = load_framework(spec.framework)
        validated = read_validated(list(spec.data), fw, registry, allow=spec.allow)  # the gate
        obs = coerce_observations(validated.frame)
        results = score(validated, fw, registry)
        results.flags = pd.concat([results.flags, intake_flags(validated.intake)], ignore_index=True)
        for note in validated.allowed_notes():
            print(note, file=out or sys.stderr, flush=True)
        frameworks = {int(y): fw for y in results.years}
    results.meta["frameworks"] = {str(y): framework_entry(f) for y, f in sorted(frameworks.items())
                                  if y in set(results.years)}
    results = _with_published(spec, results, out)
    if spec.registry_county and registry is not None:  # the county's rows travel with its scores
        results.extra["registry"] = registry.reset_index(drop=True)
    return obs, results, fw.grade_order


def framework_entry(fw: Framework) -> dict[str, Any]:
    """What ``Results.meta["frameworks"][year]`` says of a year's framework."""
    return {
        "id": fw.id, "name": fw.name, "version": fw.version, "fingerprint": fw.fingerprint,
        "total_points": float(fw.total_points), "precision": int(fw.precision),
        "history": fw.history.model_dump(mode="json") if fw.history is not None else None,
    }


def _check_histories(frameworks: dict[int, Framework]) -> None:
    """Each year's ``history:`` against the framework of the year before it (old ids must be
    indicators of that one); raises :class:`~evalkit.framework.FrameworkError` naming them."""
    from evalkit.framework import FrameworkError, history_problems
    from evalkit.io.yaml_paths import Problem, format_path

    years = sorted(frameworks)
    for before, year in pairwise(years):
        new, old = frameworks[year], frameworks[before]
        if new.fingerprint == old.fingerprint:
            continue
        found = history_problems(new, old)
        if found:
            raise FrameworkError(f"{year} 年的指标体系 {new.id}（{new.version}）",
                                 [Problem(format_path(loc), f"{msg}（对照 {before} 年）", None) for loc, msg in found])


def _score_per_year(
    spec: RunSpec, frameworks: dict[int, Framework], registry: pd.DataFrame | None, out: TextIO | None
) -> tuple[pd.DataFrame, Results]:
    """Each year's validated rows scored under its own framework, concatenated (see
    :func:`score_run`)."""
    from evalkit.api import intake_flags
    from evalkit.intake.years import read_validated_years
    from evalkit.observations import coerce_observations
    from evalkit.scoring import score

    validated = read_validated_years(list(spec.data), frameworks, registry, allow=spec.allow)
    if not validated:
        raise FrameworkYearError("数据中没有运行文件 framework 所列年度的观测 / no data for the mapped years")
    parts = []
    for year, v in sorted(validated.items()):
        r = score(v, frameworks[year], registry)
        r.flags = pd.concat([r.flags, intake_flags(v.intake)], ignore_index=True)
        for note in v.allowed_notes():
            print(note, file=out or sys.stderr, flush=True)
        parts.append(r)
    obs = coerce_observations(pd.concat([v.frame for _, v in sorted(validated.items())], ignore_index=True))
    return obs, concat_results(parts)


def concat_results(parts: list[Results]) -> Results:
    """Results of different years (and frameworks) as one: tables concatenated, ``meta`` the
    latest part's with ``years``, ``missing_schools`` and ``allowed`` over every part and a
    ``data_fingerprint`` combining the parts'."""
    import hashlib

    from evalkit.results import TABLES

    parts = sorted(parts, key=lambda r: max(r.years) if len(r.schools) else 0)
    last = parts[-1]
    tables = {n: pd.concat([getattr(p, n) for p in parts], ignore_index=True) for n in TABLES}
    nodes = [p.nodes for p in parts if p.nodes is not None]
    meta = dict(last.meta)
    meta["years"] = sorted({y for p in parts for y in p.years})
    meta["missing_schools"] = [m for p in parts for m in p.meta.get("missing_schools", [])]
    allowed: dict[str, int] = {}
    for p in parts:
        for k, n in (p.meta.get("allowed") or {}).items():
            allowed[k] = allowed.get(k, 0) + int(n)
    meta["allowed"] = allowed
    meta["allowed_notes"] = [n for p in parts for n in p.meta.get("allowed_notes", [])]
    if len(parts) > 1:
        meta["data_fingerprint"] = hashlib.sha256(
            "\n".join(str(p.meta.get("data_fingerprint", "")) for p in parts).encode()).hexdigest()
    return Results(**tables, meta=meta, nodes=pd.concat(nodes, ignore_index=True) if nodes else None)


def _with_published(spec: RunSpec, results: Results, out: TextIO | None) -> Results:
    """``results`` with every earlier year that is sealed replaced by (or, when the data no
    longer has it, completed with) its published rows (see :mod:`evalkit.planner.published`);
    prints which years were read as published."""
    from evalkit.planner.published import published_results

    run_years = set(spec.years) or {max(results.years)} if len(results.schools) else set(spec.years)
    latest = max(run_years) if run_years else None
    swapped: list[int] = []
    if latest is None:
        return results
    parts: list[Results] = []
    meta = dict(results.meta)
    frameworks = dict(meta.get("frameworks") or {})
    for year in sorted(set(results.years) | sealed_years(spec)):
        if year >= latest or year in run_years:
            continue
        sealed = published_results(spec.year_folder(year), year)
        if sealed is not None:
            parts.append(sealed)
            frameworks[str(year)] = sealed.meta["frameworks"][str(year)]
            swapped.append(year)
    if not swapped:
        return results
    keep = results_without_years(results, swapped)
    merged = concat_results([*parts, keep])
    merged.meta = {**meta, "frameworks": dict(sorted(frameworks.items())), "published_years": swapped}
    merged.extra = results.extra
    where = f"【{spec.county}】" if spec.county else ""
    print(f"{where}以下往年按已公布结果读取（不重新评分）：{'、'.join(f'{y} 年' for y in swapped)} / "
          f"earlier years read as published: {', '.join(map(str, swapped))}", file=out or sys.stderr, flush=True)
    return merged


def sealed_years(spec: RunSpec) -> set[int]:
    """The years whose folder under the run's output is sealed (also those whose data the run
    no longer lists: their published results still make last year's figures and the trends)."""
    from evalkit.planner.published import is_sealed

    if not spec.output.is_dir():
        return set()
    years = {int(p.name) for p in spec.output.iterdir() if p.name.isdigit() and len(p.name) == 4}
    return {y for y in years if is_sealed(spec.year_folder(y))}


def results_without_years(results: Results, years: list[int]) -> Results:
    """``results`` without the rows of ``years``."""
    from evalkit.results import TABLES

    drop = {int(y) for y in years}
    tables = {n: getattr(results, n) for n in TABLES}
    tables = {n: t[~t["year"].isin(drop)].reset_index(drop=True) if "year" in t.columns else t
              for n, t in tables.items()}
    nodes = results.nodes
    if nodes is not None and "year" in nodes.columns:
        nodes = nodes[~nodes["year"].isin(drop)].reset_index(drop=True)
    return Results(**tables, meta=dict(results.meta), nodes=nodes, extra=dict(results.extra))


def with_year_framework(results: Results, year: int) -> Results:
    """``results`` (same tables) whose top-level ``meta`` names ``year``'s framework (id, name,
    version, fingerprint, precision) from ``meta["frameworks"]``; ``results`` itself when the
    year's framework is the one already named."""
    entry = (results.meta.get("frameworks") or {}).get(str(int(year)))
    if not entry or (entry.get("fingerprint") == results.meta.get("framework_fingerprint")):
        return results
    from dataclasses import replace

    meta = {**results.meta, "framework_id": entry["id"], "framework_name": entry.get("name", ""),
            "framework_version": entry["version"], "framework_fingerprint": entry["fingerprint"]}
    if "precision" in entry:
        meta["precision"] = int(entry["precision"])
    return replace(results, meta=meta)


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
        attach_robustness(results, obs, load_framework(spec.framework_for(year)), year, spec.robustness)
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
