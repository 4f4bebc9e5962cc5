"""``evalkit run``: score once, then plan, execute and record every report of the run file.

Per run year, in ``<output>/<year>/`` (for a region, per county in ``<output>/<year>/<county>/``,
and the region summary in ``<output>/<year>/region/``), the year lifecycle of
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from evalkit.errors import EvalkitError
from evalkit.planner.correction import Correction, begin_correction, finish_correction
from evalkit.planner.feed import JobFeed, execute_feed
from evalkit.planner.manifest import MANIFEST_NAME
from evalkit.planner.names import display
from evalkit.planner.region import open_region_year, region_folder, unlisted_counties
from evalkit.planner.report import RunError, RunReport
from evalkit.planner.runfile import RunSpec
from evalkit.planner.scores import score_run
from evalkit.planner.seal import SealError, read_published, refuse_sealed
from evalkit.planner.year import YearRun, close_year, folder_lock, open_year
from evalkit.results import Results
from evalkit.runtime.choice import ExecutorChoice, parse_executor
from evalkit.runtime.executor import Executor


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
    """A county's run (``spec`` itself) or a region's (each of ``spec.counties``, and a region
    summary per year): every county scored and checked first (its data's problems stop the run
    before any report), the executor started, every year folder locked; then the county-years
    are opened one after another in a :class:`~evalkit.planner.feed.JobFeed` while the executor
    already runs the reports of those opened (one batch for the whole run, dearest first; the
    region summary joins it once every county's scores are saved), and every year is closed
    (see :mod:`evalkit.planner.year`)."""
    region = bool(spec.counties)
    counties = list(spec.counties) if region else [spec]
    if region:
        notice = unlisted_counties(spec)
        if notice:
            print(notice, file=out, flush=True)
    elif spec.issuer is None:
        print(NO_ISSUER_WARNING, file=out, flush=True)
    summary = region and "region_summary" in spec.notebooks and schools is None
    # connect, check and warm up workers (a cluster's start takes seconds) while the counties are
    # scored; before any report, a cluster's problems stop the run
    notebooks = [p for kind, p in spec.notebooks.items() if kind != "region_summary" or summary]
    started = _start_beside(executor, notebooks)
    try:
        scored = _score_counties(spec, counties, schools, out, correction=correction, reissue=reissue)
    finally:
        error = started()
    if isinstance(error, EvalkitError):
        raise RunError(str(error), exit_code=error.exit_code) from None
    if error is not None:
        raise error
    todo = []  # (county, obs, results, grades, year, its schools): every county-year to open
    for county, obs, results, grades, years in scored:
        for year in years:
            wanted = schools
            if region and schools is not None:  # a region's --schools: those of this county
                have = set(results.schools.loc[results.schools["year"] == year, "school_id"].astype(str))
                wanted = [s for s in schools if s in have]
                if not wanted:
                    continue
            todo.append((county, obs, results, grades, year, wanted))
    years_of_region = sorted({item[4] for item in todo}) if summary else []
    workers = max((c.jobs or 0 for c in counties), default=0) or None
    corrections: dict[Path, Correction] = {}
    with contextlib.ExitStack() as locks:  # every year's folder, until its reports are done
        for item in todo:  # a second run on any of them is refused before anything is opened
            locks.enter_context(folder_lock(item[0].year_folder(item[4])))
        for year in years_of_region:
            locks.enter_context(folder_lock(region_folder(spec, year)))
        if (sure := _sure_reports(todo, force=force, only_failed=only_failed)) > 0:  # workers started
            executor.expect(notebooks, sure, workers=workers)  # while the county-years are opened

        def opening() -> Iterator[YearRun]:
            """Each county-year opened in turn (in the feed's thread), then each year's region
            summary, which reads the counties' scores saved by then."""
            data_fps: dict[int, dict[str, str]] = {}
            for county, obs, results, grades, year, wanted in todo:
                folder = county.year_folder(year)
                fix = reissue
                if correction is not None and (seal := read_published(folder)) is not None:
                    fix = corrections[folder] = begin_correction(folder, seal, correction)
                opened = open_year(county, obs, results, grades, year, schools=wanted, force=force,
                                   only_failed=only_failed, report=report, out=out, correction=fix)
                data_fps.setdefault(year, {})[county.county] = opened.data_fingerprint
                yield opened
            for year in years_of_region:
                yield open_region_year(spec, year, data_fps.get(year, {}), force=force, only_failed=only_failed,
                                       report=report)

        feed = JobFeed(opening())
        years = sorted({item[4] for item in todo})
        what = f"{spec.region} 各县报告" if region else f"{spec.county} {'、'.join(map(str, years))} 年报告".strip()
        execute_feed(feed, executor, workers=workers, progress=progress, desc=what)
        for year_run in feed.opened:
            close_year(year_run)
        for (county, obs, results, grades, _), year_run in _by_folder(scored, feed.opened):
            if year_run.folder in corrections:
                finish_correction(corrections[year_run.folder], county, year_run.folder, obs, results, grades,
                                  year_run.year, out)


def _score_counties(
    spec: RunSpec, counties: list[RunSpec], schools: list[str] | None, out: TextIO, *, correction: str | None,
    reissue: Any,
) -> list[tuple[RunSpec, Any, Results, list[str], list[int]]]:
    """Every county read, validated and scored, in turn (a county's problem stops the run, named
    with its county in a region run); each with its run years, checked for seals."""
    region = bool(spec.counties)
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
    return scored


def _sure_reports(todo: list, *, force: bool, only_failed: bool) -> int:  # type: ignore[type-arg]
    """How many reports the county-years ``todo`` will surely run, known before they are opened
    (for :meth:`~evalkit.runtime.executor.Executor.expect`): one per school of each county-year,
    when every report will run (``force``, or a year folder without a manifest yet); ``0`` when
    some may be up to date and skipped (``--only-failed``, or a manifest from an earlier run)."""
    if only_failed:
        return 0
    total = 0
    for county, _obs, results, _grades, year, wanted in todo:
        if not force and (county.year_folder(year) / MANIFEST_NAME).is_file():
            return 0
        total += len(wanted) if wanted is not None else int((results.schools["year"] == year).sum())
    return total


def _start_beside(executor: Executor, notebooks: list[Path]) -> Callable[[], BaseException | None]:
    """``executor.start(notebooks)`` in a thread; returns a function that waits for it and gives
    its error (``None``: started)."""
    import threading

    box: dict[str, BaseException] = {}

    def start() -> None:
        try:
            executor.start(notebooks)
        except BaseException as err:  # raised again by the caller, in its thread
            box["error"] = err

    thread = threading.Thread(target=start, name="evalkit-start", daemon=True)
    thread.start()

    def wait() -> BaseException | None:
        thread.join()
        return box.get("error")

    return wait


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
