"""Sealing a published county-year: ``evalkit publish outputs/2024``.

After the year's 通报 is issued, :func:`publish` keeps inside the year's folder everything needed
to show later what was published and to regenerate it (:mod:`evalkit.planner.replay`)::

    <year>/record/published.json         the seal (below)
    <year>/record/inputs/<sha256>        a content-addressed copy of every input the run read

``published.json``::

    {"schema": 1, "year": 2024, "version": 1, "published": "2024-12-20T10:00:00+08:00",
     "date": "2024-12-20", "wenhao": "青教体发〔2024〕18号", "issue_date": "2024-12-20",
     "manifest_sha256": "…", "formats": ["ipynb", "html", "pdf"],
     "inputs": [{"role": "data", "field": "data[0]", "path": "/…/obs_2024.csv",
                 "sha256": "…", "size": 1234, "file": "inputs/<sha256>"}, …],
     "outputs": {"scores/schools.parquet": "<sha256>", "scoreboard.xlsx": "…",
                 "county/通报_2024.docx": "…", "schools/001/001_2024_报告.html": "…", …},
     "corrections": ["corrections/1/correction.json"],          # from version 2 on
     "previous": {"version": 1, "path": "history/v1/record/published.json", "sha256": "…"}}

The inputs are those ``manifest.json`` recorded when the run started (their digests then):
a file changed since is refused, never sealed in its new state. A year is sealed iff
``record/published.json`` exists; ``evalkit run`` then refuses to touch it unless asked to
correct it (``--correction "理由"``, :mod:`evalkit.planner.correction`), after which the year is
sealed again as the next version.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.io.atomic import atomic_write_bytes, atomic_write_text
from evalkit.planner.fingerprints import sha256_file
from evalkit.planner.inputs import changed_inputs
from evalkit.planner.manifest import MANIFEST_NAME, Manifest, now
from evalkit.planner.published import RECORD_DIR, published_path

INPUTS_DIR = "inputs"
CORRECTIONS_DIR = "corrections"
SCHEMA = 1


class SealError(EvalkitError):
    """A year that cannot be published, or a sealed year a run may not touch."""

    exit_code = 1


def read_published(folder: Path) -> dict[str, Any] | None:
    """The seal of a year's folder, or ``None`` when the year is not sealed."""
    path = published_path(folder)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise SealError(f"公布记录 {path} 无法读取 / unreadable seal: {err}") from None
    if not isinstance(data, dict):
        raise SealError(f"公布记录 {path} 格式不对 / malformed seal")
    return data


def describe(seal: dict[str, Any]) -> str:
    """``2024 年度结果已于 2024-12-20 公布（文号 …，第 1 版）``."""
    wenhao = f"文号 {seal['wenhao']}，" if seal.get("wenhao") else ""
    return f"{seal.get('year')} 年度结果已于 {seal.get('date')} 公布（{wenhao}第 {seal.get('version', 1)} 版）"


def refuse_sealed(folder: Path, run_file: str | Path) -> None:
    """Raise :class:`SealError` when ``folder`` is sealed: a run may not overwrite it silently."""
    seal = read_published(folder)
    if seal is None:
        return
    raise SealError(
        f"{folder}：{describe(seal)}，不能直接重新运行覆盖已公布的结果。\n"
        f"如需更正，请写明理由后运行：evalkit run {run_file} --correction \"更正理由\"\n"
        "（更正会重新计算，记录改动的数据和结果，生成更正说明，并把原版本保存在 history/ 下）"
        " / this year is published and sealed; correct it with --correction"
    )


def _outputs(folder: Path, manifest: Manifest) -> dict[str, str]:
    """Digests of the published results: scores, scoreboard, county documents, every report."""
    rels: list[str] = []
    scores = folder / "scores"
    if scores.is_dir():
        rels += sorted(p.relative_to(folder).as_posix() for p in scores.rglob("*") if p.is_file())
    if (folder / "scoreboard.xlsx").is_file():
        rels.append("scoreboard.xlsx")
    documents = (manifest.data.get("documents") or {}).get("outputs") or {}
    rels += sorted(documents.values())
    for entry in manifest.reports.values():
        rels += sorted((entry.get("outputs") or {}).values())
    out: dict[str, str] = {}
    for rel in rels:
        path = folder / rel
        if rel and path.is_file():
            out[rel] = sha256_file(path)
    return out


def seal_year(
    folder: Path,
    *,
    wenhao: str | None = None,
    today: dt.date | None = None,
    version: int = 1,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Seal ``folder`` (the caller holds its lock and has checked it is not sealed): copy every
    input the manifest recorded into ``record/inputs/<sha256>`` and write ``record/published.json``
    (atomically, last: a seal that exists is complete). Raises :class:`SealError` when the run did
    not finish, a report failed, or an input changed since the run read it."""
    folder = Path(folder)
    manifest = Manifest.load(folder)
    if not manifest.path.is_file():
        raise SealError(f"{folder} 中没有 {MANIFEST_NAME}：请先运行 evalkit run / no run to publish")
    run = manifest.data.get("run") or {}
    if run.get("state") != "finished":
        raise SealError(f"{folder} 的运行尚未完成（状态：{run.get('state')}），不能公布 / the run did not finish")
    failed = [k for k, e in manifest.reports.items() if e.get("status") == "failed"]
    if failed:
        raise SealError(
            f"{folder} 有 {len(failed)} 份报告生成失败（{'、'.join(failed[:5])}），不能公布 / failed reports"
        )
    inputs = manifest.data.get("inputs")
    if not inputs:
        raise SealError(f"{folder} 的 {MANIFEST_NAME} 没有记录输入文件（由旧版本生成？）：请重新运行后再公布")
    changed = changed_inputs(inputs)
    if changed:
        raise SealError(
            "这些输入文件在运行之后被修改或删除，公布的结果与它们不符，请重新运行后再公布 / inputs changed "
            "since the run:\n" + "\n".join(f"  - {p}" for p in changed)
        )
    store = folder / RECORD_DIR / INPUTS_DIR
    sealed_inputs = []
    for entry in inputs:
        target = store / entry["sha256"]
        if not (target.is_file() and sha256_file(target) == entry["sha256"]):
            atomic_write_bytes(target, Path(entry["path"]).read_bytes())
        sealed_inputs.append({**entry, "file": f"{INPUTS_DIR}/{entry['sha256']}"})
    day = today or dt.date.today()
    issuer = manifest.data.get("issuer") or {}
    documents = manifest.data.get("documents") or {}
    seal: dict[str, Any] = {
        "schema": SCHEMA,
        "year": manifest.data.get("year"),
        "version": int(version),
        "published": now(),
        "date": day.isoformat(),
        "wenhao": wenhao or issuer.get("doc_number") or "",
        "issue_date": documents.get("issue_date") or issuer.get("date") or "",
        "run_issue_date": manifest.data.get("issue_date") or "",
        "county": issuer.get("county") or "",
        "manifest_sha256": sha256_file(manifest.path),
        "formats": list(run.get("formats") or []),
        "evalkit_version": manifest.data.get("evalkit_version"),
        "inputs": sealed_inputs,
        "outputs": _outputs(folder, manifest),
        **(extra or {}),
    }
    text = json.dumps(seal, ensure_ascii=False, indent=2) + "\n"
    atomic_write_text(published_path(folder), text)
    return seal


def publish(folder: str | Path, *, wenhao: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """``evalkit publish``: seal a county-year (see the module docstring); refuses a year
    already sealed, with a Chinese message naming the way to correct it."""
    from evalkit.planner.report import RunError
    from evalkit.planner.year import folder_lock

    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise SealError(f"找不到年度输出文件夹 / no such folder: {folder}")
    existing = read_published(folder)
    if existing is not None:
        manifest = Manifest.load(folder)
        run_file = (manifest.data.get("run") or {}).get("run_file") or "运行文件"
        raise SealError(
            f"{folder}：{describe(existing)}，不能重复公布。如需更正，请运行：evalkit run {run_file} "
            "--correction \"更正理由\" / already published"
        )
    try:
        with folder_lock(folder):
            return seal_year(folder, wenhao=wenhao, today=today)
    except RunError as err:
        raise SealError(str(err)) from None


def verify_sealed(folder: Path, seal: dict[str, Any]) -> list[str]:
    """Every sealed input whose stored copy is missing or no longer has its digest, named (the
    stored file and the input it keeps); empty when all are intact."""
    problems = []
    for entry in seal.get("inputs") or []:
        stored = Path(folder) / RECORD_DIR / entry.get("file", f"{INPUTS_DIR}/{entry.get('sha256')}")
        what = f"{stored}（原文件 {entry.get('path')}，{entry.get('role')}）"
        if not stored.is_file():
            problems.append(f"封存的输入文件缺失 / missing: {what}")
        elif sha256_file(stored) != entry.get("sha256"):
            problems.append(f"封存的输入文件已被改动（摘要不符）/ altered: {what}")
    return problems
