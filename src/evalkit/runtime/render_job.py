"""Executing one job and writing what it asks for: the part every executor shares.

Files: the notebook is executed into the job's hidden work folder (``job.work_dir``); HTML, PDF
and Word (``.docx``, from the same HTML: :mod:`evalkit.publish.pandoc`) are rendered in memory
and written atomically (:mod:`evalkit.io.atomic`), and the executed notebook is then renamed to
its final name. A failed notebook is kept, with its error, as ``<stem>.failed.ipynb`` beside the
report, and the report's previous outputs (now stale) are removed. Nothing is ever left
half-written under a final name.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from evalkit.io.atomic import atomic_write_bytes, atomic_write_text
from evalkit.runtime.job import Job, JobResult, now


def describe_error(err: BaseException, job: Job) -> str:
    """A one-paragraph Chinese (and English) description of why a notebook failed."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        return (
            f"第 {err.exec_count} 个执行单元格出错 / cell {err.exec_count} raised "
            f"{err.ename}: {err.evalue}".strip()
        )
    if isinstance(err, CellTimeoutError):
        return (
            f"单元格运行超过 {job.cell_timeout:g} 秒，已终止内核 / a cell timed out after "
            f"{job.cell_timeout:g} s and its kernel was killed"
        )
    if isinstance(err, DeadKernelError):
        return f"内核意外退出 / the kernel died: {err}"
    return f"{type(err).__name__}: {err}"


def _remove(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:  # a folder in the way: the job's own failure says what went wrong
            pass


ExecuteFn = Callable[[Job, Path, dict[str, float]], None]
"""Executes ``job``'s notebook and writes the executed notebook to the given work path, adding
its timings (seconds) to the dict; raises for a failing notebook (leaving at the work path what
was executed, if anything)."""


def run_and_render(job: Job, execute: ExecuteFn) -> JobResult:
    """The part every executor shares: execute with ``execute`` into a work file under the
    year's ``.work/`` folder, render and write the outputs, and turn any failure into a result
    (the executed notebook kept as ``<stem>.failed.ipynb``, stale outputs removed).

    Timings (seconds, in ``JobResult.timings``): ``execute`` (to an executed notebook, kernel
    start included when it is on the critical path), ``html``, ``pdf``, ``write`` (the files),
    and whatever ``execute`` adds (``kernel_start``, ``kernel_wait``, ``cells``)."""
    started, t0 = now(), time.monotonic()
    if job.refused:
        return JobResult.failure(job, job.refused, started)
    assert job.work_dir is not None and job.failed_notebook is not None
    job.work_dir.mkdir(parents=True, exist_ok=True)
    work = job.work_dir / f"{uuid.uuid4().hex}.ipynb"
    timings: dict[str, float] = {}
    try:
        try:
            if job.render_only:  # the executed notebook is up to date: only render it
                written = _render_and_write(job, job.outputs["ipynb"], timings, move=False)
            else:
                execute(job, work, timings)
                timings["execute"] = round(time.monotonic() - t0, 3)
                written = _render_and_write(job, work, timings)
        except Exception as err:  # every failure becomes a result
            error = describe_error(err, job)
            kept = _keep_failed(work, job.failed_notebook, error, err) if work.exists() else None
            _remove(list(job.outputs.values()))
            return JobResult(
                key=job.key,
                status="failed",
                started=started,
                finished=now(),
                seconds=round(time.monotonic() - t0, 3),
                failed_notebook=kept,
                error=error,
                timings=timings,
            )
    finally:
        work.unlink(missing_ok=True)
    _remove([job.failed_notebook])
    return JobResult(
        key=job.key,
        status="done",
        started=started,
        finished=now(),
        seconds=round(time.monotonic() - t0, 3),
        outputs=written,
        timings=timings,
    )


def cell_seconds(nb: object) -> float:
    """Seconds the cells of an executed notebook took (papermill's per-cell ``duration``)."""
    total = 0.0
    for cell in getattr(nb, "cells", []):
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if isinstance(duration, (int, float)):
            total += duration
    return round(total, 3)


def _keep_failed(work: Path, target: Path, error: str, err: BaseException) -> str:
    """Keep the executed notebook of a failed job as ``target``, with the error on top (papermill
    adds its own error cell for exceptions raised by a cell; timeouts and dead kernels get ours)."""
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(err, PapermillExecutionError):
        import nbformat

        nb = nbformat.read(work, as_version=4)
        note = nbformat.v4.new_markdown_cell(
            f"**evalkit run：本报告执行失败 / this report failed**\n\n{error}"
        )
        note.metadata["tags"] = ["evalkit-error"]
        nb.cells.insert(0, note)
        nbformat.write(nb, work)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(work, target)
    return str(target)


def _render_and_write(job: Job, work: Path, timings: dict[str, float], move: bool = True) -> dict[str, str]:
    """Render the executed notebook at ``work`` to the requested formats and (``move``) rename it
    to its final name; return the written paths by format."""
    html = pdf = docx = None
    if "html" in job.outputs or "pdf" in job.outputs or "docx" in job.outputs:
        import nbformat

        from evalkit.publish.render import html_to_pdf_bytes, notebook_to_html

        t = time.monotonic()
        nb = nbformat.read(work, as_version=4)
        html = notebook_to_html(nb, title=job.title, header=job.header, path=job.notebook.parent)
        timings["html"] = round(time.monotonic() - t, 3)
        if "pdf" in job.outputs:
            t = time.monotonic()
            pdf = html_to_pdf_bytes(html, header_left=job.header_left, header_right=job.header_right)
            timings["pdf"] = round(time.monotonic() - t, 3)
        if "docx" in job.outputs:
            from evalkit.publish.pandoc import html_to_docx_bytes

            t = time.monotonic()
            docx = html_to_docx_bytes(html, template=job.docx_template or None)
            timings["docx"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    written: dict[str, str] = {}
    if html is not None and "html" in job.outputs:
        written["html"] = str(atomic_write_text(job.outputs["html"], html))
    if pdf is not None:
        written["pdf"] = str(atomic_write_bytes(job.outputs["pdf"], pdf))
    if docx is not None:
        written["docx"] = str(atomic_write_bytes(job.outputs["docx"], docx))
    target = job.outputs["ipynb"]
    if move:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work, target)
    written["ipynb"] = str(target)
    timings["write"] = round(time.monotonic() - t, 3)
    return written
