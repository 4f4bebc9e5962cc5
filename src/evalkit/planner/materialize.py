"""A sealed year's run rebuilt from its sealed inputs (for ``evalkit replay`` and for a
correction, which reads the data as published): the sealed inputs are copied into a scratch
folder under their original file names, and the sealed run file is rewritten to name those
copies — the shipped framework, document templates and Word reference document included, so the
copies sealed are the ones used — with the output in the scratch folder, the year, the formats
and the issue date of the published run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from evalkit.planner.published import RECORD_DIR
from evalkit.planner.runfile import RunSpec, load_run_file
from evalkit.planner.seal import SealError


def _place(folder: Path, entry: dict[str, Any], scratch: Path) -> Path:
    """A copy of one sealed input in ``scratch/inputs/<field or role>/<original name>``."""
    where = (entry.get("field") or entry["role"]).replace("[", "_").replace("]", "").replace("/", "_")
    target = scratch / "inputs" / where / Path(entry["path"]).name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((folder / RECORD_DIR / entry["file"]).read_bytes())
    return target


def materialized_spec(folder: Path, seal: dict[str, Any], scratch: Path) -> RunSpec:
    """The run of the sealed year ``folder``, made from copies of its sealed inputs in
    ``scratch`` (see the module docstring, step 2)."""
    from evalkit.io.yaml_load import load_yaml_file

    folder = Path(folder)
    inputs = seal.get("inputs") or []
    by_role: dict[str, list[tuple[dict[str, Any], Path]]] = {}
    for entry in inputs:
        by_role.setdefault(entry["role"], []).append((entry, _place(folder, entry, scratch)))
    run_file = by_role.get("run_file")
    if not run_file:
        raise SealError(f"{folder} 的公布记录中没有运行文件 / no run file sealed")
    raw = load_yaml_file(run_file[0][1]).data
    if not isinstance(raw, dict) or raw.get("counties"):
        raise SealError("暂不支持重放多县（区域）运行 / replaying a region's run is not supported")
    raw = dict(raw)
    raw["data"] = [str(p) for _, p in sorted(by_role.get("data", []), key=lambda ep: _index(ep[0]["field"]))]
    for role, key in (("registry", "registry"), ("intake_notes", "intake_notes"), ("docx_template", "docx_template")):
        for _, path in by_role.get(role, []):
            raw[key] = str(path)
    for entry, path in by_role.get("framework", []):
        if entry["field"].startswith("framework.") and isinstance(raw.get("framework"), dict):
            year = entry["field"].split(".", 1)[1]
            raw["framework"] = {**raw["framework"], **{k: str(path) for k in raw["framework"] if str(k) == year}}
        else:
            raw["framework"] = str(path)
    notebooks = dict(raw.get("notebooks") or {})
    for entry, path in by_role.get("notebook", []):
        notebooks[entry["field"].split(".", 1)[1]] = str(path)
    raw["notebooks"] = notebooks
    for block in ("notice", "publicity"):
        for _, path in by_role.get(f"{block}_template", []):
            if isinstance(raw.get(block), dict):
                raw[block] = {**raw[block], "template": str(path)}
    raw["output"] = str(scratch / "out")
    raw["year"] = int(seal["year"])
    if seal.get("formats"):
        raw["formats"] = [f for f in seal["formats"]]
    if isinstance(raw.get("issuer"), dict) and seal.get("run_issue_date"):
        raw["issuer"] = {**raw["issuer"], "date": seal["run_issue_date"]}
    path = scratch / "replay.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_run_file(path)


def _index(field: str) -> int:
    try:
        return int(field.split("[", 1)[1].rstrip("]"))
    except (IndexError, ValueError):
        return 0
