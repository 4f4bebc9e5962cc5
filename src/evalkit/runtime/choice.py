"""Which executor a run asked for (``executor:`` in the run file, ``--cluster``).

Parsing the choice imports nothing of the executors: ``distributed`` is imported only when a Dask
executor is made (:func:`evalkit.planner.run.make_executor`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from evalkit.errors import EvalkitError


class ExecutorChoiceError(EvalkitError):
    """An executor the run cannot have: unknown, or ``dask`` without a scheduler address."""


@dataclass(frozen=True)
class ExecutorChoice:
    """``local`` (the kernel pool), ``dask`` (a scheduler at ``address``) or ``dask-local``
    (a ``LocalCluster`` of ``workers`` processes)."""

    kind: str
    address: str | None = None
    workers: int | None = None

    def __str__(self) -> str:
        if self.kind == "dask":
            return self.address or "dask"
        if self.kind == "dask-local":
            return f"dask-local:{self.workers}"
        return "local"


_LOCAL_N = re.compile(r"^dask-local(?::(\d+))?$")


def parse_executor(text: str, scheduler: str | None = None) -> ExecutorChoice:
    """``local`` | ``dask`` (with ``scheduler``) | ``tcp://host:8786`` (or ``tls://``) |
    ``dask-local:N``. Raises :class:`ExecutorChoiceError` (Chinese and English) for anything else."""
    value = (text or "local").strip()
    if value == "local":
        return ExecutorChoice("local")
    if value.startswith(("tcp://", "tls://", "ucx://")):
        return ExecutorChoice("dask", address=value)
    if value == "dask":
        if not scheduler:
            raise ExecutorChoiceError(
                "executor: dask 需要调度器地址（scheduler: tcp://主机:8786）/ dask needs a scheduler address"
            )
        return parse_executor(scheduler)
    m = _LOCAL_N.match(value)
    if m:
        n = int(m.group(1) or os.cpu_count() or 1)
        if n < 1:
            raise ExecutorChoiceError("dask-local:N 的 N 至少为 1 / N must be at least 1")
        return ExecutorChoice("dask-local", workers=n)
    raise ExecutorChoiceError(
        f"无法识别的执行方式“{value}”（可选 local、dask-local:N、tcp://主机:8786）/ unknown executor"
    )
