"""``evalkit run``: score once, then plan, execute and record every report of the run file.

Per run year, in ``<output>/<year>/`` (for a region, per county in ``<output>/<year>/<county>/``,
then the region summary in ``<output>/<year>/region/``), the year lifecycle of
:mod:`evalkit.planner.year`:

1. take the folder's lock (a second ``evalkit run`` on the same folder is refused) and sweep
   what an interrupted run may have left (the ``.work/`` folder, hidden temporary files);
2. save the Results of the whole data (every year, scored once per run) to ``scores/``, and
   write ``scoreboard.xlsx`` (unless the county's data fingerprint, the grades and the evalkit
   version are those it was written with, recorded as ``scoreboard_fingerprint`` in the manifest);
3. plan the jobs and skip those whose manifest entry is fresh (see
   :mod:`evalkit.planner.fingerprints`); ``--force`` redoes all, ``--only-failed`` only failures;
4. execute the rest on the run's executor (:mod:`evalkit.runtime`), recording each in the
   manifest as it finishes (journal line at once, ``manifest.json`` rewritten about once a
   second, see :mod:`evalkit.planner.manifest`);
5. print a summary table (完成 / 跳过 / 失败 with the reason).

Exit status: 0 when nothing failed, 1 when a report failed or the data has errors, 2 for a problem
with the run file, the options or the output folder, 130 when interrupted.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from evalkit.errors import EvalkitError
from evalkit.planner.correction import Correction, begin_correction, finish_correction
from evalkit.planner.names import display
from evalkit.planner.region import open_region_year, region_folder, unlisted_counties
from evalkit.planner.report import RunError, RunReport
from evalkit.planner.runfile import RunSpec
from evalkit.planner.scores import score_run
from evalkit.planner.seal import SealError, read_published, refuse_sealed
from evalkit.planner.year import YearRun, close_year, execute_years, folder_lock, interrupt_years, open_year
from evalkit.results import Results
from evalkit.runtime.choice import ExecutorChoice, parse_executor
from evalkit.runtime.executor import Executor, LocalExecutor


def _years(spec: RunSpec, results: Results) -> list[int]:
    have = results.years
    years = list(spec.years) or ([have[-1]] if have else [])
    missing = [y for y in years if y not in have]
    if missing or not years:
        raise RunError(
            f"数据中没有 {', '.join(map(str, missing)) or '任何'} 年的评分结果（现有：{have}）/ "
            "no results for that year"
        )
    return years


def _check_schools(results: Results, years: list[int], schools: list[str] | None) -> None:
    if schools is None:
        return
    for year in years:
        have = set(results.schools.loc[results.schools["year"] == year, "school_id"].astype(str))
        unknown = [s for s in schools if s not in have]
        if unknown:
            raise RunError(
                f"{year} 年没有这些学校的评分结果 / unknown schools: "
                + "、".join(display(s) for s in unknown)
            )


NO_ISSUER_WARNING = (
    "注意：运行文件没有 issuer（发文单位）一节，报告不写县名、发文单位和落款。"
    "请在运行文件中加上 issuer: {county: 县名, body: 发文单位}。"
)
"""Printed once per run whose run file has no ``issuer`` block."""


def run_batch(
    spec: RunSpec,
    *,
    schools: list[str] | None = None,
    force: bool = False,
    only_failed: bool = False,
    executor: Executor | None = None,
    progress: bool = True,
    out: TextIO | None = None,
    correction: str | None = None,
    reissue: Any = None,
) -> RunReport:
    """Run every report of ``spec``; return what happened (raises :class:`RunError`, or the
    input's own :class:`~evalkit.errors.EvalkitError`, for problems found before any report
    runs). Ctrl-C / SIGTERM end the run cleanly with ``report.interrupted`` set: finished reports
    are kept and recorded, nothing partial is left. ``executor``: the run file's (its
    ``executor:``, or ``--cluster``) unless given; one the run makes is closed at its end.

    A sealed (published) year is refused (:func:`evalkit.planner.seal.refuse_sealed`) unless
    ``correction`` gives the reason to correct it (:mod:`evalkit.planner.correction`);
    ``reissue`` (a replay's :class:`~evalkit.planner.correction.Correction`) marks the county's
    documents as that corrected version's."""
    out = out or sys.stdout
    t0 = time.monotonic()
    report = RunReport()
    previous = signal.getsignal(signal.SIGTERM)
    in_main = _is_main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, _sigterm)
    try:
        with contextlib.ExitStack() as stack:
            if executor is None:
                choice = parse_executor(spec.executor)
                executor = stack.enter_context(make_executor(choice, shared_output=spec.shared_output, out=out))
            _run(spec, executor, schools=schools, force=force, only_failed=only_failed, progress=progress,
                 report=report, out=out, correction=correction, reissue=reissue)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    report.seconds = time.monotonic() - t0
    return report


def _run(
    spec: RunSpec,
    executor: Executor,
    *,
    schools: list[str] | None,
    force: bool,
    only_failed: bool,
    progress: bool,
    report: RunReport,
    out: TextIO,
    correction: str | None = None,
    reissue: Any = None,
) -> None:
    """A county's run (``spec`` itself) or a region's (each of ``spec.counties``, then the region
    summary): every county scored, every county-year opened, all their reports on ``executor``
    in one batch, every year closed (see :mod:`evalkit.planner.year`)."""
    region = bool(spec.counties)
    counties = list(spec.counties) if region else [spec]
    if region:
        notice = unlisted_counties(spec)
        if notice:
            print(notice, file=out, flush=True)
    elif spec.issuer is None:
        print(NO_ISSUER_WARNING, file=out, flush=True)
    scored = []
    for county in counties:
        where = f"【{county.county}】" if region else ""
        print(f"{where}评分中：{len(county.data)} 个数据文件…", file=out, flush=True)
        t0 = time.monotonic()
        try:
            obs, results, grades = score_run(county, out)
        except EvalkitError as err:  # a county's problem, named with its county in a region run
            if not region:
                raise
            raise RunError(f"{where}{err}", exit_code=err.exit_code) from None
        years = _years(county, results)
        if not region:
            _check_schools(results, years, schools)
        if reissue is None:
            check_sealed([county.year_folder(year) for year in years], spec.source, correction)
        print(f"{where}评分完成（{time.monotonic() - t0:.1f} 秒）：{len(results.schools)} 个学校年度，"
              f"年度 {', '.join(map(str, results.years))}", file=out, flush=True)
        scored.append((county, obs, results, grades, years))
    try:  # connect, check and warm up workers before any report (a cluster's problems stop the run)
        executor.start([p for kind, p in spec.notebooks.items() if kind != "region_summary"], workers=spec.jobs)
    except EvalkitError as err:
        raise RunError(str(err), exit_code=err.exit_code) from None
    data_fps: dict[int, dict[str, str]] = {}
    corrections: dict[Path, Correction] = {}
    with contextlib.ExitStack() as locks:  # every year's folder, until its reports are done
        opened: list[YearRun] = []
        try:
            for county, obs, results, grades, years in scored:
                for year in years:
                    wanted = schools
                    if region and schools is not None:  # a region's --schools: those of this county
                        have = set(results.schools.loc[results.schools["year"] == year, "school_id"].astype(str))
                        wanted = [s for s in schools if s in have]
                        if not wanted:
                            continue
                    folder = county.year_folder(year)
                    locks.enter_context(folder_lock(folder))
                    fix = reissue
                    if correction is not None and (seal := read_published(folder)) is not None:
                        fix = corrections[folder] = begin_correction(folder, seal, correction)
                    opened.append(open_year(county, obs, results, grades, year, schools=wanted, force=force,
                                            only_failed=only_failed, report=report, out=out, correction=fix))
                    data_fps.setdefault(year, {})[county.county] = opened[-1].data_fingerprint
        except KeyboardInterrupt:
            interrupt_years(opened)
            raise
        what = f"{spec.region} 各县报告" if region else f"{spec.county} {'、'.join(map(str, years))} 年报告".strip()
        execute_years(opened, executor, progress=progress, desc=what)
        for year_run in opened:
            close_year(year_run)
        for (county, obs, results, grades, _), year_run in _by_folder(scored, opened):
            if year_run.folder in corrections:
                finish_correction(corrections[year_run.folder], county, year_run.folder, obs, results, grades,
                                  year_run.year, out)
    if region and "region_summary" in spec.notebooks and schools is None:
        _region_summaries(spec, executor, data_fps, force=force, only_failed=only_failed, progress=progress,
                          report=report)


def check_sealed(folders: list[Path], run_file: Path, correction: str | None) -> None:
    """A sealed year is refused without ``correction``; ``correction`` is refused when none of
    the run's years is sealed (years not sealed are run as usual beside a corrected one)."""
    seals = [read_published(folder) for folder in folders]
    if correction is not None and all(seal is None for seal in seals):
        raise SealError(f"{'、'.join(map(str, folders))} 尚未公布（未运行 evalkit publish），不需要 --correction，"
                        "直接运行即可 / not published: run without --correction")
    if correction is None:
        for folder in folders:
            refuse_sealed(folder, run_file)


def _by_folder(scored: list, opened: list[YearRun]) -> list:  # type: ignore[type-arg]
    """Each opened year with the scored county it belongs to."""
    out = []
    for item in scored:
        county, years = item[0], item[4]
        for year_run in opened:
            if year_run.year in years and year_run.folder == county.year_folder(year_run.year):
                out.append((item, year_run))
    return out


def _region_summaries(
    spec: RunSpec, executor: Executor, data_fps: dict[int, dict[str, str]], *, force: bool, only_failed: bool,
    progress: bool, report: RunReport,
) -> None:
    """The region summary of each year, after every county's reports (it reads their saved
    scores). It runs on this machine: on the run's executor when that is local, else on a local
    kernel pool (a cluster's workers do not have every county's scores)."""
    local = executor if isinstance(executor, LocalExecutor) else None
    with contextlib.ExitStack() as stack:
        if local is None:
            local = stack.enter_context(make_executor(parse_executor("local")))
        for year, fps in sorted(data_fps.items()):
            with folder_lock(region_folder(spec, year)):
                opened = open_region_year(spec, year, fps, force=force, only_failed=only_failed, report=report)
                execute_years([opened], local, progress=progress, desc=f"{spec.region} {year} 年汇总")
                close_year(opened)


def make_executor(choice: ExecutorChoice, *, shared_output: bool = False, out: TextIO | None = None) -> Executor:
    """The executor ``choice`` names: the kernel pool, or Dask (``shared_output``: Dask workers
    write the outputs themselves; ``out``: where the Dask dashboard's address is printed).
    ``distributed`` is imported only here, and only when Dask is chosen."""
    if choice.kind == "local":
        from evalkit.runtime.kernelpool import KernelPoolExecutor

        return KernelPoolExecutor()
    from evalkit.runtime.dask_executor import DaskExecutor

    return DaskExecutor(choice, shared_output=shared_output, out=out)


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt("SIGTERM")


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
