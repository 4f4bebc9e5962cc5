"""A city's or a province's run (a run file with ``counties:``): every county as its own run,
then one region summary per year comparing the counties.

Each county is read, validated and scored on its own (its own quota, ranks and county summary;
school ids need only be unique within it), and its reports go to ``<output>/<year>/<county>/``
in the layout of a plain run (``scores/``, ``schools/…``, ``county/…``, ``manifest.json``), so a
school's report only ever sees its own county's Results. Every county is scored first (a
county's data problems stop the run before any report); then the county-years are opened one
after another (:class:`~evalkit.planner.feed.JobFeed`) while the run's executor already runs
the reports of the counties opened before, all in one batch (one Dask client for the whole run),
so workers never wait for one county's last report, nor for the next county to be opened; each
result is recorded in its own county's manifest. Once every county's scores are saved, the
``region_summary`` notebook of each year joins the same batch on the same executor (it reads
only the counties' saved Results, which exist before their reports run; a Dask worker gets them
shipped like a county's scores), into ``<output>/<year>/region/`` with its own
``manifest.json`` (redone when a county's data, the framework, the notebook or evalkit changed).
"""

from __future__ import annotations

from pathlib import Path

import evalkit
from evalkit.planner.fingerprints import sha256_file, sha256_json
from evalkit.planner.plan import WORK_DIR, job_label
from evalkit.planner.report import RunError, RunReport
from evalkit.planner.runfile import REGION_FOLDER, RunSpec
from evalkit.planner.scores import shared_registry
from evalkit.planner.year import YearRun, open_folder, run_block
from evalkit.runtime.job import Job

REGION_STEM = "区域汇总"


def open_region_year(
    spec: RunSpec, year: int, county_fps: dict[str, str], *, force: bool, only_failed: bool, report: RunReport
) -> YearRun:
    """The region summary of ``year`` opened like any year (the caller holds the region folder's
    lock, :func:`~evalkit.planner.year.folder_lock` on ``region_folder(spec, year)``): the folder
    checked and swept, the summary's job selected like a county's reports."""
    job = region_job(spec, year, county_fps)
    folder = region_folder(spec, year)
    manifest = open_folder(folder)
    manifest.data.update({"year": int(year), "evalkit_version": evalkit.__version__, "run": run_block(spec)})
    opened = YearRun(int(year), folder, manifest, report, workers=1)
    opened.take([job], spec.formats, force=force, only_failed=only_failed)
    return opened


def region_folder(spec: RunSpec, year: int) -> Path:
    """``<output>/<year>/region``: where the region summary of a year goes."""
    return spec.output / str(int(year)) / REGION_FOLDER


def unlisted_counties(spec: RunSpec) -> str:
    """A warning naming the counties of the shared registry (its 县区 column) that the run does
    not list, with their numbers of schools — they are not assessed, and that must not go
    unsaid; ``""`` when there are none (or no shared registry)."""
    from evalkit.intake.registry import COUNTY, CountyRegistryError, RegistryError

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
    folder = region_folder(spec, year)
    names = [c.county for c in spec.counties]
    params = {
        "school_id": "",
        "year": int(year),
        "scores": str(spec.output / str(int(year))),
        "counties": ",".join(names),
        "region": spec.region,
        "framework": spec.framework_for(year),
    }
    notebook = spec.notebooks["region_summary"]
    fingerprints = {
        "data": sha256_json({name: county_fps.get(name, "") for name in names}),
        "framework": spec.framework_for(year),
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
        title=f"{spec.region}{int(year)}年度各县（市、区）中小学校党建工作质量评价汇总",
        header_left=f"{spec.region}汇总",
        header_right=f"{int(year)}年度",
        cell_timeout=spec.cell_timeout,
        start_timeout=spec.start_timeout,
        label=job_label("region_summary", "", spec.region),
    )


def county_scores(region_folder: str | Path, county: str) -> Path:
    """Where a county's saved Results of a year are: ``<output>/<year>/<county>/scores``."""
    return Path(region_folder) / county / "scores"
