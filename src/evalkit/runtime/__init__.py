"""Running notebooks, knowing nothing of counties: a :class:`~evalkit.runtime.job.Job` in, a
:class:`~evalkit.runtime.job.JobResult` out.

- :mod:`~evalkit.runtime.job` — ``Job`` and ``JobResult`` (a leaf: plain data);
- :mod:`~evalkit.runtime.executor` — the :class:`~evalkit.runtime.executor.Executor` interface
  (``start``, ``run_jobs``, ``close``; a context manager) and the papermill executor;
- :mod:`~evalkit.runtime.render_job` — executing one job and writing its formats atomically;
- :mod:`~evalkit.runtime.processes` — the local worker processes that run jobs in parallel;
- :mod:`~evalkit.runtime.kernelpool` — the default executor: pre-started kernels;
  :mod:`~evalkit.runtime.kernelfork` — kernels forked from a warm template;
- :mod:`~evalkit.runtime.papermill_engine` — ``papermill --engine evalkit``;
- :mod:`~evalkit.runtime.choice` — which executor a run asked for, and building it
  (``distributed`` is imported only when a Dask executor is chosen);
- :mod:`~evalkit.runtime.dask_executor` — the reports on a Dask cluster.
"""
