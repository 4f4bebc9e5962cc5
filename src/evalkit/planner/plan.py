"""Planning a year's reports: one :class:`Job` per notebook to execute, with its parameters,
fingerprints and output paths, and which of them can be skipped.

Output layout (under ``<output>/<year>/``)::

    scores/                          the year's Results (all years of the data), read by notebooks
    schools/<school id>/<id>_<year>_报告.{ipynb,html,pdf,docx}
    schools/<school id>/<id>_<year>_趋势.{ipynb,html,pdf,docx}
    county/全县汇总_<year>.{ipynb,html,pdf,docx}
    county/指标体系审计_<year>.{ipynb,html,pdf}
    county/通报_<year>.{docx,pdf}, county/公示名单_<year>.{docx,xlsx}   (run file's notice, publicity)
    scoreboard.xlsx, manifest.json

A school id that cannot be a folder name (see :func:`evalkit.planner.names.folder_name_problem`)
gives a job with ``refused`` set: it is never executed and is reported as failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import evalkit
from evalkit.planner.fingerprints import DataFingerprints, framework_fingerprint, sha256_file, sha256_json
from evalkit.planner.names import (
    UnsafePathError,
    check_literal_round_trip,
    display,
    folder_name_problem,
    safe_child,
)
from evalkit.planner.runfile import COUNTY_KINDS, NOTEBOOK_LABELS, RunSpec
from evalkit.publish.official import county_title, issuer_info, issuer_parameter, title_meta
from evalkit.results import Results
from evalkit.runtime.job import Job

FILE_STEMS = {"school_report": "报告", "school_trend": "趋势"}
COUNTY_STEM = "全县汇总"
COUNTY_STEMS = {"county_summary": COUNTY_STEM, "framework_audit": "指标体系审计"}
WORK_DIR = ".work"


def job_label(kind: str, school_id: str, school_name: str) -> str:
    """Who a job is for, printable: ``001 城关一小（学校报告）``, ``青岚县（全县汇总）``."""
    who = (
        display(school_name or "全县")
        if kind in (*COUNTY_KINDS, "region_summary")
        else f"{display(school_id)} {display(school_name)}"
    )
    return f"{who}（{NOTEBOOK_LABELS.get(kind, kind)}）"


def job_key(kind: str, school_id: str = "") -> str:
    """The manifest key of a report: ``school_report:001``, ``county_summary``."""
    return f"{kind}:{school_id}" if school_id else kind


@dataclass
class Plan:
    """The jobs of one year (which of them run now is decided by
    :func:`evalkit.planner.year.select_jobs`)."""

    year: int
    folder: Path
    jobs: list[Job]


def _base_parameters(spec: RunSpec, scores: Path, year: int) -> dict[str, Any]:
    return {
        "year": int(year),
        "scores": str(scores),
        "data": ",".join(str(p) for p in spec.data),
        "framework": spec.framework_for(year),
        # a shared registry's county rows are saved with the scores (Results.extra["registry"])
        "registry": str(spec.registry) if spec.registry and not spec.registry_county else "",
        "intake_notes": spec.intake_notes,
        "issuer": issuer_parameter(spec.issuer),
        "show_rater_marks": bool(spec.show_rater_marks),
    }


def plan_year(
    spec: RunSpec,
    results: Results,
    fingerprints: DataFingerprints,
    year: int,
    *,
    schools: list[str] | None = None,
) -> Plan:
    """Every job of ``year``: a school report per school scored that year, a trend per school
    scored in two years or more up to it, the county summary (unless ``schools`` restricts the
    run to some schools)."""
    folder = spec.year_folder(year)
    work = folder / WORK_DIR
    scores = folder / "scores"
    base = _base_parameters(spec, scores, year)
    fw_meta = results.meta
    common = {
        "framework": framework_fingerprint(fw_meta, year),
        "evalkit": evalkit.__version__,
    }
    if spec.robustness is not None:  # the intervals every report shows depend on these settings
        common["robustness"] = sha256_json(spec.robustness.model_dump())
    notebook_sha = {kind: sha256_file(path) for kind, path in spec.notebooks.items()}
    if "docx" in spec.formats:  # a new Word template redoes the .docx files
        from evalkit.publish.pandoc import LUA_FILTER, reference_docx

        common["docx_template"] = sha256_json(
            [sha256_file(reference_docx(spec.docx_template)), sha256_file(LUA_FILTER)]
        )
    table = results.schools
    this_year = table[table["year"] == year].sort_values("school_id", key=lambda s: s.astype(str))
    years_per_school = table[table["year"] <= year].groupby("school_id")["year"].nunique()

    def make(kind: str, school_id: str, name: str, data_fp: str) -> Job:
        params = {"school_id": school_id, **base}
        fps = {"data": data_fp, **common, "notebook": notebook_sha[kind], "params": sha256_json(params)}
        key = job_key(kind, school_id)
        common_args: dict[str, Any] = {
            "key": key,
            "kind": kind,
            "school_id": school_id,
            "school_name": name,
            "year": int(year),
            "notebook": spec.notebooks[kind],
            "parameters": params,
            "fingerprints": fps,
            "cell_timeout": spec.cell_timeout,
            "start_timeout": spec.start_timeout,
            "work_dir": work,
            "docx_template": str(spec.docx_template or ""),
            "label": job_label(kind, school_id, name),
        }
        problem = folder_name_problem(school_id) if kind not in COUNTY_KINDS else None
        if problem:
            return Job(**common_args, refused=f"学校编号“{display(school_id)}”不能用作文件夹名：{problem}")
        try:
            check_literal_round_trip(params)
        except ValueError as err:
            return Job(**common_args, refused=str(err))
        try:
            if kind in COUNTY_KINDS:
                out_dir, stem = safe_child(folder, "county"), f"{COUNTY_STEMS[kind]}_{year}"
            else:
                out_dir, stem = (
                    safe_child(folder, "schools", school_id),
                    f"{school_id}_{year}_{FILE_STEMS[kind]}",
                )
            outputs = {fmt: safe_child(out_dir, f"{stem}.{fmt}") for fmt in spec.formats}
            failed_notebook = safe_child(out_dir, f"{stem}.failed.ipynb")
        except UnsafePathError as err:
            return Job(**common_args, refused=str(err))
        issuer = issuer_info(base["issuer"])
        header = "\n".join(title_meta(issuer))
        right = f"{issuer.county}　{year} 年度" if issuer is not None else f"{year} 年度"
        if kind == "county_summary":
            title = county_title(year, issuer)
            left = issuer.body if issuer is not None else "全县汇总"
            right = f"{year} 年度"
        elif kind == "framework_audit":
            title = f"{issuer.county + ' ' if issuer is not None else ''}{year} 年度指标体系统计审计"
            left, header = "指标体系审计", ""
        else:
            what = "党建工作质量评价报告" if kind == "school_report" else "党建工作质量历年趋势"
            title = f"{name} {year} 年度{what}"
            left = name
        return Job(
            **common_args,
            outputs=outputs,
            failed_notebook=failed_notebook,
            title=title,
            header=header,
            header_left=left,
            header_right=right,
        )

    wanted = set(schools) if schools is not None else None
    jobs: list[Job] = []
    for row in this_year.itertuples(index=False):
        sid, name = str(row.school_id), str(row.school_name)
        if wanted is not None and sid not in wanted:
            continue
        data_fp = fingerprints.school(sid)
        if "school_report" in spec.notebooks:
            jobs.append(make("school_report", sid, name, data_fp))
        if "school_trend" in spec.notebooks and years_per_school.get(row.school_id, 0) >= 2:
            jobs.append(make("school_trend", sid, name, data_fp))
    if "county_summary" in spec.notebooks and wanted is None:
        jobs.append(make("county_summary", "", spec.county or "全县", fingerprints.county))
    if "framework_audit" in spec.notebooks and wanted is None:
        jobs.append(make("framework_audit", "", spec.county or "全县", fingerprints.county))
    return Plan(year=int(year), folder=folder, jobs=jobs)
