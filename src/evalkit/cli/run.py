"""``evalkit run``: every report of a run file (see :mod:`evalkit.planner.run`).

::

    evalkit run params/demo.yaml                       # every report of the run file
    evalkit run params/demo.yaml --schools 001,007     # only these schools' reports
    evalkit run params/demo.yaml --formats html --jobs 4 --force
    evalkit run params/demo.yaml --only-failed          # retry what failed last time
    evalkit run city.yaml --cluster tcp://10.0.0.5:8786  # on a Dask cluster (or dask-local:N)
    evalkit run params/demo.yaml --correction "某校某项数据录入错误"   # correct a published year
"""

from __future__ import annotations

import argparse

from evalkit.cli.app import allow_kinds
from evalkit.errors import EvalkitError
from evalkit.planner.report import print_summary
from evalkit.planner.run import run_batch
from evalkit.planner.runfile import load_run_file


class RunOptionsError(EvalkitError):
    """Options of ``evalkit run`` that cannot go together."""


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def cli_run(args: argparse.Namespace) -> int:
    """``evalkit run``: see the module docstring; returns the exit status. Problems with the run
    file, the data or the options raise :class:`~evalkit.errors.EvalkitError` (printed by
    :mod:`evalkit.cli.guard` with its exit code)."""
    if getattr(args, "jobs", None) is not None and args.jobs < 1:
        raise RunOptionsError("--jobs 至少为 1 / must be at least 1")
    if getattr(args, "force", False) and getattr(args, "only_failed", False):
        raise RunOptionsError("--force 与 --only-failed 不能同时使用 / choose one")
    spec = load_run_file(args.params).with_options(
        year=getattr(args, "year", None), formats=_split(getattr(args, "formats", None)),
        jobs=getattr(args, "jobs", None), cluster=getattr(args, "cluster", None), allow=allow_kinds(args),
    )
    report = run_batch(
        spec,
        schools=_split(getattr(args, "schools", None)),
        force=bool(getattr(args, "force", False)),
        only_failed=bool(getattr(args, "only_failed", False)),
        correction=getattr(args, "correction", None),
    )
    print_summary(report)
    return report.exit_code
