"""The run file: one YAML file that says what ``evalkit run`` produces.

Paths in a run file are relative to the run file's own folder. Example (``params/demo.yaml``)::

    year: 2024                       # or a list of years; omitted: the latest year in the data
    data:                            # long observation files (CSV/XLSX), every year wanted in trends
      - ../src/evalkit/demo/data/observations_2022.csv
      - ../src/evalkit/demo/data/observations_2023.csv
      - ../src/evalkit/demo/data/observations_2024.csv
    registry: ../src/evalkit/demo/data/registry.csv
    framework: shiquan-party-building   # a shipped framework's name, or a YAML path
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
      county: 青岚县                  # the county's name, used in titles ("青岚县 2024 年度……")
      body: 青岚县教育体育局          # the issuing body (落款)
      date: 2024-12-20               # issue date; omitted: the day of the run
      doc_number: 青教体发〔2024〕18号  # optional 文号
      contact: 局党建办 0915-1234567   # optional contact for questions and appeals
    robustness:                      # Monte Carlo rank intervals in every report (see
      replications: 1000             # evalkit.robustness.config for every field); null: none
    allow: []                        # score-changing warnings let through (each is printed and
                                     # recorded): missing_schools (缺报), name_mismatch, conflicts

Where inputs may come from: every input (``data``, ``registry``, ``framework`` when a path,
``notebooks``, ``intake_notes``) must be an existing regular file — not a folder, device, pipe
or socket — anywhere on disk *outside* the output folder (a run rewrites and sweeps its output
folder). ``output`` must be a folder (or not exist yet); everything a run writes or deletes
lies inside it (see :mod:`evalkit.batch.confine`). The run file itself is read as bounded YAML
(:mod:`evalkit.yamlload`): UTF-8, at most 2 MB, no alias bombs.

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

from evalkit.batch.confine import input_file_problem, output_folder_problem
from evalkit.errors import EvalkitError
from evalkit.framework import DEFAULT_FRAMEWORK, builtin_framework_path
from evalkit.robustness.config import RobustnessConfig
from evalkit.yamlload import YamlInputError, load_yaml_file
from evalkit.yamlpaths import Problem, format_path, line_for, pydantic_problems, yaml_line_index

Format = Literal["ipynb", "html", "pdf"]
FORMATS: tuple[Format, ...] = ("ipynb", "html", "pdf")
NotebookKind = Literal["school_report", "county_summary", "school_trend", "framework_audit"]
NOTEBOOK_KINDS: tuple[NotebookKind, ...] = ("school_report", "county_summary", "school_trend", "framework_audit")
NOTEBOOK_LABELS: dict[str, str] = {
    "school_report": "学校报告",
    "county_summary": "全县汇总",
    "school_trend": "历年趋势",
    "framework_audit": "指标体系审计",
}
COUNTY_KINDS = ("county_summary", "framework_audit")
"""Notebooks run once per year for the whole county (not per school)."""


class RunFileError(EvalkitError, ValueError):
    """A run file with problems; ``problems`` lists every one of them."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"运行文件 {source} 有 {len(problems)} 个问题 / problems in the run file:\n{lines}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Issuer(_Model):
    """Who issues the reports: named in every title block and in the 落款 of the last page."""

    county: str = Field(min_length=1, max_length=40)
    body: str = Field(min_length=1, max_length=60)
    date: dt.date | None = None
    doc_number: str | None = Field(default=None, max_length=60)
    contact: str | None = Field(default=None, max_length=120)

    def issue_date(self, today: dt.date | None = None) -> dt.date:
        """The declared issue date, or ``today`` (default: the run's date)."""
        return self.date or today or dt.date.today()


class Notebooks(_Model):
    """The notebook of each kind of report (paths); a missing or null entry is not run."""

    school_report: str | None = None
    county_summary: str | None = None
    school_trend: str | None = None
    framework_audit: str | None = None


class RunFileModel(_Model):
    """The run file as written (paths still relative to the run file's folder)."""

    year: int | list[int] | None = None
    data: list[str] = Field(min_length=1)
    registry: str | None = None
    framework: str = DEFAULT_FRAMEWORK
    notebooks: Notebooks
    formats: list[Format] = Field(default_factory=lambda: list(FORMATS))
    output: str = "outputs"
    jobs: int | None = Field(default=None, ge=1)
    cell_timeout: float | None = Field(default=600, gt=0)
    start_timeout: float = Field(default=60, gt=0)
    intake_notes: str | None = None
    issuer: Issuer | None = None
    allow: list[Literal["missing_schools", "name_mismatch", "conflicts"]] = Field(default_factory=list)
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
    notebooks: dict[str, Path]
    formats: tuple[str, ...]
    output: Path
    jobs: int | None
    cell_timeout: float | None
    start_timeout: float
    intake_notes: str
    issuer: Issuer | None = None
    robustness: RobustnessConfig | None = None
    allow: tuple[str, ...] = ()

    def with_options(
        self,
        *,
        year: int | None = None,
        formats: list[str] | None = None,
        jobs: int | None = None,
        allow: list[str] | None = None,
    ) -> RunSpec:
        """The same run with command-line overrides (``--year``, ``--formats``, ``--jobs``;
        ``--allow`` adds to the run file's ``allow``)."""
        from dataclasses import replace

        from evalkit.intake.gate import normalise_allow

        return replace(
            self,
            years=(int(year),) if year is not None else self.years,
            formats=normalise_formats(formats) if formats is not None else self.formats,
            jobs=jobs if jobs is not None else self.jobs,
            allow=tuple(sorted(normalise_allow([*self.allow, *(allow or [])]))),
        )


def normalise_formats(formats: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``["pdf", "html"]`` → ``("ipynb", "html", "pdf")``: ipynb always, canonical order.
    Raises ``ValueError`` for an unknown format."""
    wanted = {f.strip().lower() for f in formats if f.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise ValueError(f"不支持的输出格式 / unknown format: {', '.join(unknown)}（可选 html、pdf）")
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

    def check(loc: tuple, value: Any) -> None:  # see evalkit.batch.confine.input_file_problem
        if isinstance(value, str) and value and (problem := input_file_problem(base / value, output_dir)):
            out.append((loc, problem))

    files = data.get("data")
    for i, value in enumerate(
        [files] if isinstance(files, str) else files if isinstance(files, list) else []
    ):
        check(("data", i) if not isinstance(files, str) else ("data",), value)
    check(("registry",), data.get("registry"))
    check(("intake_notes",), data.get("intake_notes"))
    notebooks = data.get("notebooks")
    if isinstance(notebooks, dict):
        for kind in NOTEBOOK_KINDS:
            check(("notebooks", kind), notebooks.get(kind))
    fw = data.get("framework")
    if isinstance(fw, str):
        if _looks_like_path(fw):
            check(("framework",), fw)
        elif not builtin_framework_path(fw).is_file():
            out.append((("framework",), f"没有名为“{fw}”的内置指标体系，也不是文件路径 / unknown framework"))
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
        out.setdefault(loc, msg)
    return list(out.items())


def _semantic_problems(model: RunFileModel) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    if not any(getattr(model.notebooks, k) for k in NOTEBOOK_KINDS):
        out.append((("notebooks",), "至少应指定一个笔记本 / name at least one notebook"))
    if isinstance(model.year, list) and not model.year:
        out.append((("year",), "年度列表不能为空 / empty list of years"))
    return out


def parse_run_file(data: Any, path: Path, text: str | None = None) -> RunSpec:
    """Validate a run file's mapping (paths relative to ``path``'s folder); raise
    :class:`RunFileError` listing every problem."""
    base = path.resolve().parent
    lines = yaml_line_index(text) if text else {}
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
    return RunSpec(
        source=path.resolve(),
        years=tuple(sorted({int(y) for y in years})),
        data=tuple((base / p).resolve() for p in model.data),
        registry=(base / model.registry).resolve() if model.registry else None,
        framework=str((base / model.framework).resolve())
        if _looks_like_path(model.framework)
        else model.framework,
        notebooks={k: (base / v).resolve() for k in NOTEBOOK_KINDS if (v := getattr(model.notebooks, k))},
        formats=normalise_formats(model.formats),
        output=(base / model.output).resolve(),
        jobs=model.jobs,
        cell_timeout=model.cell_timeout,
        start_timeout=model.start_timeout,
        intake_notes=str((base / model.intake_notes).resolve()) if model.intake_notes else "",
        issuer=model.issuer,
        robustness=model.robustness,
        allow=tuple(sorted(set(model.allow))),
    )


def load_run_file(path: str | Path) -> RunSpec:
    """Read and check a run file; raise :class:`RunFileError` listing every problem."""
    path = Path(path)
    try:
        text, data = load_yaml_file(path)  # bounded: encoding, size, depth, aliases
    except YamlInputError as err:
        raise RunFileError(str(path), [err.problem]) from None
    return parse_run_file(data, path, text)
