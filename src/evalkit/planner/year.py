"""The year lifecycle: one county-year (or a region's summary of a year) opened, its reports
selected, run, recorded and closed — the same steps for a county's run and a region's.

1. **open** (:func:`open_year`, :func:`open_region_year`; the caller holds the year folder's
   lock, :func:`folder_lock`): check the folder (no recorded path, no link leads outside), sweep
   what an interrupted run left (:func:`sweep`), save the scores, write the scoreboard and the
   county's documents when they are out of date, plan the reports;
2. **select** (:func:`select_jobs`): skip the reports whose manifest entry is fresh (see
   :mod:`evalkit.planner.fingerprints`), render only the missing formats of an up-to-date
   notebook; ``--force`` redoes all, ``--only-failed`` only failures;
3. **run and record** (:func:`~evalkit.planner.feed.execute_feed`): the jobs of every year go to the executor as soon
   as that year is opened (:class:`~evalkit.planner.feed.JobFeed`), all in one batch; each
   result is recorded in its own year's manifest as it arrives;
4. **close** (:func:`close_year`; :func:`interrupt_years` on Ctrl-C): the manifest marked
   finished with its counts, the folder swept.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

import evalkit
from evalkit.planner.confine import check_output_entries, check_output_folder
from evalkit.planner.fingerprints import DataFingerprints, sha256_json
from evalkit.planner.history import move_to_history
from evalkit.planner.inputs import run_inputs
from evalkit.planner.manifest import Manifest
from evalkit.planner.names import UnsafePathError
from evalkit.planner.plan import WORK_DIR, plan_year
from evalkit.planner.report import STATUS_ZH, Outcome, RunError, RunReport
from evalkit.planner.runfile import RunSpec
from evalkit.planner.scores import add_robustness, with_year_framework
from evalkit.publish.scoreboard import write_scoreboard
from evalkit.results import Results
from evalkit.runtime.job import Job, JobResult, now

SCOREBOARD = "scoreboard.xlsx"


LOCK_NAME = ".lock"


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` while the block runs (``filelock``: ``flock`` on
    POSIX, ``msvcrt.locking`` on Windows; released when the process ends, however it ends). A
    second run on the folder is refused at once; a symbolic link planted in place of the lock file
    is refused, never opened."""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    cannot = f"无法在 {folder} 中建立锁文件 {LOCK_NAME}（是否被换成了符号链接？）/ cannot lock"
    if path.is_symlink():
        raise RunError(f"{cannot}: it is a symbolic link")
    lock = FileLock(path, timeout=0, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise RunError(f"另一个 evalkit run 正在写入 {folder}，请等它结束 / another run holds this folder") from None
    except OSError as err:
        raise RunError(f"{cannot}: {err}") from None
    try:
        yield
    finally:
        lock.release()


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


def select_jobs(
    jobs: list[Job], manifest: Manifest, formats: tuple[str, ...], *, force: bool, only_failed: bool
) -> tuple[list[Job], list[tuple[Job, str]]]:
    """Split ``jobs`` into those to run now and those skipped (with the reason): a report whose
    manifest entry is fresh for every format is skipped; one whose executed notebook is fresh
    but a format is missing (``--formats pdf`` after ``html``) is only rendered; ``force`` runs
    all; ``only_failed`` only those that failed last time. A refused job always runs (it ends
    failed with its reason, without a worker)."""
    todo: list[Job] = []
    skipped: list[tuple[Job, str]] = []
    for job in jobs:
        entry = manifest.reports.get(job.key) or {}
        if only_failed:
            if entry.get("status") == "failed" or job.refused:
                todo.append(job)
            else:
                reason = "未失败（--only-failed）" if entry.get("status") == "done" else "尚未运行（--only-failed）"
                skipped.append((job, reason))
        elif force or job.refused:
            todo.append(job)
        elif not manifest.is_fresh(job.key, job.fingerprints, formats):
            render = manifest.is_fresh(job.key, job.fingerprints, ("ipynb",)) and str(
                manifest.output_paths(job.key)["ipynb"]) == str(job.outputs.get("ipynb"))
            todo.append(replace(job, render_only=True) if render else job)
        else:
            skipped.append((job, "输入未变，输出已存在 / up to date"))
    return todo, skipped


def _remove_stale(manifest: Manifest, job: Job) -> None:
    """Outputs an earlier run recorded for this report that this run will not rewrite."""
    new = {str(p) for p in job.outputs.values()}
    for path in manifest.output_paths(job.key).values():
        if str(path) not in new and path.is_file():
            path.unlink()


@dataclass
class YearRun:
    """One year's output folder opened for its reports (by :func:`open_year` or
    :func:`~evalkit.planner.region.open_region_year`, under its folder lock): the jobs still to
    run, and the outcomes of this folder, recorded in its manifest and the run's report."""

    year: int
    folder: Path
    manifest: Manifest
    report: RunReport
    workers: int | None = None
    correction: Any = None  # an evalkit.planner.correction.Correction when the run corrects a sealed year
    data_fingerprint: str = ""  # the county's data of the year (what a region summary depends on)
    runnable: list[Job] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def _add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.report.outcomes.append(outcome)

    def record(self, job: Job, result: JobResult) -> None:
        """A finished job: its manifest entry (journalled at once) and its line in the report."""
        entry = _entry(job, self.folder, result, None)
        correction = self.correction
        if correction is not None and result.status == "done":
            edition = correction.editions.get(job.key) if correction.replay else correction.edition()
            if edition:
                entry["edition"] = edition
        self.manifest.set_report(job.key, entry)
        self._add(Outcome(self.year, job, result.status, result.error or "", result.seconds))

    def take(self, jobs: list[Job], formats: tuple[str, ...], *, force: bool, only_failed: bool) -> None:
        """Select among ``jobs`` (:func:`select_jobs`): the skipped ones recorded as skipped, the
        stale outputs of the others removed, the refused ones recorded as failed; the rest
        become ``runnable``. The manifest is saved."""
        todo, skipped = select_jobs(jobs, self.manifest, formats, force=force, only_failed=only_failed)
        for job, reason in skipped:
            if job.key in self.manifest.reports:
                self.manifest.reports[job.key] = _entry(job, self.folder, None, self.manifest.reports[job.key])
            self._add(Outcome(self.year, job, "skipped", reason))
        self.manifest.save()
        correction = self.correction
        if correction is not None and not correction.replay:  # previous versions go to history/
            todo = [self._correct(job) for job in todo]
        elif correction is not None:  # a replay: each report marked as it was sealed
            todo = [replace(job, header=correction.header(job.header, correction.editions[job.key]))
                    if job.key in correction.editions else job for job in todo]
        for job in todo:
            _remove_stale(self.manifest, job)
            if job.refused:  # recorded without a worker
                self.record(job, JobResult.failure(job, job.refused))
            else:
                self.runnable.append(job)

    def _correct(self, job: Job) -> Job:
        """A report redone by a correction: its previous version's files moved to
        ``history/v<n>/`` (same relative paths), the new one marked 更正版 on its first page."""
        correction = self.correction
        for path in self.manifest.output_paths(job.key).values():
            rel = path.relative_to(self.folder).as_posix()
            if move_to_history(self.folder, rel, correction.version - 1) is not None:
                correction.moved.append(rel)
        correction.redone.append(job.key)
        return replace(job, header=correction.header(job.header), render_only=False)


def open_folder(folder: Path) -> Manifest:
    """A year's output folder made safe to work in (the caller holds its lock): nothing recorded
    in its manifest and no link in it leads outside (checked before anything is read, written or
    deleted), what an interrupted run left swept; returns its manifest."""
    try:
        check_output_entries(folder)
        manifest = Manifest.load(folder)
        check_output_folder(folder, manifest.reports)
    except UnsafePathError as err:
        raise RunError(str(err)) from None
    sweep(folder)
    return manifest


def run_block(spec: RunSpec) -> dict[str, Any]:
    """The manifest's ``run`` block of a run starting now."""
    return {
        "run_file": str(spec.source),
        "started": now(),
        "state": "running",
        "jobs": spec.jobs or os.cpu_count() or 1,
        "formats": list(spec.formats),
    }


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
    correction: Any = None,
) -> YearRun:
    """A county-year's outputs made ready (the caller holds the year folder's lock): scores saved,
    scoreboard and county documents written, the reports planned, the up-to-date ones skipped
    and recorded; returns the jobs still to run (:class:`~evalkit.planner.feed.JobFeed` orders them)."""
    folder = spec.year_folder(year)
    manifest = open_folder(folder)
    results = with_year_framework(results, year)  # meta names this year's framework
    if spec.frameworks:  # one framework per year: this year's grades
        from evalkit.framework import load_framework

        grades = load_framework(spec.framework_for(year)).grade_order
    add_robustness(spec, obs, results, year)
    results.save(folder / "scores")
    fingerprints = DataFingerprints(obs, results, year)
    board = sha256_json({"data": fingerprints.county, "grades": grades, "evalkit": evalkit.__version__})
    if manifest.data.get("scoreboard_fingerprint") != board or not (folder / SCOREBOARD).is_file():
        write_scoreboard(results, year, folder / SCOREBOARD, grades)  # costly for a province: once
    manifest.data.update(
        {
            "year": int(year),
            "evalkit_version": evalkit.__version__,
            "run": run_block(spec),
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
            "inputs": run_inputs(spec),  # what evalkit publish seals (evalkit.planner.seal)
            "issuer": spec.issuer.model_dump(mode="json") if spec.issuer is not None else None,
            "issue_date": spec.issuer.issue_date().isoformat() if spec.issuer is not None else None,
        }
    )
    if schools is None:
        _county_documents(spec, obs, results, grades, year, folder, manifest, fingerprints.county, out, correction)
    plan = plan_year(spec, results, fingerprints, year, schools=schools)
    opened = YearRun(int(year), folder, manifest, report, workers=spec.jobs, data_fingerprint=fingerprints.county,
                     correction=correction)
    opened.take(plan.jobs, spec.formats, force=force, only_failed=only_failed)
    return opened


def interrupt_years(opened: list[YearRun]) -> None:
    """Mark opened years interrupted (what finished is kept and recorded) and sweep them."""
    for year_run in opened:
        sweep(year_run.folder)
        year_run.manifest.data["run"].update({"state": "interrupted", "finished": now()})
        year_run.manifest.save()


def close_year(year_run: YearRun) -> None:
    """Mark a year's run finished in its manifest, with its counts, and sweep its folder."""
    counts = {s: sum(o.status == s for o in year_run.outcomes) for s in STATUS_ZH}
    year_run.manifest.data["run"].update({"state": "finished", "finished": now(), "counts": counts})
    year_run.manifest.save()
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
    correction: Any = None,
) -> None:
    """The notice and publicity list of the year (:mod:`evalkit.publish.documents.county`), unless the run
    file asks for neither or they are up to date (recorded as ``documents`` in the manifest)."""
    if spec.issuer is None or (spec.notice is None and spec.publicity is None):
        return
    from evalkit.publish.documents.compose import DocumentTemplateError
    from evalkit.publish.documents.county import documents_fingerprint, write_county_documents
    from evalkit.publish.documents.workdays import WorkdayCalendarError
    from evalkit.publish.pandoc import PandocError

    mark = correction.document_mark() if correction is not None else None
    fp = documents_fingerprint(spec, data_fingerprint, grades, correction=mark)
    recorded = manifest.data.get("documents") or {}
    if recorded.get("fingerprint") == fp and all((folder / p).is_file() for p in recorded.get("outputs", {}).values()):
        return
    if correction is not None and not correction.replay:  # the documents as first issued: history/v<n>/
        for rel in (recorded.get("outputs") or {}).values():
            correction.keep_previous(folder, rel)
    sources = obs.loc[obs["year"] == int(year), "source"].dropna().astype(str).unique() if "source" in obs else []
    try:
        written = write_county_documents(spec, results, grades, year, folder / "county", sources=sources,
                                         correction=mark)
    except (DocumentTemplateError, PandocError, WorkdayCalendarError) as err:
        raise RunError(str(err)) from None
    issue_date = mark["date"] if mark else spec.issuer.issue_date().isoformat()
    manifest.data["documents"] = {
        "fingerprint": fp,
        "issue_date": issue_date,
        "outputs": {name: path.relative_to(folder).as_posix() for name, path in written.items()},
    }
    print(f"已生成通报和公示名单 / notice and publicity list: {', '.join(p.name for p in written.values())}",
          file=out or sys.stdout, flush=True)
