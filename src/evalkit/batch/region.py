"""A city's or a province's run (a run file with ``counties:``): every county as its own run,
then one region summary per year comparing the counties.

Each county is read, validated and scored on its own (its own quota, ranks and county summary;
school ids need only be unique within it), and its reports go to ``<output>/<year>/<county>/``
in the layout of a plain run (``scores/``, ``schools/…``, ``county/…``, ``manifest.json``), so a
school's report only ever sees its own county's Results. Every county is scored and its outputs
made ready first (each county-year folder locked and its manifest open), then the reports of all
counties go to the run's executor in one batch (one Dask client for the whole run), so workers
never wait for one county's last report before starting the next county's; each result is
recorded in its own county's manifest. Then, per year, the ``region_summary`` notebook runs once
on this machine, reading every county's saved Results, into ``<output>/<year>/region/`` with its
own ``manifest.json`` (redone when a county's data, the framework, the notebook or evalkit changed).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import evalkit
from evalkit.batch.confine import check_output_entries, check_output_folder
from evalkit.batch.execute import Executor, JobResult, run_jobs
from evalkit.batch.fingerprints import DataFingerprints, sha256_file, sha256_json
from evalkit.batch.kernelpool import KernelPoolExecutor
from evalkit.batch.manifest import Manifest
from evalkit.batch.plan import WORK_DIR, Job
from evalkit.batch.runfile import REGION_FOLDER, RunSpec

if TYPE_CHECKING:
    from evalkit.batch.run import RunReport

REGION_STEM = "区域汇总"


def run_region(
    spec: RunSpec,
    *,
    executor: Executor,
    schools: list[str] | None,
    force: bool,
    only_failed: bool,
    progress: bool,
    report: RunReport,
    out: TextIO,
) -> None:
    """Run every county of ``spec`` (see the module docstring), appending to ``report``."""
    from evalkit.batch.run import (
        Outcome,
        RunError,
        YearRun,
        _years,
        close_year,
        execute_years,
        folder_lock,
        interrupt_years,
        open_year,
        score_run,
        start_executor,
        sweep,
    )

    unlisted = unlisted_counties(spec)
    if unlisted:
        print(unlisted, file=out, flush=True)
    county_notebooks = [p for kind, p in spec.notebooks.items() if kind != "region_summary"]
    start_executor(executor, county_notebooks)
    data_fps: dict[int, dict[str, str]] = {}
    with contextlib.ExitStack() as locks:  # every county-year's folder, until its reports are done
        opened: list[YearRun] = []
        try:
            for county in spec.counties:
                print(f"【{county.county}】评分中 / scoring {len(county.data)} 个数据文件…", file=out, flush=True)
                t0 = time.monotonic()
                try:
                    obs, results, grades = score_run(county)
                except RunError as err:
                    raise RunError(f"【{county.county}】{err}") from None
                print(f"【{county.county}】评分完成（{time.monotonic() - t0:.1f} 秒）："
                      f"{len(results.schools)} 个学校年度", file=out, flush=True)
                for year in _years(county, results):
                    have = set(results.schools.loc[results.schools["year"] == year, "school_id"].astype(str))
                    wanted = None if schools is None else [s for s in schools if s in have]
                    if wanted == []:
                        continue
                    locks.enter_context(folder_lock(county.year_folder(year)))
                    opened.append(open_year(county, obs, results, grades, year, schools=wanted, force=force,
                                            only_failed=only_failed, report=report, out=out))
                    data_fps.setdefault(year, {})[county.county] = DataFingerprints(obs, results, year).county
        except KeyboardInterrupt:
            interrupt_years(opened)
            raise
        # all counties' reports in one go: workers move on to the next county without waiting
        execute_years(opened, executor, progress=progress, desc=f"{spec.region} 各县报告")
        for year_run in opened:
            close_year(year_run, report)
    if "region_summary" not in spec.notebooks or schools is not None:
        return
    for year, fps in sorted(data_fps.items()):
        job = region_job(spec, year, fps)
        folder = job.outputs["ipynb"].parent
        with folder_lock(folder):
            check_output_entries(folder)  # nothing read, written or deleted outside the folder
            manifest = Manifest.load(folder)
            check_output_folder(folder, manifest.reports)
            sweep(folder)
            entry = manifest.reports.get(job.key) or {}
            if only_failed and entry.get("status") != "failed":
                continue
            if not force and not only_failed and manifest.is_fresh(job.key, job.fingerprints, spec.formats):
                report.outcomes.append(Outcome(year, job, "skipped", "输入未变，输出已存在 / up to date"))
                continue

            def record(job: Job, result: JobResult, year: int = year, manifest: Manifest = manifest) -> None:
                from evalkit.batch.run import _entry

                manifest.set_report(job.key, _entry(job, manifest.folder, result, None))
                report.outcomes.append(Outcome(year, job, result.status, result.error or "", result.seconds))

            run_jobs([job], KernelPoolExecutor(), 1, record, progress=progress, desc=f"{spec.region} {year} 年汇总")
            manifest.save()
            sweep(folder)


def unlisted_counties(spec: RunSpec) -> str:
    """A warning naming the counties of the shared registry (its 县区 column) that the run does
    not list, with their numbers of schools — they are not assessed, and that must not go
    unsaid; ``""`` when there are none (or no shared registry)."""
    from evalkit.batch.run import RunError, shared_registry
    from evalkit.registry import COUNTY, CountyRegistryError, RegistryError

    if spec.registry is None or not any(c.registry_county for c in spec.counties):
        return ""
    try:
        registry = shared_registry(spec.registry)
    except (RegistryError, CountyRegistryError) as err:
        raise RunError(str(err)) from None
    except OSError as err:
        raise RunError(f"无法读取学校名册 / cannot read the registry: {err}") from None
    listed = {c.county for c in spec.counties if c.registry_county}
    names = registry[COUNTY].astype(str).str.strip()
    counts = names[~names.isin(listed)].replace("", "（县区为空）").value_counts(sort=False)
    if counts.empty:
        return ""
    which = "、".join(f"{name}（{n} 所）" for name, n in sorted(counts.items()))
    return (f"注意：学校名册 {spec.registry.name} 中有 {int(counts.sum())} 所学校的县区不在本次 counties 中，"
            f"不参加本次评价：{which} / registry rows of counties not in this run")


def region_job(spec: RunSpec, year: int, county_fps: dict[str, str]) -> Job:
    """The region summary of ``year``: parameters ``year``, ``scores`` (``<output>/<year>``, whose
    ``<county>/scores`` folders it reads), ``counties`` (their names, in the run file's order),
    ``region``, ``framework``."""
    folder = spec.output / str(int(year)) / REGION_FOLDER
    names = [c.county for c in spec.counties]
    params = {
        "school_id": "",
        "year": int(year),
        "scores": str(spec.output / str(int(year))),
        "counties": ",".join(names),
        "region": spec.region,
        "framework": spec.framework,
    }
    notebook = spec.notebooks["region_summary"]
    fingerprints = {
        "data": sha256_json({name: county_fps.get(name, "") for name in names}),
        "framework": spec.framework,
        "evalkit": evalkit.__version__,
        "notebook": sha256_file(notebook),
        "params": sha256_json(params),
    }
    stem = f"{REGION_STEM}_{int(year)}"
    return Job(
        key="region_summary",
        kind="region_summary",
        school_id="",
        school_name=spec.region,
        year=int(year),
        notebook=notebook,
        parameters=params,
        fingerprints=fingerprints,
        outputs={fmt: folder / f"{stem}.{fmt}" for fmt in spec.formats},
        failed_notebook=folder / f"{stem}.failed.ipynb",
        work_dir=folder / WORK_DIR,
        title=f"{spec.region} {int(year)} 年度各县（市、区）中小学校党建工作质量评价汇总",
        header_left=f"{spec.region}汇总",
        header_right=f"{int(year)} 年度",
        cell_timeout=spec.cell_timeout,
        start_timeout=spec.start_timeout,
    )


def county_scores(region_folder: str | Path, county: str) -> Path:
    """Where a county's saved Results of a year are: ``<output>/<year>/<county>/scores``."""
    return Path(region_folder) / county / "scores"
