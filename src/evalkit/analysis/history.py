"""Whether a school without earlier results is new, or only new to evalkit.

"首次参评" (first assessment) is true only for a school whose first year in the registry
(``active_from``) is the report's year — or, when the registry gives no start year (or there
is no registry), whose first scored year is. A school with no earlier results but an earlier
start year was assessed before, just not with data in evalkit: its reports say
"系统内暂无往年数据".

>>> from evalkit.analysis.examples import example_results
>>> import pandas as pd
>>> r = example_results()
>>> history_status(r, "002", 2024)
'history'
>>> reg = pd.DataFrame({"school_id": ["001", "002", "003"], "active_from": [2020, None, 2023]})
>>> history_status(r.for_year(2024), "001", 2024, reg), history_status(r.for_year(2024), "002", 2024, reg)
('no_data', 'first')
>>> history_sentence("no_data", 2024, start_year=2020)
'本校自2020年起参评，系统内暂无往年数据，不作与往年的比较。'
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import pandas as pd

from evalkit.results import Results

__all__ = [
    "HistoryStatus",
    "changes_note",
    "history_sentence",
    "history_status",
    "new_schools",
    "preload_registry",
    "registry_start_years",
    "start_year",
]

HistoryStatus = Literal["history", "first", "no_data"]


def _file_key(registry: str | Path) -> tuple[str, tuple[int, int]]:
    """The registry file's resolved path and (size, mtime): a new key when the file changes."""
    path = Path(registry)
    st = path.stat()
    return str(path.resolve()), (st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _start_years_from_file(path: str, stamp: tuple[int, int]) -> dict[str, int]:
    from evalkit.intake.registry import load_registry

    return registry_start_years(load_registry(path))


def registry_start_years(registry: pd.DataFrame | str | Path | None) -> dict[str, int]:
    """``school_id`` → ``active_from`` for the schools whose registry row gives a start year.
    ``registry`` is a registry frame, a registry file, or ``None``/``""`` (no start years)."""
    if registry is None or (isinstance(registry, str) and not registry.strip()):
        return {}
    if not isinstance(registry, pd.DataFrame):
        return dict(_start_years_from_file(*_file_key(registry)))
    if "active_from" not in registry.columns:
        return {}
    years = pd.to_numeric(registry["active_from"], errors="coerce")
    return {str(s): int(y) for s, y in zip(registry["school_id"], years, strict=True) if pd.notna(y)}


def preload_registry(registry: str | Path) -> bool:
    """Read the start years of the registry file ``registry`` now and keep them in this process
    (:func:`registry_start_years` then answers from memory while the file is unchanged): the
    kernel template does it once per worker, for every report it forks. Returns whether the
    file was read (``False``: already in memory and unchanged)."""
    before = _start_years_from_file.cache_info().misses
    _start_years_from_file(*_file_key(registry))
    return _start_years_from_file.cache_info().misses > before


def start_year(results: Results, school_id: str, registry: pd.DataFrame | str | Path | None = None) -> int | None:
    """The school's first year: its registry start year, else its first scored year. Without
    ``registry``, the registry saved with the scores (a county's rows of a region's shared
    registry, ``results.extra["registry"]``) when there is one."""
    if registry is None or (isinstance(registry, str) and not registry.strip()):
        registry = results.extra.get("registry")
    known = registry_start_years(registry).get(str(school_id))
    if known is not None:
        return known
    s = results.schools
    years = s.loc[s["school_id"] == str(school_id), "year"]
    return int(years.min()) if not years.empty else None


def history_status(
    results: Results, school_id: str, year: int, registry: pd.DataFrame | str | Path | None = None
) -> HistoryStatus:
    """``history`` (scored in an earlier year), ``first`` (this is the school's first year, see
    the module docstring) or ``no_data`` (an earlier start year but no earlier results)."""
    s = results.schools
    if bool(((s["school_id"] == str(school_id)) & (s["year"] < int(year))).any()):
        return "history"
    first = start_year(results, school_id, registry)
    return "no_data" if first is not None and first < int(year) else "first"


def history_sentence(status: HistoryStatus, year: int, *, start_year: int | None = None,
                     subject: str = "本校") -> str:
    """The sentence a report shows instead of a comparison with earlier years."""
    if status == "no_data":
        since = f"自{start_year}年起参评，" if start_year is not None else ""
        return f"{subject}{since}系统内暂无往年数据，不作与往年的比较。"
    if status == "first":
        return f"{int(year)}年为{subject}首次参评，暂无往年数据，不作与往年的比较。"
    return ""


def new_schools(results: Results, year: int, registry: pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
    """Schools scored in ``year`` but not in the year before: ``school_id, school_name, status``
    (``first`` or ``no_data``, see :func:`history_status`) and ``start_year``. They are left
    out of the county summary's improvers and decliners, which need last year's result."""
    s = results.schools
    now = s[s["year"] == int(year)]
    rows = []
    for sid, name in zip(now["school_id"], now["school_name"], strict=True):
        status = history_status(results, sid, year, registry)
        if status != "history":
            rows.append({"school_id": str(sid), "school_name": str(name), "status": status,
                         "start_year": start_year(results, sid, registry)})
    return pd.DataFrame(rows, columns=["school_id", "school_name", "status", "start_year"])


def changes_note(results: Results, year: int, registry: pd.DataFrame | str | Path | None = None) -> str:
    """The county summary's sentence about schools left out of the improvers and decliners for
    want of last year's result, each with why (首次参评 / 系统内暂无往年数据); ``""`` when none.
    When no school has an earlier result, one sentence for the county."""
    new = new_schools(results, year, registry)
    if new.empty:
        return ""
    n_now = int((results.schools["year"] == int(year)).sum())
    if len(new) == n_now:
        if (new["status"] == "first").all():
            return f"{int(year)}年为首次评价，没有往年评价结果可比。"
        return f"系统内暂无{int(year)}年以前的评价数据，不作进步与退步比较。"
    label = {"first": "首次参评", "no_data": "系统内暂无往年数据"}
    names = "、".join(f"{n}（{label[st]}）" for n, st in zip(new["school_name"], new["status"], strict=True))
    return f"以下学校没有上年评价结果，不参与进步与退步比较：{names}。"
