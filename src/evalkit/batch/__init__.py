"""Planning and executing the notebook runs of an annual assessment (``evalkit run``).

::

    evalkit run params/demo.yaml                       # every report of the run file
    evalkit run params/demo.yaml --schools 001,007     # only these schools' reports
    evalkit run params/demo.yaml --formats html --jobs 4 --force
    evalkit run params/demo.yaml --only-failed          # retry what failed last time
    evalkit run city.yaml --cluster tcp://10.0.0.5:8786  # on a Dask cluster (or dask-local:N)

Modules: :mod:`~evalkit.batch.runfile` (the run file), :mod:`~evalkit.batch.plan` (jobs and
paths), :mod:`~evalkit.batch.fingerprints` (what a report depends on),
:mod:`~evalkit.batch.execute` (executors, parallel runner), :mod:`~evalkit.batch.kernelpool` (the
default executor: pre-started kernels) and :mod:`~evalkit.batch.kernelfork` (kernels forked from a
warm template), :mod:`~evalkit.batch.manifest`,
:mod:`~evalkit.batch.scoreboard`, :mod:`~evalkit.batch.run` (the whole run).
"""

from __future__ import annotations

import argparse
import sys

from evalkit.batch.execute import Executor, JobResult, PapermillExecutor
from evalkit.batch.kernelpool import KernelPoolExecutor
from evalkit.batch.plan import Job
from evalkit.batch.run import EXIT_USAGE, RunError, RunReport, print_summary, run_batch
from evalkit.batch.runfile import RunFileError, RunSpec, load_run_file

__all__ = [
    "Executor",
    "Job",
    "JobResult",
    "KernelPoolExecutor",
    "PapermillExecutor",
    "RunError",
    "RunFileError",
    "RunReport",
    "RunSpec",
    "cli_run",
    "load_run_file",
    "run_batch",
]


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def cli_run(args: argparse.Namespace) -> int:
    """``evalkit run``: see the module docstring; returns the exit status."""
    try:
        spec = load_run_file(args.params)
        formats = _split(getattr(args, "formats", None))
        if getattr(args, "jobs", None) is not None and args.jobs < 1:
            raise ValueError("--jobs 至少为 1 / must be at least 1")
        from evalkit.cli import allow_kinds

        spec = spec.with_options(
            year=getattr(args, "year", None), formats=formats, jobs=getattr(args, "jobs", None),
            cluster=getattr(args, "cluster", None),
            allow=allow_kinds(args),
        )
        if getattr(args, "force", False) and getattr(args, "only_failed", False):
            raise ValueError("--force 与 --only-failed 不能同时使用 / choose one")
        report = run_batch(
            spec,
            schools=_split(getattr(args, "schools", None)),
            force=bool(getattr(args, "force", False)),
            only_failed=bool(getattr(args, "only_failed", False)),
        )
    except (RunFileError, RunError, ValueError) as err:
        print(f"错误：{err}", file=sys.stderr)
        return EXIT_USAGE
    print_summary(report)
    return report.exit_code
