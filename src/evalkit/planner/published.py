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

__all__ = ["PUBLISHED_MARK", "is_sealed", "published_results"]

PUBLISHED_MARK = Path("record") / "published.json"
"""A year folder is sealed iff this file exists in it."""


def _folder(output_root: Path, year: int, county: str = "") -> Path:
    folder = Path(output_root) / str(int(year))
    return folder / county if county else folder


def is_sealed(output_root: Path, year: int, county: str = "") -> bool:
    """True when ``<output_root>/<year>/[<county>/]record/published.json`` exists."""
    return (_folder(output_root, year, county) / PUBLISHED_MARK).is_file()


def published_results(output_root: Path, year: int, county: str = "") -> Results | None:
    """The published Results of a sealed year (its ``scores/`` restricted to ``year``, with
    ``meta["framework_*"]`` and ``meta["frameworks"]`` saying the framework it was scored
    under), or ``None`` when the year is not sealed. A sealed year without saved scores for
    ``year`` raises ``FileNotFoundError`` (Chinese): a published year must keep its results."""
    if not is_sealed(output_root, year, county):
        return None
    folder = _folder(output_root, year, county) / "scores"
    results = Results.load(folder).for_year(int(year))
    if results.schools.empty:
        raise FileNotFoundError(f"{folder} 中没有 {int(year)} 年的评分结果，但该年度已公布（{PUBLISHED_MARK}）"
                                f" / a sealed year without its scores")
    meta = dict(results.meta)
    frameworks = dict(meta.get("frameworks") or {})
    own = frameworks.get(str(int(year))) or {
        k: meta.get(f"framework_{k}") for k in ("id", "name", "version", "fingerprint")
    }
    meta["frameworks"] = {str(int(year)): {**own, "published": True}}
    results.meta = meta
    return results
