"""The county's documents of a run year: the notice and the publicity list, when the run file asks.

:func:`write_county_documents` is called by ``evalkit run`` for each year (not for a run limited
to some schools with ``--schools``). Files go to ``<output>/<year>/county/``:
``通报_<year>.docx`` (+ ``.pdf`` when the run's formats include pdf) for a ``notice:`` block,
``公示名单_<year>.docx`` and ``.xlsx`` (+ ``.pdf``) for a ``publicity:`` block. They are rewritten
only when something they depend on changed: the county's data fingerprint, the grade order, the
run file's issuer/notice/publicity blocks, the templates, the Word reference document, evalkit's
version, and the issue date (which defaults to the day of the run).

A correction of a published year (``evalkit run --correction``) passes ``correction``
(``{"version": 2, "date": "2025-01-10", "original_date": "2024-12-20", "wenhao": "…"}``): the
documents are reissued as corrected — "（更正）" after the title, a line saying which issue they
replace, dated the day of the correction (never the first date again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from evalkit.io.atomic import atomic_write_bytes
from evalkit.results import Results

__all__ = ["documents_fingerprint", "write_county_documents"]


def _sha(path: str | Path | None) -> str:
    from evalkit.planner.fingerprints import sha256_file

    return sha256_file(Path(path)) if path else ""


def documents_fingerprint(
    spec: Any,
    data_fingerprint: str,
    grade_order: Sequence[str],
    today: dt.date | None = None,
    correction: dict[str, Any] | None = None,
) -> str:
    """What the county's documents depend on, hashed (see the module docstring)."""
    import evalkit
    from evalkit.planner.fingerprints import sha256_json
    from evalkit.publish.documents.compose import default_template
    from evalkit.publish.pandoc import LUA_FILTER, reference_docx

    def block(b: Any) -> Any:
        return b.model_dump(mode="json") if b is not None else None

    templates = [
        _sha((spec.notice.template if spec.notice else None) or default_template("notice.md.j2")),
        _sha((spec.publicity.template if spec.publicity else None) or default_template("publicity.md.j2")),
        _sha(reference_docx(spec.docx_template)),
        _sha(LUA_FILTER),
        _sha(default_template("official.css")),
        _sha(default_template("gongwen.md.j2")),
    ]
    return sha256_json(
        {
            "data": data_fingerprint,
            "grades": list(grade_order),
            "issuer": block(spec.issuer),
            "notice": block(spec.notice),
            "publicity": block(spec.publicity),
            "templates": templates,
            "pdf": "pdf" in spec.formats,
            "issue_date": spec.issuer.issue_date(today).isoformat() if spec.issuer else "",
            "evalkit": evalkit.__version__,
            **({"correction": correction} if correction else {}),
        }
    )


def write_county_documents(
    spec: Any,
    results: Results,
    grade_order: Sequence[str],
    year: int,
    folder: str | Path,
    *,
    sources: Iterable[str] = (),
    today: dt.date | None = None,
    correction: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the notice and/or publicity list of ``year`` into ``folder`` (atomically, each file
    made in memory first); return the written paths by name (``notice.docx``, ``publicity.xlsx``…).
    Nothing is written without a ``notice``/``publicity`` block (and an ``issuer``)."""
    from evalkit.publish.documents.facts import county_facts
    from evalkit.publish.documents.notice import notice_files, notice_paths
    from evalkit.publish.documents.publicity import publicity_files, publicity_paths

    if spec.issuer is None or (spec.notice is None and spec.publicity is None):
        return {}
    pdf = "pdf" in spec.formats
    issuer = spec.issuer
    if correction:  # reissued on the day of the correction
        issuer = issuer.model_copy(update={"date": dt.date.fromisoformat(correction["date"])})
    facts = county_facts(results, year, grade_order, sources=sources)
    made: dict[str, tuple[Path, bytes]] = {}
    if spec.notice is not None:
        paths = notice_paths(folder, year)
        files = notice_files(facts, issuer, spec.notice, pdf=pdf, docx_template=spec.docx_template, today=today,
                             correction=correction)
        made.update({f"notice.{fmt}": (paths[fmt], data) for fmt, data in files.items()})
    if spec.publicity is not None:
        paths = publicity_paths(folder, year)
        files = publicity_files(
            facts, issuer, spec.publicity, pdf=pdf, docx_template=spec.docx_template, today=today,
            correction=correction,
        )
        made.update({f"publicity.{fmt}": (paths[fmt], data) for fmt, data in files.items()})
    return {name: atomic_write_bytes(path, data) for name, (path, data) in made.items()}
