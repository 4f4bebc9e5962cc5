"""Deciding what ``evalkit run`` does for each county-year: the run file, the plan of jobs, what
each report depends on (fingerprints), the manifest, the output folder's paths and hygiene, and
the year lifecycle (open → select → record → close) that county and region runs share.

- :mod:`~evalkit.planner.runfile` — the run file;
- :mod:`~evalkit.planner.plan` — a year's jobs, their parameters and output paths;
- :mod:`~evalkit.planner.fingerprints` — what a report depends on, as sha256;
- :mod:`~evalkit.planner.manifest` — ``manifest.json``, written as results arrive;
- :mod:`~evalkit.planner.names`, :mod:`~evalkit.planner.confine` — safe names and paths;
- :mod:`~evalkit.planner.scores` — the run's data through the gate, scored once;
- :mod:`~evalkit.planner.year` — the year lifecycle;
- :mod:`~evalkit.planner.region` — the region summary of a city's or province's run;
- :mod:`~evalkit.planner.run` — the whole run, county or region;
- :mod:`~evalkit.planner.report` — what the run did, and the summary printed at its end.

The planner hands :class:`~evalkit.runtime.job.Job` objects to an executor of
:mod:`evalkit.runtime` and knows nothing of kernels.
"""
