"""The one gate between evaluators' data and scoring: :class:`ValidatedObservations`.

Scoring accepts only observations that passed intake's validation. A
:class:`ValidatedObservations` can only be built here, by reading files
(:func:`read_validated`) or by validating a table in the Observations contract
(:func:`validate_observations`); both run every check of :mod:`evalkit.intake` and then
:func:`admit`:

- every **error** stops (the same list ``evalkit validate`` prints);
- every **warning that changes a score** stops too, unless its kind is allowed explicitly
  (:data:`ALLOWABLE`: ``missing_schools`` — a registry school without any data, scored as 缺报;
  ``name_mismatch`` — a school name that differs from the registry's for its id;
  ``conflicts`` — a single value beside inspectors' marks, counted together;
  ``rate_readings`` — a bare rate read in its column's style far from the column's other values,
  :mod:`evalkit.intake.ratios`). Allowed problems
  are kept (:attr:`ValidatedObservations.allowed`), printed by the commands and recorded in the
  Results (``meta["allowed"]``, ``flags``).

Other warnings (a missing value the framework's missing-data policy decides, an implausibly
large value, an ignored column) are recorded and do not stop scoring.

    validated = read_validated(["2024.xlsx"], fw, registry, allow=["missing_schools"])
    results = evalkit.scoring.score(validated, fw, registry)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import EXIT_DATA, EvalkitError
from evalkit.framework import Framework, load_framework
from evalkit.intake.result import IntakeError, IntakeResult
from evalkit.issues import Issue

ALLOWABLE: dict[str, tuple[str, ...]] = {
    "missing_schools": ("no_data",),
    "name_mismatch": ("school_name_mismatch",),
    "conflicts": ("conflict",),
    "rate_readings": ("unlikely_reading",),
}
"""Allow kind (run file ``allow:``, ``--allow``) → the intake warning kinds it lets through."""

ALLOW_NAMES = {
    "missing_schools": "缺报学校（没有任何数据）",
    "name_mismatch": "学校名称与名册不符",
    "conflicts": "单一值与评分人评分并存",
    "rate_readings": "比率读法与本列其他值不符",
}
ALLOW_FLAGS = {
    "missing_schools": "--allow-missing",
    "name_mismatch": "--allow name_mismatch",
    "conflicts": "--allow conflicts",
    "rate_readings": "--allow rate_readings",
}
ALLOWED_CONSEQUENCE = {
    "missing_schools": "；按缺报处理：不评分、不排名、不评等次",
    "rate_readings": "；按本列读法评分",
}
_BLOCKING = {kind: allow for allow, kinds in ALLOWABLE.items() for kind in kinds}
_GATE = object()


class GateError(IntakeError):
    """Data refused by the gate: ``problems`` lists every issue, ``errors`` the errors and
    ``blocking`` the warnings that change a score and were not allowed."""

    def __init__(self, problems: list[Issue], blocking: list[Issue]):
        super().__init__(problems)
        self.blocking = list(blocking)
        errors = self.errors
        counts = [f"错误 {len(errors)} 个"] if errors else []
        counts += [f"需确认的警告 {len(blocking)} 个"] if blocking else []
        lines = [f"评价数据未通过校验，未评分 / data refused: {'，'.join(counts)}"]
        if errors:
            lines.append(f"错误（{len(errors)} 个）：")
            lines.extend(f"  - {p.message}" for p in errors)
        by_allow: dict[str, list[Issue]] = {}
        for issue in blocking:
            by_allow.setdefault(_BLOCKING[issue.kind], []).append(issue)
        for allow, issues in by_allow.items():
            lines.append(
                f"会改变评分的警告：{ALLOW_NAMES[allow]}（{len(issues)} 个）。核实无误后可用 {ALLOW_FLAGS[allow]}"
                f"（或运行文件 allow: [{allow}]）允许："
            )
            lines.extend(f"  - {p.message}" for p in issues)
        self.args = ("\n".join(lines),)


class AllowKindError(EvalkitError):
    """An ``allow`` kind that does not exist (``--allow``, the run file's ``allow:``)."""

    exit_code = EXIT_DATA


def normalise_allow(allow: Iterable[str] | None) -> frozenset[str]:
    """Allow kinds as given (``"missing_schools,name_mismatch"`` or a list); raises
    :class:`AllowKindError` for an unknown kind."""
    kinds: set[str] = set()
    for part in allow or ():
        kinds.update(k.strip() for k in str(part).split(",") if k.strip())
    unknown = sorted(kinds - set(ALLOWABLE))
    if unknown:
        raise AllowKindError(
            f"未知的 allow 类别 / unknown allow kind: {', '.join(unknown)}（可选 {', '.join(ALLOWABLE)}）"
        )
    return frozenset(kinds)


class ValidatedObservations:
    """Observations that passed the gate (built only by :func:`admit`): the Observations table
    with provenance (``frame``), the intake's full account (``intake``: problems,
    normalisations, unused rows), the framework and registry they were checked against, and
    the allowed problems (``allowed``: allow kind → issues)."""

    __slots__ = ("allowed", "frame", "framework_fingerprint", "intake", "kinds", "missing", "registry")

    def __init__(
        self,
        *,
        frame: pd.DataFrame,
        intake: IntakeResult,
        framework_fingerprint: str,
        registry: pd.DataFrame | None,
        allowed: dict[str, list[Issue]],
        kinds: frozenset[str] = frozenset(),
        token: object = None,
    ):
        if token is not _GATE:
            raise TypeError(
                "ValidatedObservations 只能由 evalkit.intake 的校验生成（read_validated / validate_observations）"
                " / built only by intake's validation"
            )
        self.frame = frame
        self.intake = intake
        self.framework_fingerprint = framework_fingerprint
        self.registry = registry
        self.allowed = allowed
        self.kinds = kinds
        self.missing: dict[tuple[str, int], str] = {
            (i.school_id, int(i.value)): i.school_name or i.school_id
            for i in allowed.get("missing_schools", [])
        }

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return f"<ValidatedObservations {len(self.frame)} 条观测；{self.intake.summary()}>"

    def check_for(self, framework: Framework, registry: pd.DataFrame | None) -> None:
        """Raise ``ValueError`` unless these observations were validated against ``framework``
        and ``registry`` (``None``: the registry they were validated with is used)."""
        if framework.fingerprint != self.framework_fingerprint:
            raise ValueError(
                f"这些观测数据是按另一个指标体系校验的，不能用 {framework.id}（{framework.version}）评分"
                " / validated against another framework"
            )
        if registry is not None and (self.registry is None or not _same_registry(registry, self.registry)):
            raise ValueError(
                "这些观测数据未按此学校名册校验；请用同一名册重新校验 / validated without this registry"
            )

    def allowed_notes(self) -> list[str]:
        """One Chinese line per allowed problem, for the console."""
        return [
            f"已允许（{ALLOW_FLAGS[kind]}）：{issue.message}{ALLOWED_CONSEQUENCE.get(kind, '')}"
            for kind, issues in self.allowed.items()
            for issue in issues
        ]

    def allowed_flags(self) -> pd.DataFrame:
        """``Results.flags`` rows for the allowed warnings about one value that scoring keeps
        (``rate_readings``: kind ``rate_reading``): school_id, year, indicator_id,
        indicator_name, kind, message (the warning, naming file, sheet and cell). The year is
        that of the observation at the warning's cell."""
        issues = self.allowed.get("rate_readings", [])
        columns = ["school_id", "year", "indicator_id", "indicator_name", "kind", "message"]
        if not issues:
            return pd.DataFrame(columns=columns)
        obs = self.frame
        years = dict(zip(zip(obs["file"], obs["sheet"], obs["cell"], strict=True), obs["year"], strict=True))
        rows = [
            {
                "school_id": i.school_id,
                "year": int(years[(i.file, i.sheet, i.cell)]),
                "indicator_id": i.indicator_id,
                "indicator_name": i.indicator_name,
                "kind": "rate_reading",
                "message": f"{i.message.split(' / ')[0]}（已允许 rate_readings，按本列读法评分）",
            }
            for i in issues
            if (i.file, i.sheet, i.cell) in years
        ]
        return pd.DataFrame(rows, columns=columns)

    def allowed_counts(self) -> dict[str, int]:
        """Allow kind → how many problems it let through (for ``Results.meta["allowed"]``)."""
        return {kind: len(issues) for kind, issues in self.allowed.items()}


def _same_registry(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a is b:
        return True
    cols = [c for c in ("school_id", "school_name", "active_from", "active_to") if c in a.columns and c in b.columns]
    try:
        return a[cols].astype(str).reset_index(drop=True).equals(b[cols].astype(str).reset_index(drop=True))
    except (KeyError, ValueError):
        return False


def admit(
    intake: IntakeResult,
    framework: Framework,
    registry: pd.DataFrame | None = None,
    allow: Iterable[str] | None = None,
    *,
    years: Iterable[int] | None = None,
) -> ValidatedObservations:
    """The gate: raise :class:`GateError` listing every error and every score-changing warning
    not allowed (see the module docstring); otherwise return the validated observations.
    ``years``: only these years will be scored, so a school without data in another year
    changes no score (it stays a plain warning); errors stop whatever their year."""
    kinds = normalise_allow(allow)
    scored = {int(y) for y in years} if years else None
    warnings = [p for p in intake.warnings if not (scored and p.kind == "no_data" and int(p.value) not in scored)]
    blocking = [p for p in warnings if p.kind in _BLOCKING and _BLOCKING[p.kind] not in kinds]
    if intake.errors or blocking:
        raise GateError(intake.problems, blocking)
    allowed: dict[str, list[Issue]] = {}
    for p in warnings:
        if p.kind in _BLOCKING:
            allowed.setdefault(_BLOCKING[p.kind], []).append(p)
    return ValidatedObservations(
        frame=intake.observations,
        intake=intake,
        framework_fingerprint=framework.fingerprint,
        registry=registry,
        allowed=allowed,
        kinds=kinds,
        token=_GATE,
    )


def read_validated(
    paths: str | Path | Sequence[str | Path],
    framework: Framework | str | Path,
    registry: pd.DataFrame | None = None,
    *,
    year: int | None = None,
    allow: Iterable[str] | None = None,
    years: Iterable[int] | None = None,
) -> ValidatedObservations:
    """Evaluators' files through intake (:func:`evalkit.intake.read_observations`) and the gate
    (``years``: the years that will be scored, see :func:`admit`)."""
    from evalkit.intake.read import read_observations

    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    return admit(read_observations(paths, fw, registry, year), fw, registry, allow, years=years)


def validate_observations(
    observations: pd.DataFrame,
    framework: Framework | str | Path,
    registry: pd.DataFrame | None = None,
    *,
    year: int | None = None,
    allow: Iterable[str] | None = None,
) -> ValidatedObservations:
    """A table in the Observations contract (``docs/architecture.md``) through intake's checks
    and the gate — the explicit validation for data built in Python. Its rows are read like a
    long CSV whose header is the table's columns (row 2 is the table's first row); ratios are
    fractions (0–1) as the contract says; an empty source is ``inspection``. The table is not
    modified."""
    from evalkit.intake.read import read_frame

    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    return admit(read_frame(observations, fw, registry, year), fw, registry, allow)


def as_validated(
    observations: Any,
    framework: Framework,
    registry: pd.DataFrame | None = None,
    allow: Iterable[str] | None = None,
) -> ValidatedObservations:
    """``observations`` if already validated (checked against ``framework`` and ``registry``),
    else a DataFrame through :func:`validate_observations`."""
    if isinstance(observations, ValidatedObservations):
        observations.check_for(framework, registry)
        return observations
    if not isinstance(observations, pd.DataFrame):
        raise TypeError(
            f"评分需要观测数据表（DataFrame）或已校验的观测数据，而不是 {type(observations).__name__} / "
            "expected a DataFrame or ValidatedObservations"
        )
    return validate_observations(observations, framework, registry, allow=allow)
