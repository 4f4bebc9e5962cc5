"""HTML for report notebooks: tables with Chinese headers, the title, headline and footer.

Every block carries machine-readable ``data-*`` attributes (e.g. ``data-total="92.0"``), so
tests and tools can read an executed notebook without parsing Chinese prose. The functions
prepare the data; the markup is in Jinja templates (``templates/html/``, see
:mod:`evalkit.publish.markup`), styled by classes of the report stylesheet
(``templates/evalkit_report/report.css``).

>>> from evalkit.analysis.examples import example_results
>>> from evalkit.analysis.school import headline
>>> html = headline_html(headline(example_results(), "002", 2024))
>>> 'data-total="85.0"' in html and 'data-grade="较好"' in html and "提高 15.0 分" in html
True
>>> print(table_html(pd.DataFrame({"indicator_name": ["理论学习"], "share": [0.5]}), name="demo"))
<table class="ekr-table" data-table="demo">
  <thead>
    <tr>
      <th>指标</th>
      <th>得分率</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <td>理论学习</td>
      <td>50.0%</td>
    </tr>
  </tbody>
</table>
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import numpy as np
import pandas as pd

from evalkit.analysis.school import Headline
from evalkit.publish.markup import Markup, render

__all__ = [
    "CHINA_TZ",
    "COLUMN_NAMES",
    "PERCENT_COLUMNS",
    "SIGNED_COLUMNS",
    "china_time",
    "county_info_html",
    "heading_html",
    "headline_html",
    "indicator_tables_html",
    "info_html",
    "note_html",
    "provenance_html",
    "school_title",
    "table_html",
]

COLUMN_NAMES: dict[str, str] = {
    "school_id": "学校编号", "school_name": "学校", "school_type": "类型", "township": "乡镇",
    "year": "年度", "area_id": "领域编号", "area_name": "领域", "indicator_id": "编号",
    "indicator_name": "指标", "value_text": "原始数据", "explanation": "评分说明", "points": "得分",
    "max_points": "满分", "share": "得分率", "county_mean": "全县平均", "county_share": "全县平均得分率",
    "type_mean": "同类学校平均", "type_share": "同类平均得分率", "diff": "与全县平均之差",
    "gap": "与全县平均之差（占满分）", "lost": "失分", "suggestion": "整改建议", "item_id": "编号",
    "item_name": "加分项", "evidence": "佐证材料", "veto_id": "编号", "veto_name": "否决事项",
    "grade": "等次", "grade_by_score": "按分数等次", "base": "基础分", "bonus": "加分", "total": "总分",
    "rank": "县内排名", "rank_in_type": "同类排名", "n_in_type": "同类学校数", "n_schools": "参评学校数",
    "veto": "一票否决", "prev_total": "上年总分", "change": "较上年", "prev_rank": "上年排名",
    "veto_ids": "否决项",
    "rank_change": "名次变化", "prev_grade": "上年等次", "group": "分组", "n": "学校数",
    "mean_total": "平均总分", "min_total": "最低分", "max_total": "最高分", "mean_points": "平均得分",
    "mean_share": "平均得分率", "full_share": "满分学校占比", "n_losing": "失分学校数",
    "weak_years": "偏弱年数", "n_years": "参评年数", "mean_county_share": "全县平均得分率",
    "median": "中位数", "min": "最低", "max": "最高", "mean": "平均",
    "by_score": "按分数", "final": "最终（含否决与名额）", "new_total": "调整后总分",
    "new_rank": "调整后排名", "new_grade": "调整后等次", "message": "说明", "county_total": "全县平均总分",
    "type_total": "同类学校平均总分", "rate": "得分率（%）",
    "county_rate": "全县平均得分率（%）", "type_rate": "同类平均得分率（%）",
}
"""English column → Chinese header, for every column the analysis functions return."""

PERCENT_COLUMNS = frozenset(
    {"share", "county_share", "type_share", "mean_share", "full_share", "mean_county_share"}
)
SIGNED_COLUMNS = frozenset({"diff", "change", "rank_change", "gap"})
_INT_COLUMNS = frozenset({"rank", "rank_in_type", "n_in_type", "n_schools", "prev_rank", "new_rank", "n",
                          "n_losing", "weak_years", "n_years", "by_score", "final", "year",
                          "rank_change"})
MISSING = "—"


def _fmt(value: Any, column: str, decimals: int) -> str:
    """One cell as text: see :func:`table_html`."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "是" if value else "否"
    is_float = isinstance(value, float | np.floating)
    if isinstance(value, int | np.integer) or (column in _INT_COLUMNS and is_float):
        v = int(value)
        return f"{v:+d}" if column in SIGNED_COLUMNS and v else str(v)
    if not isinstance(value, float | np.floating):
        return str(value)
    v = float(value)
    if column == "gap":
        return f"{v * 100:+.1f}%"
    if column in PERCENT_COLUMNS:
        return f"{v * 100:.1f}%"
    if column in SIGNED_COLUMNS:
        return f"{v:+.{decimals}f}" if abs(v) >= 0.5 * 10**-decimals else f"{0:.{decimals}f}"
    return f"{v:.{decimals}f}"


def table_html(
    frame: pd.DataFrame, *, name: str = "", decimals: int = 1, columns: Iterable[str] | None = None,
    index: bool = False, percent: Iterable[str] = (), compact: bool = False,
    headers: Mapping[str, str] | None = None,
) -> str:
    """``frame`` as an HTML table with Chinese headers (:data:`COLUMN_NAMES`; other headers
    unchanged), numbers formatted (points to ``decimals``, shares — and the columns named in
    ``percent`` — as percentages, changes signed, missing as "—") and text escaped. ``name``
    becomes ``data-table``; ``compact`` sets a smaller font and keeps cells on one line (wide
    tables on A4; class ``ekr-compact``); ``headers`` overrides Chinese headers for this table.
    Markup: ``templates/html/table.html.j2``."""
    frame = frame if columns is None else frame[list(columns)]
    if index:
        frame = frame.reset_index()
    as_share = set(map(str, percent))
    names = {**COLUMN_NAMES, **(headers or {})}
    titles = [names.get(str(c), str(c)) for c in frame.columns]
    cells = [[_fmt(v, "share" if str(c) in as_share else str(c), decimals) for v in frame.iloc[:, i]]
             for i, c in enumerate(frame.columns)]
    rows = [list(row) for row in zip(*cells, strict=True)] if cells else [[] for _ in range(len(frame))]
    return render("table.html.j2", name=name, compact=compact, titles=titles, rows=rows)


def indicator_tables_html(indicators: pd.DataFrame, areas: pd.DataFrame, decimals: int = 1) -> str:
    """The full indicator table split by area: per area an ``<h3>`` "领域（得分 x / 满分 y）" and a
    table of ``indicator_id, indicator_name, value_text, explanation, points, max_points``
    (``data-table="indicators-<area id>"``). ``indicators`` from
    :func:`evalkit.analysis.indicator_table`, ``areas`` from :func:`evalkit.analysis.area_comparison`."""
    cols = ["indicator_id", "indicator_name", "value_text", "explanation", "points", "max_points"]
    shown = [
        {"name": area.area_name, "points": f"{area.points:.{decimals}f}",
         "max_points": f"{area.max_points:.{decimals}f}",
         "table": Markup(table_html(indicators[indicators["area_name"] == area.area_name],
                                    name=f"indicators-{area.area_id}", columns=cols, decimals=decimals))}
        for area in areas.itertuples()
    ]
    return render("indicator_tables.html.j2", areas=shown)


def note_html(text: str, kind: str = "note") -> str:
    """A one-paragraph note (``<p class="ekr-note" data-note="kind">``)."""
    return render("note.html.j2", text=text, kind=kind)


def heading_html(text: str) -> str:
    """A report's ``<h1>``. Report notebooks show it in a cell tagged ``remove-cell``: read in
    JupyterLab it titles the notebook; rendered by :mod:`evalkit.publish.render`, whose page has its
    own title block, the cell is dropped."""
    return render("heading.html.j2", text=text)


def school_title(h: Headline) -> str:
    """``<学校> <年> 年度党建工作质量评价报告``."""
    return f"{h.school_name} {h.year} 年度党建工作质量评价报告"


def _info(attrs: list[tuple[str, object]], *lines: Iterable[tuple[str, str]]) -> str:
    """The ``ekr-info`` block: ``attrs`` become ``data-*`` markers; each line a paragraph of
    "label：value" pairs (pairs with an empty value left out)."""
    return render("info.html.j2", attrs=attrs, lines=[[(k, v) for k, v in line if v] for line in lines])


def info_html(h: Headline, framework_name: str, framework_version: str) -> str:
    """The school's basic facts under the title: name and id, type, township, year, framework
    and version (``data-school-id``, ``data-year``)."""
    return _info([("school-id", h.school_id), ("year", h.year)],
                 [("学校", f"{h.school_name}（编号 {h.school_id}）"), ("类型", h.school_type),
                  ("乡镇", h.township), ("评价年度", f"{h.year} 年")],
                 [("评价依据", f"{framework_name}（版本 {framework_version}）")])


def county_info_html(year: int, n_schools: int, framework_name: str, framework_version: str) -> str:
    """The county summary's facts under the title: year, schools, framework (``data-year``,
    ``data-n-schools``)."""
    return _info([("year", int(year)), ("n-schools", int(n_schools))],
                 [("评价年度", f"{int(year)} 年"), ("参评学校", f"{int(n_schools)} 所")],
                 [("评价依据", f"{framework_name}（版本 {framework_version}）")])


def _change_text(h: Headline, decimals: int, no_history: str = "") -> str:
    if h.prev_year is None or h.change is None:
        return no_history or "首次参评，无上年数据可比。"
    unit = " 个百分点" if h.basis == "rate" else " 分"
    if abs(h.change) < 0.5 * 10**-decimals:
        move = "持平"
    else:
        move = f"{'提高' if h.change > 0 else '下降'} {abs(h.change):.{decimals}f}{unit}"
    if h.basis == "rate" and h.rate is not None and h.prev_rate is not None:
        move = f"得分率（{h.prev_rate:.{decimals}f}% → {h.rate:.{decimals}f}%）{move}"
    elif h.basis == "common":
        move = f"共有指标得分{move}"
    return (f"较 {h.prev_year} 年（总分 {h.prev_total:.{decimals}f} 分，等次“{h.prev_grade}”，"
            f"全县第 {h.prev_rank} 名）{move}。{h.comparison_note}")


def headline_html(h: Headline, decimals: int = 1, no_history: str = "") -> str:
    """The headline: total, bonus, grade, ranks, change, veto and quota notes, with
    ``data-school-id, data-year, data-total, data-grade, data-rank, data-veto`` attributes.
    ``no_history`` is the sentence shown when the school has no earlier result (see
    :func:`evalkit.analysis.history.history_sentence`; default "首次参评，无上年数据可比。")."""
    in_type = f"；在{h.school_type}中排第 {h.rank_in_type} 名（共 {h.n_in_type} 所）" if h.school_type else ""
    items = [
        f"基础分 {h.base:.{decimals}f} 分，加分 {h.bonus:.{decimals}f} 分。",
        f"全县排名第 {h.rank} 名（共 {h.n_schools} 所）{in_type}。",
        _change_text(h, decimals, no_history),
    ]
    veto = {"ids": h.veto_ids, "grade": h.grade, "grade_by_score": h.grade_by_score} if h.veto else None
    if not h.veto and h.quota_demoted:
        items.append(f"按分数等次为“{h.grade_by_score}”，因等次名额限制确定为“{h.grade}”。")
    return render("headline.html.j2", school_id=h.school_id, year=h.year, total=f"{h.total:.{decimals}f}",
                  grade=h.grade, rank=h.rank, veto_flag=int(h.veto), items=items, veto=veto)


def _china_tz() -> tzinfo:
    """Asia/Shanghai from the time-zone database, or its fixed UTC+8 (no daylight saving since
    1991) where the database is missing."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:  # pragma: no cover - no tz database (e.g. Windows without tzdata)
        return timezone(timedelta(hours=8), "CST")


CHINA_TZ = _china_tz()
"""China Standard Time: reports show times in it; stored metadata stays in ISO UTC."""


def china_time(stamp: str | datetime | None) -> str:
    """A timestamp as China Standard Time to the minute, for reports. Naive times are taken as
    UTC (evalkit stores UTC); text that is not an ISO timestamp is returned as it is.

    >>> china_time("2026-11-29T12:02:41+00:00")
    '2026-11-29 20:02'
    >>> china_time(datetime(2026, 12, 31, 17, 30)), china_time(""), china_time("unknown")
    ('2027-01-01 01:30', '', 'unknown')
    """
    if stamp is None or stamp == "":
        return ""
    if isinstance(stamp, datetime):
        when = stamp
    else:
        try:
            when = datetime.fromisoformat(str(stamp))
        except ValueError:
            return str(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def provenance_html(meta: dict[str, Any], framework_name: str = "", now: datetime | None = None) -> str:
    """The provenance footer: framework and version, data fingerprint, evalkit version of the
    scores and of the report, when scored and when generated (China Standard Time, see
    :func:`china_time`; ``now`` defaults to the current time)."""
    import evalkit

    now = now or datetime.now(UTC)
    fp = str(meta.get("data_fingerprint", ""))
    scored_with = str(meta.get("evalkit_version", ""))
    version = (scored_with if scored_with in ("", evalkit.__version__)
               else f"{scored_with}（评分）/ {evalkit.__version__}（报告）")
    parts = [
        f"指标体系：{framework_name or meta.get('framework_name', meta.get('framework_id', ''))}"
        f"（{meta.get('framework_id', '')}，版本 {meta.get('framework_version', '')}）",
        f"数据指纹：{fp[:16]}",
        f"evalkit 版本：{version or evalkit.__version__}",
        f"评分时间：{china_time(meta.get('created'))}",
        f"报告生成时间：{china_time(now)}",
    ]
    # a small grey block closing the last page (never a page of its own: two short lines)
    return render("provenance.html.j2", framework_version=meta.get("framework_version", ""), fingerprint=fp,
                  evalkit_version=evalkit.__version__, lines=["　".join(parts[:2]), "　".join(parts[2:])])
