"""``evalkit run``: score once, then plan, execute and record every report of the run file.

Per run year, in ``<output>/<year>/``:

1. take the folder's lock (a second ``evalkit run`` on the same folder is refused) and sweep
   what an interrupted run may have left (the ``.work/`` folder, hidden temporary files);
2. save the Results of the whole data (every year, scored once per run) to ``scores/``, and
   write ``scoreboard.xlsx`` (unless the county's data fingerprint, the grades and the evalkit
   version are those it was written with, recorded as ``scoreboard_fingerprint`` in the manifest);
3. plan the jobs and skip those whose manifest entry is fresh (see
   :mod:`evalkit.batch.fingerprints`); ``--force`` redoes all, ``--only-failed`` only failures;
4. execute the rest in parallel, recording each in the manifest as it finishes (journal line at
   once, ``manifest.json`` rewritten about once a second, see :mod:`evalkit.batch.manifest`);
5. print a summary table (完成 / 跳过 / 失败 with the reason).

Exit status: 0 when nothing failed, 1 when a report failed, 2 for a problem with the run
file, the data or the options, 130 when interrupted.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

import evalkit
from evalkit.batch.confine import check_output_entries, check_output_folder
from evalkit.batch.execute import Executor, JobResult, run_jobs
from evalkit.batch.fingerprints import DataFingerprints, sha256_json
from evalkit.batch.kernelpool import KernelPoolExecutor
from evalkit.batch.manifest import Manifest, now
from evalkit.batch.names import UnsafePathError, display
from evalkit.batch.plan import WORK_DIR, Job, Plan, plan_year
from evalkit.batch.runfile import RunSpec
from evalkit.batch.scoreboard import write_scoreboard
from evalkit.errors import EvalkitError
from evalkit.results import Results

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SCOREBOARD = "scoreboard.xlsx"
STATUS_ZH = {"done": "完成", "skipped": "跳过", "failed": "失败"}


class RunError(EvalkitError):
    """A problem that stops the run before any report (bad data, unknown school, locked folder)."""


@dataclass
class Outcome:
    """One report's line in the summary."""

    year: int
    job: Job
    status: str  # done | skipped | failed
    reason: str = ""
    seconds: float | None = None


@dataclass
class RunReport:
    """What a run did: one :class:`Outcome` per planned report."""

    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.count("failed") else EXIT_OK


# --------------------------------------------------------------------------- folder hygiene


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (released when the process ends, however it ends)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    try:  # O_NOFOLLOW: never open a symbolic link planted in place of the lock file
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as err:
        raise RunError(f"无法在 {folder} 中建立锁文件 .lock（是否被换成了符号链接？）/ cannot lock: {err}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(
                f"另一个 evalkit run 正在写入 {folder}，请等它结束 / another run holds this folder"
            ) from None
        yield
    finally:
        os.close(fd)


def sweep(folder: Path) -> list[Path]:
    """Remove what an interrupted run may have left in a year's folder: the ``.work/`` folder,
    hidden temporary files of atomic writes, and temporary copies of ``scores/``."""
    removed: list[Path] = []
    work = folder / WORK_DIR
    if work.is_symlink():  # a link in place of .work: remove the link, never what it points to
        work.unlink()
        removed.append(work)
    elif work.exists():
        shutil.rmtree(work, ignore_errors=True)
        removed.append(work)
    candidates = [folder, folder / "county", *(p for p in (folder / "schools").glob("*") if p.is_dir())]
    for d in candidates:
        if not d.is_dir() or (d != folder and d.is_symlink()):  # never sweep through a link
            continue
        for p in d.iterdir():
            name = p.name
            if p.is_symlink():
                continue
            if p.is_file() and name.startswith(".") and ".tmp" in name:
                p.unlink(missing_ok=True)
                removed.append(p)
            elif p.is_dir() and name.startswith(".scores."):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


# --------------------------------------------------------------------------- scoring


def score_run(spec: RunSpec, out: TextIO | None = None) -> tuple[pd.DataFrame, Results, list[str]]:
    """Read the run's data through intake's gate (any error, or a score-changing warning the
    run file's ``allow`` does not list, stops the run with the complete list; what is allowed
    is printed; warnings go into ``Results.flags``) and score it once (all years); return
    (observations, Results, grade order)."""
    from evalkit.api import intake_flags
    from evalkit.framework import FrameworkError, load_framework
    from evalkit.intake import read_validated
    from evalkit.intake.result import IntakeError
    from evalkit.observations import ObservationsError, coerce_observations
    from evalkit.registry import CountyRegistryError, RegistryError
    from evalkit.scoring import score

    try:
        fw = load_framework(spec.framework)
        registry = None
        if spec.registry is not None:
            from evalkit.registry import county_registry, load_registry

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
    except (FrameworkError, ObservationsError, IntakeError, RegistryError, CountyRegistryError) as err:
        raise RunError(str(err)) from None
    except (OSError, ValueError) as err:
        raise RunError(f"无法读取数据 / cannot read the data: {err}") from None
    return obs, results, fw.grade_order


def shared_registry(path: Path) -> pd.DataFrame:
    """A registry shared by a region's counties, read once per run (not once per county) while
    the file is unchanged."""
    st = path.stat()
    return _read_shared_registry(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _read_shared_registry(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    """Like :func:`evalkit.registry.load_registry`, but without a 县区 column that is the one
    error reported (its ids would otherwise all read as duplicates across counties)."""
    from evalkit.registry import COUNTY, RegistryError, county_registry, read_registry

    frame, issues = read_registry(path)
    if frame is not None and COUNTY not in frame.columns:
        county_registry(frame, "", path)  # raises: no county column
    if frame is None or any(i.is_error for i in issues):
        raise RegistryError(issues)
    frame.attrs["issues"] = [i for i in issues if not i.is_error]
    return frame


def _add_robustness(spec: RunSpec, obs: pd.DataFrame, results: Results, year: int) -> None:
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


# --------------------------------------------------------------------------- one year


def _entry(
    job: Job, folder: Path, result: JobResult | None, previous: dict[str, Any] | None
) -> dict[str, Any]:
    def rel(p: str | Path | None) -> str | None:
        if p is None:
            return None
        try:
            return Path(p).relative_to(folder).as_posix()
        except ValueError:
            return str(p)

    entry: dict[str, Any] = {
        "kind": job.kind,
        "school_id": job.school_id,
        "school_name": job.school_name,
        "year": job.year,
        "notebook": str(job.notebook),
        "parameters": job.parameters,
        "fingerprints": job.fingerprints,
    }
    if result is None:  # skipped: keep what the earlier run recorded
        return {**(previous or {}), **entry, "last_run": "skipped"}
    entry.update(
        {
            "status": result.status,
            "last_run": result.status,
            "started": result.started,
            "finished": result.finished,
            "seconds": result.seconds,
            "timings": result.timings,
            "outputs": {fmt: rel(p) for fmt, p in result.outputs.items()},
            "failed_notebook": rel(result.failed_notebook),
            "error": result.error,
        }
    )
    return entry


def _select(
    plan: Plan,
    manifest: Manifest,
    formats: tuple[str, ...],
    force: bool,
    only_failed: bool,
) -> list[Outcome]:
    """Split ``plan.jobs`` into ``plan.todo`` and skipped outcomes."""
    skipped: list[Outcome] = []
    for job in plan.jobs:
        entry = manifest.reports.get(job.key) or {}
        if only_failed:
            if entry.get("status") == "failed" or job.refused:
                plan.todo.append(job)
            else:
                reason = (
                    "未失败（--only-failed）"
                    if entry.get("status") == "done"
                    else "尚未运行（--only-failed）"
                )
                skipped.append(Outcome(plan.year, job, "skipped", reason))
        elif force or job.refused:
            plan.todo.append(job)
        elif not manifest.is_fresh(job.key, job.fingerprints, formats):
            # executed notebook up to date, only a format missing (e.g. --formats pdf after html)
            render = manifest.is_fresh(job.key, job.fingerprints, ("ipynb",)) and str(
                manifest.output_paths(job.key)["ipynb"]) == str(job.outputs.get("ipynb"))
            plan.todo.append(replace(job, render_only=True) if render else job)
        else:
            skipped.append(Outcome(plan.year, job, "skipped", "输入未变，输出已存在 / up to date"))
    return skipped


def _remove_stale(manifest: Manifest, job: Job) -> None:
    """Outputs an earlier run recorded for this report that this run will not rewrite."""
    new = {str(p) for p in job.outputs.values()}
    for path in manifest.output_paths(job.key).values():
        if str(path) not in new and path.is_file():
            path.unlink()


@dataclass
class YearRun:
    """One county-year opened for its reports (by :func:`open_year`, under its folder lock): the
    jobs still to run and how to record each result in its manifest and the run's report."""

    spec: RunSpec
    year: int
    folder: Path
    manifest: Manifest
    runnable: list[Job]
    record: Callable[[Job, JobResult], None]


def run_year(
    spec: RunSpec,
    obs: pd.DataFrame,
    results: Results,
    grades: list[str],
    year: int,
    *,
    executor: Executor,
    schools: list[str] | None,
    force: bool,
    only_failed: bool,
    progress: bool,
    report: RunReport,
    out: TextIO | None = None,
) -> None:
    """Everything for one run year (see the module docstring), appending to ``report``."""
    with folder_lock(spec.year_folder(year)):
        opened = open_year(spec, obs, results, grades, year, schools=schools, force=force, only_failed=only_failed,
                           report=report, out=out)
        execute_years([opened], executor, progress=progress, desc=f"{spec.county} {year} 年报告".strip())
        close_year(opened, report)


def open_year(
    spec: RunSpec,
    obs: pd.DataFrame,
    results: Results,
    grades: list[str],
    year: int,
    *,
    schools: list[str] | None,
    force: bool,
    only_failed: bool,
    report: RunReport,
    out: TextIO | None = None,
) -> YearRun:
    """A year's outputs made ready (the caller holds the year folder's lock): scores saved,
    scoreboard and county documents written, the reports planned, the up-to-date ones skipped
    and recorded; returns the jobs still to run (:func:`execute_years` orders them)."""
    folder = spec.year_folder(year)
    try:  # before anything is read, written or deleted: no recorded path, no link leads outside
        check_output_entries(folder)
        manifest = Manifest.load(folder)
        check_output_folder(folder, manifest.reports)
    except UnsafePathError as err:
        raise RunError(str(err)) from None
    sweep(folder)
    _add_robustness(spec, obs, results, year)
    results.save(folder / "scores")
    fingerprints = DataFingerprints(obs, results, year)
    board = sha256_json({"data": fingerprints.county, "grades": grades, "evalkit": evalkit.__version__})
    if manifest.data.get("scoreboard_fingerprint") != board or not (folder / SCOREBOARD).is_file():
        write_scoreboard(results, year, folder / SCOREBOARD, grades)  # ~30 s for 5,000 schools
    manifest.data.update(
        {
            "year": int(year),
            "evalkit_version": evalkit.__version__,
            "run": {
                "run_file": str(spec.source),
                "started": now(),
                "state": "running",
                "jobs": spec.jobs or os.cpu_count() or 1,
                "formats": list(spec.formats),
            },
            "scores": {
                "path": "scores",
                **{
                    k: results.meta.get(k)
                    for k in (
                        "framework_id",
                        "framework_version",
                        "framework_fingerprint",
                        "data_fingerprint",
                        "evalkit_version",
                        "years",
                    )
                },
            },
            "scoreboard": SCOREBOARD,
            "scoreboard_fingerprint": board,
        }
    )
    if schools is None:
        _county_documents(spec, obs, results, grades, year, folder, manifest, fingerprints.county, out)
    plan = plan_year(spec, results, fingerprints, year, schools=schools)
    skipped = _select(plan, manifest, spec.formats, force, only_failed)
    for outcome in skipped:
        if outcome.job.key in manifest.reports:
            manifest.reports[outcome.job.key] = _entry(
                outcome.job, folder, None, manifest.reports[outcome.job.key]
            )
    report.outcomes.extend(skipped)
    manifest.save()
    for job in plan.todo:
        _remove_stale(manifest, job)

    def record(job: Job, result: JobResult) -> None:
        manifest.set_report(job.key, _entry(job, folder, result, None))
        reason = result.error or ""
        report.outcomes.append(Outcome(year, job, result.status, reason, result.seconds))

    # refused jobs are recorded without a worker
    runnable = []
    for job in plan.todo:
        if job.refused:
            record(job, JobResult.failure(job, job.refused))
        else:
            runnable.append(job)
    return YearRun(spec, int(year), folder, manifest, runnable, record)


def execute_years(opened: list[YearRun], executor: Executor, *, progress: bool, desc: str) -> None:
    """Run the jobs of every opened county-year in one go on ``executor`` (so a cluster's workers
    go from one county to the next without waiting for a county's last report), recording each
    result in its own manifest. On ``KeyboardInterrupt`` each manifest is marked interrupted and
    the interrupt propagates."""
    owner = {id(job): year_run for year_run in opened for job in year_run.runnable}
    runnable = [job for year_run in opened for job in year_run.runnable]
    # longest first: the county summaries and audits, then schools in id order
    runnable.sort(key=lambda j: j.kind not in ("county_summary", "framework_audit"))

    def record(job: Job, result: JobResult) -> None:
        owner[id(job)].record(job, result)

    def tick() -> None:
        for year_run in opened:
            year_run.manifest.save_if_due()

    try:
        own_runner = getattr(executor, "run_jobs", None)  # e.g. the Dask executor
        if own_runner is not None:
            own_runner(runnable, record, progress=progress, desc=desc, tick=tick)
        else:
            jobs = max((yr.spec.jobs or 0) for yr in opened) if opened else 0
            run_jobs(runnable, executor, jobs or os.cpu_count() or 1, record, progress=progress, desc=desc, tick=tick)
    except KeyboardInterrupt:
        interrupt_years(opened)
        raise


def interrupt_years(opened: list[YearRun]) -> None:
    """Mark opened county-years interrupted (what finished is kept and recorded) and sweep them."""
    for year_run in opened:
        sweep(year_run.folder)
        year_run.manifest.data["run"].update({"state": "interrupted", "finished": now()})
        year_run.manifest.save()


def close_year(year_run: YearRun, report: RunReport) -> None:
    """Mark a county-year's run finished in its manifest, with its counts, and sweep its folder."""
    year, manifest = year_run.year, year_run.manifest
    mine = [o for o in report.outcomes if o.year == year and o.job.outputs
            and next(iter(o.job.outputs.values())).is_relative_to(year_run.folder)]
    counts = {s: sum(o.status == s for o in mine) for s in STATUS_ZH}
    manifest.data["run"].update({"state": "finished", "finished": now(), "counts": counts})
    manifest.save()
    sweep(year_run.folder)


def _county_documents(
    spec: RunSpec,
    obs: pd.DataFrame,
    results: Results,
    grades: list[str],
    year: int,
    folder: Path,
    manifest: Manifest,
    data_fingerprint: str,
    out: TextIO | None,
) -> None:
    """The notice and publicity list of the year (:mod:`evalkit.documents.county`), unless the run
    file asks for neither or they are up to date (recorded as ``documents`` in the manifest)."""
    if spec.issuer is None or (spec.notice is None and spec.publicity is None):
        return
    from evalkit.documents.compose import DocumentTemplateError
    from evalkit.documents.county import documents_fingerprint, write_county_documents
    from evalkit.documents.pandoc import PandocError

    fp = documents_fingerprint(spec, data_fingerprint, grades)
    recorded = manifest.data.get("documents") or {}
    if recorded.get("fingerprint") == fp and all((folder / p).is_file() for p in recorded.get("outputs", {}).values()):
        return
    sources = obs.loc[obs["year"] == int(year), "source"].dropna().astype(str).unique() if "source" in obs else []
    try:
        written = write_county_documents(spec, results, grades, year, folder / "county", sources=sources)
    except (DocumentTemplateError, PandocError) as err:
        raise RunError(str(err)) from None
    manifest.data["documents"] = {
        "fingerprint": fp,
        "outputs": {name: path.relative_to(folder).as_posix() for name, path in written.items()},
    }
    print(f"已生成通报和公示名单 / notice and publicity list: {', '.join(p.name for p in written.values())}",
          file=out or sys.stdout, flush=True)


# --------------------------------------------------------------------------- whole run


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
) -> RunReport:
    """Run every report of ``spec``; return what happened (raises :class:`RunError` for
    problems found before any report runs). Ctrl-C / SIGTERM end the run cleanly with
    ``report.interrupted`` set: finished reports are kept and recorded, nothing partial is left."""
    out = out or sys.stdout
    t0 = time.monotonic()
    report = RunReport()
    own_executor = executor is None
    executor = executor or make_executor(spec, out=out)
    previous = signal.getsignal(signal.SIGTERM)
    in_main = _is_main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, _sigterm)
    try:
        if spec.counties:  # a city's or a province's run: county by county, then the region summary
            from evalkit.batch.region import run_region

            run_region(spec, executor=executor, schools=schools, force=force, only_failed=only_failed,
                       progress=progress, report=report, out=out)
            return _finished(report, t0)
        if spec.issuer is None:
            print(NO_ISSUER_WARNING, file=out, flush=True)
        print(f"评分中：{len(spec.data)} 个数据文件…", file=out, flush=True)
        obs, results, grades = score_run(spec, out)
        years = _years(spec, results)
        _check_schools(results, years, schools)
        print(
            f"评分完成（{time.monotonic() - t0:.1f} 秒）：{len(results.schools)} 个学校年度，"
            f"年度 {', '.join(map(str, results.years))}",
            file=out,
            flush=True,
        )
        start_executor(executor, list(spec.notebooks.values()))
        for year in years:
            run_year(
                spec,
                obs,
                results,
                grades,
                year,
                executor=executor,
                schools=schools,
                force=force,
                only_failed=only_failed,
                progress=progress,
                report=report,
                out=out,
            )
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        if own_executor:
            close_executor(executor)
    report.seconds = time.monotonic() - t0
    return report


def _finished(report: RunReport, t0: float) -> RunReport:
    report.seconds = time.monotonic() - t0
    return report


def make_executor(spec: RunSpec, out: TextIO | None = None) -> Executor:
    """The run file's executor (``executor:``/``--cluster``): the kernel pool, or Dask."""
    from evalkit.batch.cluster import parse_executor

    choice = parse_executor(spec.executor)
    if choice.kind == "local":
        return KernelPoolExecutor()
    from evalkit.batch.cluster import DaskExecutor

    return DaskExecutor(choice, shared_output=spec.shared_output, out=out)


def start_executor(executor: Executor, notebooks: list[Path]) -> None:
    """Connect an executor that has a cluster behind it and check its workers (before any report);
    its problems stop the run (:class:`RunError`)."""
    start = getattr(executor, "start", None)
    if start is None:
        return
    try:
        start(notebooks)
    except (RuntimeError, OSError, TimeoutError) as err:
        raise RunError(str(err)) from None


def close_executor(executor: Executor) -> None:
    close = getattr(executor, "close", None)
    if close is not None:
        close()


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt("SIGTERM")


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# --------------------------------------------------------------------------- summary


def summary_table(report: RunReport) -> pd.DataFrame:
    """The closing summary: 年度, 状态, 报告, 用时（秒）, 说明."""
    rows = [
        {
            "年度": o.year,
            "状态": STATUS_ZH[o.status],
            "报告": o.job.label,
            "用时（秒）": f"{o.seconds:.1f}" if o.seconds is not None and o.status != "skipped" else "",
            "说明": display(o.reason),
        }
        for o in sorted(
            report.outcomes, key=lambda o: (o.year, o.status != "failed", o.job.kind, o.job.school_id)
        )
    ]
    return pd.DataFrame(rows, columns=["年度", "状态", "报告", "用时（秒）", "说明"])


def print_summary(report: RunReport, out: TextIO | None = None) -> None:
    """Print the summary table and the counts."""
    out = out or sys.stdout
    table = summary_table(report)
    if len(table):
        with pd.option_context(
            "display.max_rows",
            None,
            "display.width",
            200,
            "display.max_colwidth",
            120,
            "display.unicode.east_asian_width",
            True,
        ):
            print(table.to_string(index=False), file=out)
    print(
        f"\n完成 {report.count('done')} 份，跳过 {report.count('skipped')} 份，"
        f"失败 {report.count('failed')} 份（共用时 {report.seconds:.1f} 秒）",
        file=out,
    )
    if report.interrupted:
        print(
            "运行已中断：已完成的报告均已保存，重新运行同一命令即可继续",
            file=out,
        )
    elif report.count("failed"):
        print("有报告失败：修正后可用 --only-failed 只重跑失败的报告", file=out)
