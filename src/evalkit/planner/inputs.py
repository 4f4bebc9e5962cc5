"""Every input a run reads, with its digest: what ``manifest.json`` records as ``inputs`` at run
time, what ``evalkit publish`` seals and what ``evalkit replay`` regenerates from.

One entry per file::

    {"role": "data", "field": "data[0]", "path": "/abs/obs_2024.csv", "sha256": "…", "size": 1234}

``role`` is one of ``run_file``, ``data``, ``registry``, ``framework``, ``notebook``,
``intake_notes``, ``notice_template``, ``publicity_template``, ``docx_template``, ``lua_filter``,
``official_css``. ``field`` is where the run file names it (``data[1]``, ``notebooks.school_report``,
``notice.template``); empty for the run file and for the shipped files the run used without
naming them (``shipped: true``: the shipped framework by name, the shipped document templates and
Word reference document). A region's run is recorded per county (its own data and registry).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.planner.fingerprints import sha256_file
from evalkit.planner.runfile import RunSpec


def _entry(role: str, field: str, path: Path, shipped: bool = False) -> dict[str, Any]:
    path = Path(path)
    entry: dict[str, Any] = {
        "role": role,
        "field": field,
        "path": str(path),
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
    }
    if shipped:
        entry["shipped"] = True
    return entry


def run_inputs(spec: RunSpec) -> list[dict[str, Any]]:
    """The files ``spec`` reads (see the module docstring), each with its sha256 and size."""
    from evalkit.framework import builtin_framework_path
    from evalkit.publish.documents.compose import default_template
    from evalkit.publish.pandoc import LUA_FILTER, REFERENCE_DOCX

    out = [_entry("run_file", "", spec.source)]
    out += [_entry("data", f"data[{i}]", p) for i, p in enumerate(spec.data)]
    if spec.registry is not None:
        out.append(_entry("registry", "registry", spec.registry))
    for year_field, ref in _frameworks(spec.framework):
        if Path(ref).is_file():
            out.append(_entry("framework", year_field, Path(ref)))
        else:
            out.append(_entry("framework", year_field, builtin_framework_path(ref), shipped=True))
    out += [_entry("notebook", f"notebooks.{kind}", p) for kind, p in spec.notebooks.items()]
    if spec.intake_notes:
        out.append(_entry("intake_notes", "intake_notes", Path(spec.intake_notes)))
    for block, name in (("notice", "notice.md.j2"), ("publicity", "publicity.md.j2")):
        value = getattr(spec, block)
        if value is None:
            continue
        if value.template:
            out.append(_entry(f"{block}_template", f"{block}.template", Path(value.template)))
        else:
            out.append(_entry(f"{block}_template", "", default_template(name), shipped=True))
    if spec.docx_template is not None:
        out.append(_entry("docx_template", "docx_template", spec.docx_template))
    else:
        out.append(_entry("docx_template", "", REFERENCE_DOCX, shipped=True))
    out.append(_entry("lua_filter", "", LUA_FILTER, shipped=True))
    out.append(_entry("official_css", "", default_template("official.css"), shipped=True))
    return out


def _frameworks(framework: Any) -> list[tuple[str, str]]:
    """``(field, reference)`` of the run's framework(s): one name or path, or (when a run file
    names one per year) a mapping of year to name or path."""
    if isinstance(framework, dict):
        return [(f"framework.{year}", str(ref)) for year, ref in sorted(framework.items(), key=lambda kv: str(kv[0]))]
    return [("framework", str(framework))]


def changed_inputs(recorded: list[dict[str, Any]]) -> list[str]:
    """The recorded inputs whose file is now missing or different (their paths)."""
    changed = []
    for entry in recorded:
        path = Path(entry["path"])
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            changed.append(str(path))
    return changed
