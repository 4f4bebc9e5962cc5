"""The ``evalkit`` papermill engine: how one report is executed, for every executor.

Papermill does everything around the execution — loads the notebook, injects the ``parameters``
cell, prepares the papermill metadata, writes the executed notebook and raises
``PapermillExecutionError`` for a cell that raised — and hands the notebook to an *engine*
(``papermill.engines.Engine``) to run its cells. This engine runs them with papermill's own
client (``PapermillNotebookClient.execute``, the per-cell metadata and error handling of
papermill's default engine) on a kernel it gets from a *kernel source*:

- with ``kernels=<source>`` (how :class:`~evalkit.runtime.kernelpool.KernelPoolExecutor` and the
  Dask workers call it): a fresh kernel the source started and connected ahead of time (see
  :mod:`evalkit.runtime.kernelpool`); the source also decides in which thread and event loop the
  client runs, and kills the kernel afterwards. Where the source has one, the cells run instead
  in a fresh IPython shell forked without a kernel (:mod:`evalkit.runtime.shell_session`), with
  papermill's same per-cell protocol;
- without (``papermill --engine evalkit in.ipynb out.ipynb``): a kernel started for the notebook,
  talking over Unix sockets where available, shut down at once afterwards.

Either way a kernel (or shell process) runs exactly one notebook.

Registered with papermill under the name ``evalkit`` through the ``papermill.engine`` entry point
(``pyproject.toml``), and by importing this module (for an environment installed before the entry
point existed). Papermill loads its entry points while ``papermill.engines`` is first imported,
possibly from this very module: so the class is made on first access (a module ``__getattr__``),
when ``papermill.engines.Engine`` exists.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Protocol

ENGINE_NAME = "evalkit"


def __getattr__(name: str) -> Any:
    if name == "EvalkitEngine":
        return engine_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class KernelSource(Protocol):
    """Where the engine gets a started kernel: runs papermill's client ``make_client(km, kc)``
    on a fresh kernel — or ``run_in_shell(session)`` on a fresh
    :class:`~evalkit.runtime.shell_session.ShellSession` (a forked IPython shell without a
    kernel), where it has one — and returns the executed notebook (raising what they raised)."""

    def execute_with(self, kernel_name: str, make_client: Any, run_in_shell: Any) -> Any:  # pragma: no cover
        ...


@functools.cache
def engine_class() -> type:
    """The engine class ``EvalkitEngine`` (a ``papermill.engines.Engine``)."""
    from papermill.engines import Engine

    class EvalkitEngine(Engine):  # type: ignore[misc]
        """papermill engine ``evalkit`` (see :mod:`evalkit.runtime.papermill_engine`)."""

        execute_managed_notebook = classmethod(_execute_managed_notebook)

    EvalkitEngine.__module__, EvalkitEngine.__qualname__ = __name__, "EvalkitEngine"
    return EvalkitEngine


def _execute_managed_notebook(
cls: type,
    nb_man: Any,
    kernel_name: str,
    log_output: bool = False,
    stdout_file: Any = None,
    stderr_file: Any = None,
    start_timeout: float = 60,
    execution_timeout: float | None = None,
    kernels: KernelSource | None = None,
    **kwargs: Any,
) -> Any:
    """``EvalkitEngine.execute_managed_notebook``: execute ``nb_man.nb`` cell by cell with
    papermill's client. On an exception the notebook as far as it was executed is attached to it
    as ``evalkit_notebook``."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.log import logger

    options: dict[str, Any] = {
        "timeout": execution_timeout,
        "startup_timeout": start_timeout,
        "kernel_name": kernel_name,
        "log": logger,
        "log_output": log_output,
        "stdout_file": stdout_file,
        "stderr_file": stderr_file,
        "shutdown_kernel": "immediate",
    }
    try:
        if kernels is None:
            if os.name == "posix":
                from evalkit.runtime.executor import ipc_kernel_manager_class

                options["kernel_manager_class"] = ipc_kernel_manager_class()
            return PapermillNotebookClient(nb_man, **options).execute()

        def make_client(km: Any, kc: Any) -> Any:
            client = PapermillNotebookClient(nb_man, km=km, **options)
            client.kc = kc  # connected and checked while the previous report ran
            return client

        def run_in_shell(session: Any) -> Any:
            from evalkit.runtime.shell_session import run_cells

            return run_cells(nb_man, session, execution_timeout)

        return kernels.execute_with(kernel_name, make_client, run_in_shell)
    except BaseException as err:
        err.evalkit_notebook = nb_man.nb  # type: ignore[attr-defined]
        raise


def register() -> None:
    """Make ``engine_name="evalkit"`` known to papermill in this process (idempotent)."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, engine_class())


register()
