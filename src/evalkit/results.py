"""The Results of scoring: tables per indicator, area and school, with how they were made.

A :class:`Results` is saved as one parquet file per table plus ``meta.json`` in a folder
(``outputs/<year>/scores/`` by default) and loaded back unchanged, so notebooks read the year's
scores instead of recomputing them.

>>> from evalkit.results import TABLES
>>> TABLES
('indicators', 'areas', 'schools', 'bonus', 'vetoes', 'flags')
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

TABLES = ("indicators", "areas", "schools", "bonus", "vetoes", "flags")
EXTRA_TABLES = ("robustness", "sensitivity", "weight_nodes", "rater_marks", "registry", "stages")
"""Optional tables added after scoring (:mod:`evalkit.robustness`), or by scoring a framework
with a pipeline (``stages``: :mod:`evalkit.scoring.stages`), saved when present."""


@dataclass
class Results:
    """Scored tables (see ``docs/architecture.md``) and ``meta``: framework id/version,
    fingerprints of the data and framework, evalkit version, creation time."""

    indicators: pd.DataFrame
    areas: pd.DataFrame
    schools: pd.DataFrame
    bonus: pd.DataFrame
    vetoes: pd.DataFrame
    flags: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    #: every area at every depth (``node_id, node_name, level, parent_id, points, max_points,
    #: share, label``) for frameworks deeper than areas → indicators or with fuzzy nodes; else None
    nodes: pd.DataFrame | None = None
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.schools["year"].unique())

    def for_year(self, year: int) -> Results:
        """The same Results restricted to one year."""
        pick = {name: getattr(self, name) for name in TABLES}
        nodes = None if self.nodes is None else self.nodes[self.nodes["year"] == year].reset_index(drop=True)
        return Results(
            **{n: t[t["year"] == year].reset_index(drop=True) for n, t in pick.items()},
            meta={**self.meta, "years": [int(year)]},
            extra={n: t[t["year"] == year].reset_index(drop=True) if "year" in t.columns else t
                   for n, t in self.extra.items()},
            nodes=nodes,
        )

    def school(self, school_id: str, year: int) -> pd.Series:
        """The school's row of ``schools`` for ``year`` (KeyError if it was not scored)."""
        rows = self.schools[(self.schools["school_id"] == school_id) & (self.schools["year"] == year)]
        if rows.empty:
            raise KeyError(f"学校 {school_id} 在 {year} 年没有评分结果 / no result")
        return rows.iloc[0]

    def county_table(self, year: int | None = None) -> pd.DataFrame:
        """The county ranking with Chinese headers: 排名, 学校, 类型, area points, 基础分, 加分, 总分, 等次."""
        year = year if year is not None else self.years[-1]
        s = self.schools[self.schools["year"] == year]
        a = self.areas[self.areas["year"] == year].pivot(
            index="school_id", columns="area_name", values="points"
        )
        order = list(dict.fromkeys(self.areas["area_name"]))
        table = s.set_index("school_id").join(a[order])
        table = table.sort_values(["rank", "school_id"])
        out = pd.DataFrame(
            {
                "排名": table["rank"],
                "学校编号": table.index,
                "学校": table["school_name"],
                "类型": table["school_type"],
                **{name: table[name] for name in order},
                "基础分": table["base"],
                "加分": table["bonus"],
                "总分": table["total"],
                "等次": table["grade"],
                "否决": table["veto_ids"].where(table["veto"], ""),
            }
        )
        return out.reset_index(drop=True)

    # -- persistence -------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write every table as parquet and ``meta.json`` into ``folder``, atomically: the files
        are written into a temporary sibling folder that then replaces ``folder``."""
        from evalkit.errors import check_replaceable

        folder = Path(folder)
        check_replaceable(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for name in TABLES:
                getattr(self, name).to_parquet(tmp / f"{name}.parquet", index=False)
            for name, table in self.extra.items():
                if name in EXTRA_TABLES:
                    table.to_parquet(tmp / f"{name}.parquet", index=False)
            if self.nodes is not None:
                self.nodes.to_parquet(tmp / "nodes.parquet", index=False)
            (tmp / "meta.json").write_text(
                json.dumps(self.meta, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
            )
            if folder.exists():
                old = folder.with_name(f".{folder.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(folder, old)
                os.replace(tmp, folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Results:
        """Read a Results folder written by :meth:`save`."""
        folder = Path(folder)
        if not (folder / "meta.json").exists():
            raise FileNotFoundError(f"{folder} 中没有评分结果（缺少 meta.json）/ no saved Results here")
        tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        extra = {name: pd.read_parquet(folder / f"{name}.parquet") for name in EXTRA_TABLES
                 if (folder / f"{name}.parquet").is_file()}
        nodes = pd.read_parquet(folder / "nodes.parquet") if (folder / "nodes.parquet").exists() else None
        return cls(**tables, meta=meta, extra=extra, nodes=nodes)
