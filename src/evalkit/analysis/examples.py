"""A tiny hand-made :class:`~evalkit.results.Results` for examples and hand-checked tests.

Three schools, two years (2023, 2024), two areas of 50 points (A: A1 30 + A2 20; B: B1 30 +
B2 20). Points per indicator (A1, A2, B1, B2):

======  ==============  ==============
school  2023            2024
======  ==============  ==============
001     30, 15, 27, 18  30, 16, 28, 18
002     25, 15, 18, 12  30, 20, 20, 13 (+2 bonus)
003     20, 15, 25, 15  15, 10, 22, 15 (veto V1)
======  ==============  ==============

001 and 002 are 小学 in 城关镇, 003 is a 初中 in 石门镇. Grades: 好 ≥ 90, 较好 ≥ 80, 一般 ≥ 60,
差 below; no quota.

>>> r = example_results()
>>> r.schools[["school_id", "year", "total", "grade", "rank"]]
  school_id  year  total grade  rank
0       001  2023   90.0     好     1
1       003  2023   75.0    一般     2
2       002  2023   70.0    一般     3
3       001  2024   92.0     好     1
4       002  2024   85.0    较好     2
5       003  2024   62.0     差     3
"""

from __future__ import annotations

import pandas as pd

from evalkit.results import Results

__all__ = ["example_results"]

_SCHOOLS = {
    "001": ("城关一小", "小学", "城关镇"),
    "002": ("城关二小", "小学", "城关镇"),
    "003": ("石门中学", "初中", "石门镇"),
}
_INDICATORS = {  # id: (area, area name, name, max)
    "A1": ("A", "思想强基", "理论学习", 30.0),
    "A2": ("A", "思想强基", "主题党日", 20.0),
    "B1": ("B", "夯基垒台", "组织设置", 30.0),
    "B2": ("B", "夯基垒台", "党费缴纳", 20.0),
}
_POINTS = {
    (2023, "001"): (30, 15, 27, 18),
    (2023, "002"): (25, 15, 18, 12),
    (2023, "003"): (20, 15, 25, 15),
    (2024, "001"): (30, 16, 28, 18),
    (2024, "002"): (30, 20, 20, 13),
    (2024, "003"): (15, 10, 22, 15),
}
_BONUS = {(2024, "002"): 2.0}
_VETO = {(2024, "003"): "V1"}


def _grade(total: float) -> str:
    return "好" if total >= 90 else "较好" if total >= 80 else "一般" if total >= 60 else "差"


def example_results() -> Results:
    """The example county described in the module docstring."""
    ind_rows, area_rows, school_rows = [], [], []
    for (year, sid), pts in _POINTS.items():
        for (iid, (aid, aname, iname, mx)), p in zip(_INDICATORS.items(), pts, strict=True):
            ind_rows.append({
                "school_id": sid, "year": year, "area_id": aid, "area_name": aname, "indicator_id": iid,
                "indicator_name": iname, "value": float(p), "value_text": f"{p}分", "points": float(p),
                "max_points": mx, "share": p / mx, "missing": False,
                "explanation": f"{iname}：得 {p} 分（满分 {mx:g} 分）", "evidence": "", "n_obs": 1,
            })
        for aid, aname, ap in (("A", "思想强基", pts[0] + pts[1]), ("B", "夯基垒台", pts[2] + pts[3])):
            area_rows.append({"school_id": sid, "year": year, "area_id": aid, "area_name": aname,
                              "points": float(ap), "max_points": 50.0, "share": ap / 50})
        base = float(sum(pts))
        bonus = _BONUS.get((year, sid), 0.0)
        veto = _VETO.get((year, sid), "")
        name, kind, town = _SCHOOLS[sid]
        school_rows.append({
            "school_id": sid, "year": year, "school_name": name, "school_type": kind, "township": town,
            "base": base, "bonus": bonus, "total": base + bonus, "grade_by_score": _grade(base + bonus),
            "veto": bool(veto), "veto_ids": veto, "grade": "差" if veto else _grade(base + bonus),
            "quota_demoted": False,
        })
    schools = pd.DataFrame(school_rows)
    by_year = schools.groupby("year")["total"]
    by_type = schools.groupby(["year", "school_type"])["total"]
    schools["rank"] = by_year.rank(method="min", ascending=False).astype(int)
    schools["rank_in_type"] = by_type.rank(method="min", ascending=False).astype(int)
    schools["n_in_type"] = by_type.transform("size").astype(int)
    schools["n_schools"] = by_year.transform("size").astype(int)
    schools = schools.sort_values(["year", "rank"]).reset_index(drop=True)
    bonus = pd.DataFrame([{
        "school_id": "002", "year": 2024, "item_id": "X1", "item_name": "党建工作荣誉", "value": None,
        "value_text": "市级", "points": 2.0, "explanation": "党建工作荣誉：市级，得 2 分",
        "evidence": "2024年获评市级党建示范校",
    }])
    vetoes = pd.DataFrame([{
        "school_id": "003", "year": 2024, "veto_id": "V1", "veto_name": "发生严重师德失范行为并被查实",
        "grade": "差", "evidence": "2024年5月一名教师违规有偿补课被查实",
    }])
    flags = pd.DataFrame(columns=["school_id", "year", "indicator_id", "indicator_name", "kind", "message"])
    meta = {
        "framework_id": "example", "framework_name": "示例指标体系", "framework_version": "1.0",
        "data_fingerprint": "0" * 64, "framework_fingerprint": "0" * 64, "evalkit_version": "0.0.0",
        "created": "2024-12-01T00:00:00+00:00", "years": [2023, 2024], "precision": 1,
    }
    return Results(indicators=pd.DataFrame(ind_rows), areas=pd.DataFrame(area_rows), schools=schools,
                   bonus=bonus, vetoes=vetoes, flags=flags, meta=meta)
