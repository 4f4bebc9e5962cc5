"""Earlier years as published: a sealed year's results, read instead of rescored.

A county-year's output folder ``<output>/<year>/`` (``…/<county>/`` for a county of a region) is
*sealed* when ``record/published.json`` exists in it (written by ``evalkit publish``). Its
published results are the Results saved in its ``scores/`` folder, restricted to that year.
A later year's run reads them as they are (:func:`published_results`), so its reports state the
earlier year's totals, grades and ranks exactly as published — under the earlier year's own
framework and version (kept in their ``meta``), never rescored under this year's.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.results import Results

__all__ = ["PUBLISHED_NAME", "RECORD_DIR", "is_sealed", "published_path", "published_results"]

RECORD_DIR = "record"
PUBLISHED_NAME = "published.json"


def published_path(folder: Path) -> Path:
    """Where a year folder's seal is: ``<folder>/record/published.json``."""
    return Path(folder) / RECORD_DIR / PUBLISHED_NAME


def is_sealed(folder: Path) -> bool:
    """True when the year folder ``folder`` (:meth:`RunSpec.year_folder`) holds its seal,
    ``record/published.json`` (written by :mod:`evalkit.planner.seal`)."""
    return published_path(folder).is_file()


def published_results(folder: Path, year: int) -> Results | None:
    """The published Results of the sealed year folder ``folder`` (its ``scores/`` restricted
    to ``year``, with ``meta["framework_*"]`` and ``meta["frameworks"]`` saying the framework it
    was scored under), or ``None`` when the year is not sealed. A sealed year without saved
    scores for ``year`` raises ``FileNotFoundError`` (Chinese): a published year must keep its
    results."""
    if not is_sealed(folder):
        return None
    scores = Path(folder) / "scores"
    results = Results.load(scores).for_year(int(year))
    if results.schools.empty:
        raise FileNotFoundError(f"{scores} 中没有 {int(year)} 年的评分结果，但该年度已公布（{published_path(folder)}）"
                                f" / a sealed year without its scores")
    meta = dict(results.meta)
    frameworks = dict(meta.get("frameworks") or {})
    own = frameworks.get(str(int(year))) or {
        k: meta.get(f"framework_{k}") for k in ("id", "name", "version", "fingerprint")
    }
    meta["frameworks"] = {str(int(year)): {**own, "published": True}}
    results.meta = meta
    return results
