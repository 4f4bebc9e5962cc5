"""What the runtime is given and what it gives back: a :class:`Job` (one notebook to execute and
render) and its :class:`JobResult`. Plain, picklable data; this module imports nothing of evalkit.

The planner (:mod:`evalkit.planner.plan`) makes the jobs: it decides parameters, output paths,
titles and the ``label`` shown while the job runs. An executor (:mod:`evalkit.runtime.executor`)
turns each into a result and never raises for a failing notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


def now() -> str:
    """Local time, ISO 8601 with offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Job:
    """One notebook to execute and render (picklable: it is sent to a worker process).

    ``outputs`` maps each format (``ipynb``, ``html``, ``pdf``, ``docx``) to its final path;
    ``refused`` (set by the planner) means the job is never executed and ends failed with that
    reason; ``render_only`` means the executed notebook at ``outputs["ipynb"]`` is up to date and
    only the other formats are written."""

    key: str
    kind: str
    school_id: str
    school_name: str
    year: int
    notebook: Path
    parameters: dict[str, Any]
    fingerprints: dict[str, str]
    outputs: dict[str, Path] = field(default_factory=dict)
    failed_notebook: Path | None = None
    work_dir: Path | None = None
    title: str = ""
    header: str = ""
    header_left: str = ""
    header_right: str = ""
    cell_timeout: float | None = None
    start_timeout: float = 60
    refused: str | None = None
    render_only: bool = False
    docx_template: str = ""  # the Word reference document ("": the shipped one)
    label: str = ""  # who the job is for, printable: ``001 城关一小（学校报告）``
    priority: int = 0  # higher first where an executor chooses the order (the dearer reports first)


@dataclass
class JobResult:
    """How one job ended: ``status`` is ``done`` or ``failed`` (with ``error``)."""

    key: str
    status: str
    started: str
    finished: str
    seconds: float
    outputs: dict[str, str] = field(default_factory=dict)
    failed_notebook: str | None = None
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def failure(cls, job: Job, error: str, started: str | None = None, seconds: float = 0.0) -> JobResult:
        """A failed result that produced nothing."""
        return cls(
            key=job.key,
            status="failed",
            started=started or now(),
            finished=now(),
            seconds=seconds,
            error=error,
        )
