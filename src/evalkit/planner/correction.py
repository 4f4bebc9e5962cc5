"""Corrections on the record: ``evalkit run RUNFILE --correction "理由"`` on a sealed year.

A published (sealed, :mod:`evalkit.planner.seal`) year of version *n* is corrected in place:

1. :func:`begin_correction` (under the year's lock, before anything is rewritten): the year's
   ``scores/``, ``scoreboard.xlsx``, ``manifest.json`` and seal are copied to ``history/v<n>/``;
2. the run goes on as usual; each report it redoes (its fingerprint changed, see
   :mod:`evalkit.planner.fingerprints`) has its previous files *moved* to ``history/v<n>/`` (same
   relative paths) and its new version marked "更正版（第n+1版）" with the date on its first
   page (``data-edition``, ``data-correction-date``); the 通报 and 公示名单 are reissued as
   corrected documents dated the day of the correction (the first issue kept in ``history/``);
3. :func:`finish_correction` writes ``record/corrections/<k>/`` (*k* = n, the k-th correction):
   ``correction.json`` (when, why, every changed input cell from what to what, the previous and
   new fingerprints, the reports redone), ``变更对照表.xlsx``/``.csv`` (per school: old and new
   total, grade and rank; whether its own data changed, or it moved only because another
   school's did — grade quota included) and the 更正说明 (``.docx`` and ``.pdf``), then seals
   the year again as version n+1 with the new inputs.

A changed input cell is a row of the observations (keyed by school, year, indicator, item,
source and rater) whose value or evidence differs, or that was added or removed.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from evalkit.io.atomic import atomic_write_bytes, atomic_write_text
from evalkit.observations import KEY, text_value
from evalkit.planner.history import copy_to_history
from evalkit.planner.seal import (
    CORRECTIONS_DIR,
    RECORD_DIR,
    SealError,
    seal_year,
)
from evalkit.results import Results

CHANGE_TABLE = "变更对照表"
NOTE_STEM = "更正说明"


@dataclass
class Correction:
    """One correction of a sealed year (or, with ``replay``, only its marks, to regenerate a
    corrected version exactly: the documents reissued with the same date)."""

    reason: str
    version: int  # the new version
    date: dt.date
    original_date: str = ""  # the documents' first issue date
    wenhao: str = ""
    replay: bool = False
    previous: dict[str, Any] = field(default_factory=dict)
    editions: dict[str, dict[str, Any]] = field(default_factory=dict)  # replay: each report's mark as sealed
    redone: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"更正版（第{self.version}版）"

    def edition(self) -> dict[str, Any]:
        """What a redone report's manifest entry records."""
        return {"version": self.version, "date": self.date.isoformat(), "label": self.label}

    def document_mark(self) -> dict[str, Any]:
        """What the reissued 通报 and 公示名单 say (:mod:`evalkit.publish.documents.county`)."""
        return {"version": self.version, "date": self.date.isoformat(), "original_date": self.original_date,
                "wenhao": self.wenhao}

    def header(self, header: str, edition: dict[str, Any] | None = None) -> Any:
        """A redone report's title-block lines with the correction mark under them (this
        correction's, or ``edition``'s: a sealed report's mark, replayed)."""
        version = int(edition["version"]) if edition else self.version
        date = dt.date.fromisoformat(edition["date"]) if edition else self.date
        return edition_header(header, version, date)

    def keep_previous(self, folder: Path, rel: str) -> None:
        """A county document about to be reissued: its first issue copied to ``history/``."""
        copy_to_history(folder, rel, self.version - 1)


def edition_header(header: str, version: int, date: dt.date) -> Any:
    """Title-block lines with the mark "更正版（第n版）　<date>更正" under them (``data-edition``,
    ``data-correction-date``), as HTML for :func:`evalkit.publish.render.notebook_to_html`."""
    from markupsafe import Markup, escape

    from evalkit.publish.documents.facts import chinese_date

    lines = "".join(f"<p>{escape(line)}</p>" for line in str(header).splitlines() if line.strip())
    mark = (
        f'<p class="ek-correction" data-edition="{int(version)}" data-correction-date="{date.isoformat()}"'
        ' style="display:inline-block;border:1.5pt solid #b00000;color:#b00000;font-weight:bold;'
        f'padding:1pt 6pt;margin-top:4pt">更正版（第{int(version)}版）　{escape(chinese_date(date))}更正</p>'
    )
    return Markup(lines + mark)


def begin_correction(folder: Path, seal: dict[str, Any], reason: str, today: dt.date | None = None) -> Correction:
    """Open the correction of sealed ``folder`` (see the module docstring, step 1)."""
    reason = (reason or "").strip()
    if not reason:
        raise SealError("更正必须写明理由：--correction \"理由\" / give the reason of the correction")
    version = int(seal.get("version", 1))
    for rel in ("scores", "scoreboard.xlsx", "manifest.json", f"{RECORD_DIR}/published.json"):
        copy_to_history(folder, rel, version)
    return Correction(
        reason=reason,
        version=version + 1,
        date=today or dt.date.today(),
        original_date=str(seal.get("original_issue_date") or seal.get("issue_date") or ""),
        wenhao=str(seal.get("wenhao") or ""),
        previous=seal,
    )


def replay_correction(seal: dict[str, Any], reports: dict[str, Any]) -> Correction | None:
    """The marks of a sealed corrected version, to regenerate it exactly: its documents' and
    each report's (``reports``: the sealed manifest's entries); ``None`` for a first version."""
    mark = seal.get("correction_mark")
    if not mark:
        return None
    editions = {key: e["edition"] for key, e in reports.items() if isinstance(e, dict) and e.get("edition")}
    return Correction(reason="", version=int(mark["version"]), date=dt.date.fromisoformat(mark["date"]),
                      original_date=mark.get("original_date") or "", wenhao=mark.get("wenhao") or "", replay=True,
                      editions=editions)


def changed_cells(old: pd.DataFrame, new: pd.DataFrame) -> list[dict[str, Any]]:
    """Observation rows whose value or evidence differs between ``old`` and ``new`` (keyed by
    :data:`evalkit.observations.KEY`), and rows only in one of them; sorted by key."""
    def prepared(frame: pd.DataFrame) -> pd.DataFrame:
        f = frame[[c for c in [*KEY, "value", "evidence"] if c in frame.columns]].copy()
        for c in KEY:
            if c not in f.columns:
                f[c] = ""
            f[c] = f[c].fillna("").astype(str)
        for c in ("value", "evidence"):  # as contract text: 1.0 → "1", missing → None
            f[c] = f[c].map(lambda v: text_value(v) or None) if c in f else None
        return f.drop_duplicates(subset=KEY, keep="last")

    merged = prepared(old).merge(prepared(new), on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True)
    merged = merged.astype(object).where(merged.notna(), None)  # a missing value is None on both sides
    out = []
    for row in merged.to_dict("records"):
        before, after = row.get("value_old"), row.get("value_new")
        ev_before, ev_after = row.get("evidence_old"), row.get("evidence_new")
        if row["_merge"] == "both" and before == after and ev_before == ev_after:
            continue
        change = "修改" if row["_merge"] == "both" else ("删除" if row["_merge"] == "left_only" else "新增")
        cell = {k: row[k] for k in KEY}
        cell.update({"change": change, "old": _clean(before), "new": _clean(after)})
        if ev_before != ev_after:
            cell.update({"old_evidence": _clean(ev_before), "new_evidence": _clean(ev_after)})
        out.append(cell)
    out.sort(key=lambda c: tuple(str(c[k]) for k in KEY))
    return out


def _clean(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def change_table(old: Results, new: Results, year: int, own_changes: set[str]) -> pd.DataFrame:
    """One row per school of ``year`` (old or new): 原/新 总分, 等次, 排名, and why it moved:
    its own data was corrected, or only another school's was (its rank, or its grade — by the
    grade quota when ``quota_demoted`` changed)."""
    cols = ["school_id", "school_name", "total", "grade", "rank", "quota_demoted"]

    def year_rows(r: Results) -> pd.DataFrame:
        t = r.schools[r.schools["year"] == int(year)]
        return t[[c for c in cols if c in t.columns]].assign(school_id=lambda f: f["school_id"].astype(str))

    merged = year_rows(old).merge(year_rows(new), on="school_id", how="outer", suffixes=("_old", "_new"))
    rows = []
    for r in merged.to_dict("records"):
        sid = r["school_id"]
        name = r.get("school_name_new") if isinstance(r.get("school_name_new"), str) else r.get("school_name_old")
        total_moved = not _same(r.get("total_old"), r.get("total_new"))
        grade_moved = r.get("grade_old") != r.get("grade_new")
        rank_moved = not _same(r.get("rank_old"), r.get("rank_new"))
        own = sid in own_changes
        if own:
            why = "本校数据更正"
        elif grade_moved and r.get("quota_demoted_old") != r.get("quota_demoted_new"):
            why = "本校数据未变；因其他学校数据更正，受等次比例（名额）限制，等次随之变动"
        elif grade_moved or rank_moved:
            why = "本校数据未变；因其他学校数据更正，" + ("排名和等次" if grade_moved and rank_moved else
                                                          "等次" if grade_moved else "排名") + "随之变动"
        else:
            why = "无变化"
        rows.append({
            "学校编号": sid,
            "学校名称": name,
            "原总分": _num(r.get("total_old")),
            "新总分": _num(r.get("total_new")),
            "总分变化": round(_num(r.get("total_new")) - _num(r.get("total_old")), 6)  # type: ignore[operator]
            if _num(r.get("total_old")) is not None and _num(r.get("total_new")) is not None else None,
            "原等次": r.get("grade_old"),
            "新等次": r.get("grade_new"),
            "原排名": _int(r.get("rank_old")),
            "新排名": _int(r.get("rank_new")),
            "本校数据有更正": "是" if own else "否",
            "仅因他校更正而变动": "是" if (not own and (grade_moved or rank_moved)) else "否",
            "说明": why,
            "_changed": own or total_moved or grade_moved or rank_moved,
        })
    table = pd.DataFrame(rows)
    if len(table):
        table = table.sort_values("学校编号", key=lambda s: s.astype(str)).reset_index(drop=True)
    return table


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None or (isinstance(a, float) and pd.isna(a)) or (isinstance(b, float) and pd.isna(b)):
        return (a is None or pd.isna(a)) and (b is None or pd.isna(b))
    return abs(float(a) - float(b)) < 1e-9


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), 6)


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def finish_correction(
    correction: Correction,
    spec: Any,
    folder: Path,
    obs: pd.DataFrame,
    results: Results,
    grades: list[str],
    year: int,
    out: TextIO | None = None,
) -> Path:
    """Write the correction's record and the 更正说明, then seal the year again (step 3 of the
    module docstring); return the correction's folder."""
    from evalkit.planner.manifest import Manifest
    from evalkit.planner.materialize import materialized_spec
    from evalkit.planner.scores import score_run

    folder = Path(folder)
    seal = correction.previous
    number = correction.version - 1
    history = folder / "history" / f"v{number}"
    old_results = Results.load(history / "scores")
    with tempfile.TemporaryDirectory(prefix="evalkit-correction-") as scratch:
        old_spec = materialized_spec(folder, seal, Path(scratch))
        old_obs, _, _ = score_run(old_spec, out=open_devnull())
    cells = changed_cells(old_obs, obs)
    own = {str(c["school_id"]) for c in cells}
    table = change_table(old_results, results, year, own)
    target = folder / RECORD_DIR / CORRECTIONS_DIR / str(number)
    shown = table.drop(columns=["_changed"]) if len(table) else table
    from evalkit.io.csv_writer import write_csv
    from evalkit.io.xlsx_writer import write_workbook

    write_csv(shown, target / f"{CHANGE_TABLE}.csv")
    write_workbook({CHANGE_TABLE: shown}, target / f"{CHANGE_TABLE}.xlsx")
    manifest = Manifest.load(folder)
    old_manifest = json.loads((history / "manifest.json").read_text(encoding="utf-8"))
    record = {
        "number": number,
        "version": correction.version,
        "previous_version": number,
        "year": int(year),
        "when": _now(),
        "date": correction.date.isoformat(),
        "reason": correction.reason,
        "changed_cells": cells,
        "schools_changed": sorted(own),
        "fingerprints": {
            "previous": {"data": (old_manifest.get("scores") or {}).get("data_fingerprint"),
                         "scoreboard": old_manifest.get("scoreboard_fingerprint"),
                         "documents": (old_manifest.get("documents") or {}).get("fingerprint")},
            "new": {"data": (manifest.data.get("scores") or {}).get("data_fingerprint"),
                    "scoreboard": manifest.data.get("scoreboard_fingerprint"),
                    "documents": (manifest.data.get("documents") or {}).get("fingerprint")},
            "previous_inputs": {e["field"] or e["role"]: e["sha256"] for e in seal.get("inputs") or []},
            "new_inputs": {e["field"] or e["role"]: e["sha256"] for e in manifest.data.get("inputs") or []},
        },
        "reports_redone": sorted(correction.redone),
        "moved_to_history": sorted(correction.moved),
        "history": f"history/v{number}",
        "results": [{k: v for k, v in r.items() if k != "_changed"} for r in table.to_dict("records")],
    }
    note = _write_note(correction, spec, record, table, _indicator_names(results), target)
    record["note"] = {fmt: p.relative_to(folder).as_posix() for fmt, p in note.items()}
    record_path = atomic_write_text(target / "correction.json",
                                    json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n")
    corrections = [*(seal.get("corrections") or []), record_path.relative_to(folder / RECORD_DIR).as_posix()]
    previous = folder / "history" / f"v{number}" / RECORD_DIR / "published.json"
    from evalkit.planner.fingerprints import sha256_file

    seal_year(
        folder,
        wenhao=seal.get("wenhao") or None,
        today=correction.date,
        version=correction.version,
        extra={
            "corrections": corrections,
            "correction_mark": correction.document_mark(),
            "original_issue_date": correction.original_date,
            "previous": {"version": number, "path": previous.relative_to(folder).as_posix(),
                         "sha256": sha256_file(previous)},
        },
    )
    print(f"已记录更正（第 {correction.version} 版）：{target}；更正说明 {', '.join(p.name for p in note.values())}",
          file=out or sys.stdout, flush=True)
    return target


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def open_devnull() -> TextIO:
    import io

    return io.StringIO()


def _indicator_names(results: Results) -> dict[str, str]:
    ind = results.indicators
    if "indicator_name" not in ind.columns:
        return {}
    pairs = ind[["indicator_id", "indicator_name"]].drop_duplicates("indicator_id")
    return dict(zip(pairs["indicator_id"].astype(str), pairs["indicator_name"].astype(str), strict=True))


def _write_note(
    correction: Correction, spec: Any, record: dict[str, Any], table: pd.DataFrame, names: dict[str, str],
    target: Path,
) -> dict[str, Path]:
    from evalkit.publish.documents.correction import correction_files

    files = correction_files(record, table[table["_changed"]] if len(table) else table, spec.issuer,
                             pdf=True, docx_template=spec.docx_template, wenhao=correction.wenhao,
                             original_date=correction.original_date, indicator_names=names)
    stem = f"{NOTE_STEM}_{record['year']}_第{correction.version}版"
    return {fmt: atomic_write_bytes(target / f"{stem}.{fmt}", data) for fmt, data in files.items()}
