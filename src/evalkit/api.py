"""The few calls a notebook cell needs: read data, score it, load saved scores.

>>> import evalkit
>>> results = evalkit.load_results(2024)            # the bundled demo county   # doctest: +SKIP
>>> results.school("001", 2024)["grade"]                                        # doctest: +SKIP
'较好'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evalkit.framework import DEFAULT_FRAMEWORK, Framework, load_framework
from evalkit.results import Results

PathLike = str | Path


def demo_inputs() -> tuple[list[Path], Path]:
    """(observation files, registry) of the bundled demo county."""
    from evalkit.demo import demo_observation_paths, demo_registry_path

    return list(demo_observation_paths()), demo_registry_path()


def score_files(
    data: Sequence[PathLike] | None = None,
    framework: PathLike | Framework = DEFAULT_FRAMEWORK,
    registry: PathLike | pd.DataFrame | None = None,
    *,
    years: Sequence[int] | None = None,
    allow: Sequence[str] | None = None,
) -> Results:
    """Read evaluators' files through intake's gate (:func:`evalkit.intake.read_validated`:
    every row validated; any error, or a score-changing warning not in ``allow``, stops with
    :class:`evalkit.intake.GateError` listing them all) and score them; with no ``data``, the
    bundled demo county (its registry too). Intake warnings are kept in ``results.flags`` so
    reports can show the data-quality notes; what was allowed is in ``results.meta["allowed"]``."""
    from evalkit.intake import read_validated
    from evalkit.intake.registry import load_registry
    from evalkit.scoring import score

    if data is None:
        data, demo_registry = demo_inputs()
        registry = demo_registry if registry is None or (isinstance(registry, str) and not registry) else registry
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    if isinstance(registry, pd.DataFrame):  # a registry already read (a template's own)
        reg: pd.DataFrame | None = registry
    else:
        reg = load_registry(registry) if registry else None
    validated = read_validated(list(data), fw, reg, allow=allow, years=years)
    intake = validated.intake
    results = score(validated, fw, reg, years=list(years) if years else None)
    results.flags = pd.concat([results.flags, intake_flags(intake)], ignore_index=True)
    results.meta["intake"] = {
        "files": [str(p) for p in data],
        "warnings": len(intake.warnings),
        "normalisations": len(intake.normalisations),
        "unused_rows": len(intake.unused_rows),
    }
    return results


def intake_flags(intake) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Intake warnings as rows of ``Results.flags`` (kind ``intake:<kind>``; a school without
    data is the scoring's own ``missing_school`` flag, with its year, and so is an allowed rate
    reading, ``rate_reading``: see :meth:`evalkit.intake.ValidatedObservations.allowed_flags`)."""
    rows = [
        {"school_id": i.school_id, "year": None, "indicator_id": i.indicator_id,
         "indicator_name": i.indicator_name, "kind": f"intake:{i.kind}", "message": i.message}
        for i in intake.warnings if i.kind not in ("no_data", "unlikely_reading")
    ]
    return pd.DataFrame(rows, columns=["school_id", "year", "indicator_id", "indicator_name", "kind", "message"])


def load_results(
    year: int | None = None,
    *,
    scores: PathLike | None = None,
    data: Sequence[PathLike] | None = None,
    framework: PathLike | Framework = DEFAULT_FRAMEWORK,
    registry: PathLike | None = None,
) -> Results:
    """Results for notebooks: read from ``scores`` (a folder saved by the batch runner) when
    given, otherwise scored now from ``data`` (default: the bundled demo county). All years up
    to ``year`` are kept, so reports can show the change from last year and trends."""
    results = _saved_results(scores) if scores else score_files(data, framework, registry)
    if year is None:
        return results
    keep = [y for y in results.years if y <= int(year)]
    if int(year) not in keep:
        raise KeyError(f"没有 {year} 年的评分结果（现有：{results.years}）/ no results for {year}")
    tables = {n: getattr(results, n) for n in ("indicators", "areas", "schools", "bonus", "vetoes", "flags")}
    nodes = None if results.nodes is None else results.nodes[results.nodes["year"].isin(keep)].reset_index(drop=True)
    return Results(**{n: t[t["year"].isin(keep)].reset_index(drop=True) for n, t in tables.items()},
                   meta={**results.meta, "year": int(year)}, extra=results.extra, nodes=nodes)


# --------------------------------------------------------------------------- preloaded saved Results

_PRELOADED: dict[str, tuple[tuple[tuple[str, int, int, int], ...], Results]] = {}


def _folder_stamp(folder: Path) -> tuple[tuple[str, int, int, int], ...]:
    """(name, size, modification time, inode) of every file of a saved Results folder."""
    stamp = []
    for path in sorted(folder.iterdir()):
        st = path.stat()
        stamp.append((path.name, st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(stamp)


def preload_results(scores: PathLike) -> bool:
    """Read the Results saved in ``scores`` now and keep them in this process: later calls of
    :func:`load_results` for that folder, while its files are unchanged, get them without reading
    it again. The batch runner's kernel template calls this once per worker before it forks the
    reports' kernels, which then share the tables (copy-on-write); nothing else preloads. Returns
    whether the folder was read (``False``: already in memory and unchanged)."""
    folder = Path(scores).resolve()
    stamp = _folder_stamp(folder)
    hit = _PRELOADED.get(str(folder))
    if hit is not None and hit[0] == stamp:
        return False
    _PRELOADED[str(folder)] = (stamp, Results.load(folder))
    return True


def _saved_results(scores: PathLike) -> Results:
    """``Results.load(scores)``, from the preloaded copy when there is one for these very files
    (shallow copies of its tables: with pandas' copy-on-write, changing them leaves the
    preloaded tables as they were)."""
    folder = Path(scores).resolve()
    hit = _PRELOADED.get(str(folder))
    if hit is not None:
        try:
            fresh = _folder_stamp(folder) == hit[0]
        except OSError:
            fresh = False
        if fresh:
            import copy

            from evalkit.results import TABLES

            kept = hit[1]
            return Results(**{n: getattr(kept, n).copy(deep=False) for n in TABLES}, meta=copy.deepcopy(kept.meta),
                           extra={n: t.copy(deep=False) for n, t in kept.extra.items()},
                           nodes=None if kept.nodes is None else kept.nodes.copy(deep=False))
    return Results.load(scores)
