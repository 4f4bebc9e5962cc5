"""The run file: one YAML file that says what ``evalkit run`` produces.

Paths in a run file are relative to the run file's own folder. Example (``params/demo.yaml``)::

    year: 2024                       # or a list of years; omitted: the latest year in the data
    data:                            # long observation files (CSV/XLSX), every year wanted in trends
      - ../src/evalkit/demo/data/observations_2022.csv
      - ../src/evalkit/demo/data/observations_2023.csv
      - ../src/evalkit/demo/data/observations_2024.csv
    registry: ../src/evalkit/demo/data/registry.csv
    framework: shiquan-party-building   # a shipped framework's name, or a YAML path; or one per
                                     # year: {2024: frameworks/2024.yaml, 2025: frameworks/2025.yaml}
    notebooks:                       # leave one out (or null) to skip it
      school_report: ../notebooks/school_report.ipynb    # one per school
      county_summary: ../notebooks/county_summary.ipynb  # once
      school_trend: ../notebooks/school_trend.ipynb      # schools scored in two years or more
    formats: [ipynb, html, pdf]       # the executed notebook is always kept
    output: ../outputs
    jobs: null                       # notebooks run at once; null: the number of CPU cores
    cell_timeout: 600                # seconds one cell may run before its kernel is killed
    intake_notes: null               # CSV of data-quality notes from intake (county summary)
    issuer:                          # who issues the reports (optional; without it the run warns once)
      county: 青岚县                  # the county's name, used in titles ("青岚县2024年度……")
      body: 青岚县教育体育局          # the issuing body (落款)
      date: 2024-12-20               # issue date; omitted: the day of the run
      doc_number: 青教体发〔2024〕18号  # optional 发文字号 (the 通报's 版头; [2024] is written 〔2024〕)
      contact: 局党建办 0915-1234567   # optional contact for questions and appeals
      masthead: 青岚县教育体育局文件  # optional 发文机关标志 of the 通报's 版头 (red); default: body + 文件
      cc: [县委教育工委, 县纪委监委派驻纪检监察组]  # optional 抄送 of the 版记 (a list, or one string)
      printed_by: 青岚县教育体育局办公室  # optional 印发机关 of the 版记; default: body
      printed_on: 2024-12-20         # optional 印发日期 of the 版记; default: the issue date
      note: 此件主动公开              # optional 附注, printed in parentheses under the date
    robustness:                      # Monte Carlo rank intervals in every report (see
      replications: 1000             # evalkit.robustness.config for every field); null: none
    docx_template: null              # Word reference document for the .docx files; null: the shipped one
    notice:                          # the county's notice of results (通报), .docx (+ .pdf); needs issuer
      rectify_by: 2025-01-31         # deadline for rectification
      addressee: 各中小学校党组织      # optional; the line under the title (a full-width colon is added)
      show_scores: false             # true: the 附件's table of results shows each school's total
      template: null                 # Jinja (Markdown) text of the notice; null: the shipped one
    publicity:                       # the publicity list of proposed grades (公示名单), .docx and .xlsx
      days: 5                        # working days from the start (default: the issue date)
      start: null                    # optional first day; end: optional last day (else from days)
      show_scores: false             # true: the list shows each school's total
      contact: null                  # where objections go; null: issuer.contact
      template: null                 # Jinja (Markdown) text of the list; null: the shipped one
    show_rater_marks: false          # true: school reports show each rater's mark (internal use only)
    allow: []                        # score-changing warnings let through (each is printed and
                                     # recorded): missing_schools (缺报), name_mismatch, conflicts, rate_readings
    executor: local                  # local (default) | dask-local:N | dask (with scheduler:) | tcp://host:8786
    scheduler: null                  # the Dask scheduler's address for executor: dask (and --cluster dask)
    shared_output: false             # true: Dask workers write the outputs to the (shared) output folder

A city's or a province's run lists its counties instead of ``data`` (see :mod:`evalkit.planner.region`)::

    region: 云岭市
    registry: 全市学校名册.xlsx        # optional: one registry for every county, with a 县区 column
    counties:
      - name: 安坪县                   # also the folder name: outputs/<year>/安坪县/
        data: [安坪县/2024.xlsx]
      - name: 白沙县
        data: [白沙县/2024.xlsx]
        registry: 白沙县/名册.csv      # a county's own registry wins over the shared one
        issuer: {county: 白沙县, body: 白沙县教育局, date: 2024-12-20}

With the shared registry, each county takes the rows whose 县区 is its name (school ids need
only be unique within a county); rows of counties the run does not list are named in a warning.

Where inputs may come from: every input (``data``, ``registry``, ``framework`` when a path,
``notebooks``, ``intake_notes``) must be an existing regular file — not a folder, device, pipe
or socket — anywhere on disk *outside* the output folder (a run rewrites and sweeps its output
folder). ``output`` must be a folder (or not exist yet); everything a run writes or deletes
lies inside it (see :mod:`evalkit.planner.confine`). The run file itself is read as bounded YAML
(:mod:`evalkit.io.yaml_load`): UTF-8, at most 2 MB, no alias bombs.

:func:`load_run_file` checks the whole file and raises :class:`RunFileError` listing every
problem with its YAML path and line, e.g. ``data[1]: 找不到文件 …``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evalkit.errors import EvalkitError
from evalkit.framework import DEFAULT_FRAMEWORK, builtin_framework_path
from evalkit.io.yaml_load import YamlDocument, YamlInputError, as_document, load_yaml_file
from evalkit.io.yaml_paths import Problem, format_path, line_for, pydantic_problems
from evalkit.planner.confine import input_file_problem, output_folder_problem
from evalkit.publish.documents.workdays import WorkdayCalendarError, add_working_days
from evalkit.robustness.config import RobustnessConfig
from evalkit.runtime.choice import ExecutorChoiceError, parse_executor

Format = Literal["ipynb", "html", "pdf", "docx"]
FORMATS: tuple[Format, ...] = ("ipynb", "html", "pdf", "docx")
NotebookKind = Literal["school_report", "county_summary", "school_trend", "framework_audit", "region_summary"]
NOTEBOOK_KINDS: tuple[NotebookKind, ...] = (
    "school_report", "county_summary", "school_trend", "framework_audit", "region_summary"
)
NOTEBOOK_LABELS: dict[str, str] = {
    "school_report": "学校报告",
    "county_summary": "全县汇总",
    "school_trend": "历年趋势",
    "framework_audit": "指标体系审计",
    "region_summary": "区域汇总",
}
COUNTY_KINDS = ("county_summary", "framework_audit")
"""Notebooks run once per year for the whole county (not per school)."""


class RunFileError(EvalkitError):
    """A run file with problems; ``problems`` lists every one of them."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"运行文件 {source} 有 {len(problems)} 个问题 / problems in the run file:\n{lines}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Issuer(_Model):
    """Who issues the reports: named in every title block and in the 落款 of the last page.

    The county's documents in 公文 form (GB/T 9704-2012, see
    :mod:`evalkit.publish.documents.gongwen`) also take the 发文机关标志 ``masthead`` (default:
    ``body`` + "文件"), the 发文字号 ``doc_number`` (brackets written 〔〕 whatever was typed),
    the 版记's organs copied ``cc`` (抄送), ``printed_by`` (印发机关, default ``body``) and
    ``printed_on`` (印发日期, default the issue date), and an optional 附注 ``note``."""

    county: str = Field(min_length=1, max_length=40)
    body: str = Field(min_length=1, max_length=60)
    date: dt.date | None = None
    doc_number: str | None = Field(default=None, max_length=60)
    contact: str | None = Field(default=None, max_length=120)
    masthead: str | None = Field(default=None, max_length=60)
    cc: list[str] = Field(default_factory=list, max_length=30)
    printed_by: str | None = Field(default=None, max_length=60)
    printed_on: dt.date | None = None
    note: str | None = Field(default=None, max_length=200)

    @field_validator("cc", mode="before")
    @classmethod
    def _cc_list(cls, value: Any) -> Any:
        """``cc`` as one string (organs separated by 、，, or ;) or as a list."""
        if isinstance(value, str):
            return [part.strip() for part in re.split(r"[、，,；;]", value) if part.strip()]
        return value

    def issue_date(self, today: dt.date | None = None) -> dt.date:
        """The declared issue date, or ``today`` (default: the run's date)."""
        return self.date or today or dt.date.today()


class Notice(_Model):
    """The county's notice of results (通报): see :mod:`evalkit.publish.documents.notice`."""

    rectify_by: dt.date
    addressee: str = Field(default="各中小学校党组织", min_length=1, max_length=120)
    show_scores: bool = False
    template: str | None = None


class Publicity(_Model):
    """The publicity list of proposed grades (公示名单): see :mod:`evalkit.publish.documents.publicity`."""

    start: dt.date | None = None
    end: dt.date | None = None
    days: int = Field(default=5, ge=1, le=60)
    show_scores: bool = False
    contact: str | None = Field(default=None, max_length=200)
    template: str | None = None


class Notebooks(_Model):
    """The notebook of each kind of report (paths); a missing or null entry is not run."""

    school_report: str | None = None
    county_summary: str | None = None
    school_trend: str | None = None
    framework_audit: str | None = None
    region_summary: str | None = None  # runs with counties: once per year, comparing the counties


class County(_Model):
    """One county of a city's or province's run: its own data files, registry and issuer."""

    name: str = Field(min_length=1, max_length=40)  # also its folder name: outputs/<year>/<name>/
    data: list[str] = Field(min_length=1)
    registry: str | None = None
    intake_notes: str | None = None
    issuer: Issuer | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _one_file(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class RunFileModel(_Model):
    """The run file as written (paths still relative to the run file's folder)."""

    year: int | list[int] | None = None
    data: list[str] = Field(default_factory=list)  # required unless counties are listed
    registry: str | None = None
    framework: str | dict[int, str] = DEFAULT_FRAMEWORK  # one for all years, or one per year
    notebooks: Notebooks
    formats: list[Format] = Field(default_factory=lambda: list(FORMATS))
    output: str = "outputs"
    jobs: int | None = Field(default=None, ge=1)
    cell_timeout: float | None = Field(default=600, gt=0)
    start_timeout: float = Field(default=60, gt=0)
    intake_notes: str | None = None
    issuer: Issuer | None = None
    docx_template: str | None = None
    notice: Notice | None = None
    publicity: Publicity | None = None
    executor: str = "local"
    scheduler: str | None = None
    shared_output: bool = False
    region: str = Field(default="全市", min_length=1, max_length=40)  # the city's or province's name
    counties: list[County] | None = None
    show_rater_marks: bool = False
    allow: list[Literal["missing_schools", "name_mismatch", "conflicts", "rate_readings"]] = Field(default_factory=list)
    robustness: RobustnessConfig | None = Field(default_factory=RobustnessConfig)

    @field_validator("robustness", mode="before")
    @classmethod
    def _robustness_off(cls, value: Any) -> Any:
        return None if value is False else value

    @field_validator("data", mode="before")
    @classmethod
    def _one_file(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True)
class RunSpec:
    """A checked run file with absolute paths."""

    source: Path
    years: tuple[int, ...]
    data: tuple[Path, ...]
    registry: Path | None
    framework: str
    """The framework (shipped name or absolute path) of every year; with a per-year mapping,
    the latest year's (see :meth:`framework_for`)."""
    notebooks: dict[str, Path]
    formats: tuple[str, ...]
    output: Path
    jobs: int | None
    cell_timeout: float | None
    start_timeout: float
    intake_notes: str
    issuer: Issuer | None = None
    robustness: RobustnessConfig | None = None
    docx_template: Path | None = None
    notice: Notice | None = None
    publicity: Publicity | None = None
    show_rater_marks: bool = False
    allow: tuple[str, ...] = ()
    executor: str = "local"
    scheduler: str | None = None
    """The run file's ``scheduler:`` (for ``--cluster dask`` as much as for ``executor: dask``)."""
    shared_output: bool = False
    county: str = ""
    """The county's name when this is one county of a region's run (its outputs go to
    ``<output>/<year>/<county>/``); empty for a plain run file."""
    registry_county: str = ""
    """Set when ``registry`` is one registry shared by a region's counties: this county's rows are
    those whose 县区 column is this name (:func:`evalkit.intake.registry.county_registry`)."""
    counties: tuple[RunSpec, ...] = ()
    """A region's run: one run per county (each with its own data, registry, output folder)."""
    region: str = "全市"
    frameworks: tuple[tuple[int, str], ...] = ()
    """The run file's per-year mapping ``framework: {2024: …, 2025: …}`` as (year, framework)
    pairs in year order; empty when one framework serves every year."""

    def framework_for(self, year: int) -> str:
        """The framework of ``year``: from the per-year mapping, else the run's one framework.
        Raises :class:`FrameworkYearError` for a year the mapping does not name."""
        if not self.frameworks:
            return self.framework
        mapping = dict(self.frameworks)
        if int(year) not in mapping:
            raise FrameworkYearError(
                f"运行文件 {self.source} 的 framework 没有为 {int(year)} 年指定指标体系（已指定："
                f"{'、'.join(f'{y} 年' for y in mapping)}）；请在 framework 下加上 {int(year)}: <指标体系文件> / "
                f"no framework for {int(year)}"
            )
        return mapping[int(year)]

    def year_folder(self, year: int) -> Path:
        """Where the year's outputs go: ``<output>/<year>/`` (``…/<county>/`` for a county of a region)."""
        folder = self.output / str(int(year))
        return folder / self.county if self.county else folder

    def with_options(
        self,
        *,
        year: int | None = None,
        formats: list[str] | None = None,
        jobs: int | None = None,
        cluster: str | None = None,
        allow: list[str] | None = None,
    ) -> RunSpec:
        """The same run with command-line overrides (``--year``, ``--formats``, ``--jobs``,
        ``--cluster``; ``--allow`` adds to the run file's ``allow``)."""
        from dataclasses import replace

        from evalkit.intake.gate import normalise_allow

        changed = replace(
            self,
            years=(int(year),) if year is not None else self.years,
            formats=normalise_formats(formats) if formats is not None else self.formats,
            jobs=jobs if jobs is not None else self.jobs,
            executor=_executor_text(cluster, self.scheduler) if cluster is not None else self.executor,
            allow=tuple(sorted(normalise_allow([*self.allow, *(allow or [])]))),
        )
        counties = tuple(
            c.with_options(year=year, formats=formats, jobs=jobs, cluster=cluster, allow=allow) for c in self.counties
        )
        return replace(changed, counties=counties)


class FrameworkYearError(EvalkitError):
    """A year of the data without a framework in the run file's per-year ``framework`` mapping."""


class OptionError(EvalkitError):
    """A command-line option the run cannot take (``--formats``)."""


def _executor_text(executor: str, scheduler: str | None) -> str:
    """The executor as one text (``local``, ``dask-local:N``, a scheduler address); raises
    :class:`~evalkit.runtime.choice.ExecutorChoiceError` for an unknown one (``dask`` needs
    ``scheduler``)."""
    return str(parse_executor(executor, scheduler))


def normalise_formats(formats: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``["pdf", "html"]`` → ``("ipynb", "html", "pdf")``: ipynb always, canonical order.
    Raises :class:`OptionError` for an unknown format."""
    wanted = {f.strip().lower() for f in formats if f.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise OptionError(f"不支持的输出格式 / unknown format: {', '.join(unknown)}（可选 html、pdf、docx）")
    return tuple(f for f in FORMATS if f == "ipynb" or f in wanted)


def _looks_like_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref or os.sep in ref


def _file_problems(data: dict[str, Any], base: Path) -> list[tuple[tuple, str]]:
    """Files named in the raw run file that cannot be inputs (missing, a folder or device, inside
    the output folder), and an output path that is not a folder (checked wherever the value is
    text)."""
    out: list[tuple[tuple, str]] = []
    output = data.get("output", "outputs")
    output_dir = (base / output).resolve() if isinstance(output, str) and output else None
    if output_dir is not None and (problem := output_folder_problem(output_dir)):
        out.append((("output",), problem))

    def check(loc: tuple, value: Any) -> None:  # see evalkit.planner.confine.input_file_problem
        if isinstance(value, str) and value and (problem := input_file_problem(base / value, output_dir)):
            out.append((loc, problem))

    files = data.get("data")
    for i, value in enumerate(
        [files] if isinstance(files, str) else files if isinstance(files, list) else []
    ):
        check(("data", i) if not isinstance(files, str) else ("data",), value)
    check(("registry",), data.get("registry"))
    check(("intake_notes",), data.get("intake_notes"))
    check(("docx_template",), data.get("docx_template"))
    template = data.get("docx_template")
    if isinstance(template, str) and template and (base / template).is_file():
        import zipfile

        if not zipfile.is_zipfile(base / template):
            out.append((("docx_template",), f"不是 Word 文档（.docx）/ not a .docx file: {base / template}"))
    for block in ("notice", "publicity"):
        if isinstance(data.get(block), dict):
            check((block, "template"), data[block].get("template"))
    counties = data.get("counties")
    for c, county in enumerate(counties if isinstance(counties, list) else []):
        if not isinstance(county, dict):
            continue
        cfiles = county.get("data")
        for i, value in enumerate([cfiles] if isinstance(cfiles, str) else cfiles if isinstance(cfiles, list) else []):
            check(("counties", c, "data", i) if not isinstance(cfiles, str) else ("counties", c, "data"), value)
        check(("counties", c, "registry"), county.get("registry"))
        check(("counties", c, "intake_notes"), county.get("intake_notes"))
    notebooks = data.get("notebooks")
    if isinstance(notebooks, dict):
        for kind in NOTEBOOK_KINDS:
            check(("notebooks", kind), notebooks.get(kind))
    fw = data.get("framework")
    refs = [(("framework",), fw)] if isinstance(fw, str) else (
        [(("framework", y), v) for y, v in fw.items()] if isinstance(fw, dict) else [])
    for loc, ref in refs:
        if not isinstance(ref, str):
            continue
        if _looks_like_path(ref):
            check(loc, ref)
        elif not builtin_framework_path(ref).is_file():
            out.append((loc, f"没有名为“{ref}”的内置指标体系，也不是文件路径 / unknown framework"))
    return out


_UNION_TAG = re.compile(r"^(int|str|float|bool|none|list\[.*\]|dict\[.*\])$")


def _merge_union_problems(found: list[tuple[tuple, str]]) -> list[tuple[tuple, str]]:
    """Pydantic reports a value matching no member of ``int | list[int]`` once per member
    (``year.int``, ``year.list[int]``); keep one problem per field."""
    out: dict[tuple, str] = {}
    for loc, msg in found:
        if any(isinstance(p, str) and _UNION_TAG.match(p) for p in loc):
            loc = tuple(p for p in loc if not (isinstance(p, str) and _UNION_TAG.match(p)))
            msg = "应为年份（整数）或年份列表 / a year or a list of years" if loc == ("year",) else msg
            if loc == ("framework",):
                msg = ("应为指标体系名称或文件路径，或按年度的映射，如 {2024: frameworks/2024.yaml} / "
                       "a framework, or one per year")
        out.setdefault(loc, msg)
    return list(out.items())


def _semantic_problems(model: RunFileModel) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    if not any(getattr(model.notebooks, k) for k in NOTEBOOK_KINDS):
        out.append((("notebooks",), "至少应指定一个笔记本 / name at least one notebook"))
    if isinstance(model.year, list) and not model.year:
        out.append((("year",), "年度列表不能为空 / empty list of years"))
    if isinstance(model.framework, dict) and not model.framework:
        out.append((("framework",), "按年度指定指标体系时至少应列出一年 / empty framework mapping"))
    for block in ("notice", "publicity"):
        if getattr(model, block) is not None and model.issuer is None:
            out.append(((block,), "通报和公示需要发文单位：请同时写 issuer 一节 / needs the issuer block"))
    p = model.publicity
    if p is not None and p.start and p.end and p.end < p.start:
        out.append((("publicity", "end"), "公示结束日期早于开始日期 / end before start"))
    if p is not None and p.end is None and model.issuer is not None:
        try:  # refused here, before any report is run, not after them at the documents
            add_working_days(p.start or model.issuer.issue_date(), p.days)
        except WorkdayCalendarError as err:
            out.append((("publicity",), str(err)))
    try:
        _executor_text(model.executor, model.scheduler)
    except ExecutorChoiceError as err:
        out.append((("executor",), str(err)))
    if not model.counties and not model.data:
        out.append((("data",), "应列出观测数据文件（或用 counties 列出各县）/ list the data files (or counties)"))
    if model.counties:
        from evalkit.planner.names import folder_name_problem

        if model.data:
            out.append((("data",), "列出 counties 时，数据写在各县下 / with counties, give data per county"))
        seen: set[str] = set()
        for c, county in enumerate(model.counties):
            problem = folder_name_problem(county.name)
            if problem:
                out.append((("counties", c, "name"), f"县名“{county.name}”不能用作文件夹名：{problem}"))
            if county.name in seen or county.name == REGION_FOLDER:
                out.append((("counties", c, "name"), f"县名“{county.name}”重复或为保留名 / duplicate or reserved"))
            seen.add(county.name)
    return out


def parse_run_file(data: Any, path: Path, text: str | YamlDocument | None = None) -> RunSpec:
    """Validate a run file's mapping (paths relative to ``path``'s folder); raise
    :class:`RunFileError` listing every problem, each with its line when ``text`` (the YAML text
    or its parsed document) is given."""
    base = path.resolve().parent
    doc = as_document(text)
    lines = doc.lines if doc else {}
    found: list[tuple[tuple, str]] = []
    model: RunFileModel | None = None
    if not isinstance(data, dict):
        found.append(((), "文件内容应为键值表 / the run file must be a mapping"))
    else:
        try:
            model = RunFileModel.model_validate(data)
        except ValidationError as err:
            found.extend(_merge_union_problems(pydantic_problems(err)))
        found.extend(_file_problems(data, base))
        if model is not None:
            found.extend(_semantic_problems(model))
    if found:
        raise RunFileError(
            str(path), [Problem(format_path(loc), msg, line_for(lines, loc)) for loc, msg in found]
        )
    assert model is not None
    years = model.year if isinstance(model.year, list) else [model.year] if model.year is not None else []
    spec = _spec(model, path, base, years)
    if not model.counties:
        return spec
    from dataclasses import replace

    counties = tuple(
        replace(
            spec,
            data=tuple((base / p).resolve() for p in county.data),
            registry=(base / county.registry).resolve() if county.registry else spec.registry,
            registry_county="" if county.registry or spec.registry is None else county.name,
            intake_notes=str((base / county.intake_notes).resolve()) if county.intake_notes else "",
            issuer=county.issuer or spec.issuer,
            county=county.name,
        )
        for county in model.counties
    )
    return replace(spec, counties=counties, region=model.region)


REGION_FOLDER = "region"
"""``<output>/<year>/region/``: the region summary of a run with counties."""


def _framework_ref(ref: str, base: Path) -> str:
    """A framework as the run file names it: a path (made absolute) or a shipped name."""
    return str((base / ref).resolve()) if _looks_like_path(ref) else ref


def _spec(model: RunFileModel, path: Path, base: Path, years: list[int]) -> RunSpec:
    per_year = (
        tuple(sorted((int(y), _framework_ref(ref, base)) for y, ref in model.framework.items()))
        if isinstance(model.framework, dict) else ()
    )
    return RunSpec(
        source=path.resolve(),
        years=tuple(sorted({int(y) for y in years})),
        data=tuple((base / p).resolve() for p in model.data),
        registry=(base / model.registry).resolve() if model.registry else None,
        framework=per_year[-1][1] if per_year else _framework_ref(str(model.framework), base),
        frameworks=per_year,
        notebooks={k: (base / v).resolve() for k in NOTEBOOK_KINDS if (v := getattr(model.notebooks, k))},
        formats=normalise_formats(model.formats),
        output=(base / model.output).resolve(),
        jobs=model.jobs,
        cell_timeout=model.cell_timeout,
        start_timeout=model.start_timeout,
        intake_notes=str((base / model.intake_notes).resolve()) if model.intake_notes else "",
        issuer=model.issuer,
        robustness=model.robustness,
        docx_template=(base / model.docx_template).resolve() if model.docx_template else None,
        notice=_with_template(model.notice, base),
        publicity=_with_template(model.publicity, base),
        executor=_executor_text(model.executor, model.scheduler),
        scheduler=model.scheduler,
        shared_output=model.shared_output,
        show_rater_marks=model.show_rater_marks,
        allow=tuple(sorted(set(model.allow))),
    )


def _with_template(block: Any, base: Path) -> Any:
    """``block`` with its ``template`` made absolute (relative to the run file's folder)."""
    if block is None or not block.template:
        return block
    return block.model_copy(update={"template": str((base / block.template).resolve())})


def load_run_file(path: str | Path) -> RunSpec:
    """Read and check a run file; raise :class:`RunFileError` listing every problem."""
    path = Path(path)
    try:
        doc = load_yaml_file(path)  # bounded: encoding, size, depth, aliases; parsed once
    except YamlInputError as err:
        raise RunFileError(str(path), [err.problem]) from None
    return parse_run_file(doc.data, path, doc)
