"""Compare two output folders of the same county-year: what a reader and a tool would see must
be the same (used by ``evalkit replay`` and ``scripts/compare_outputs.py``).

Compared: every school-year's total, grade and rank (``scores/schools.parquet``) and every
indicator's points (``scores/indicators.parquet``); the scoreboard's cell values; every
``data-*`` attribute of every HTML report, element by element in order (an element's attributes
in any order: their order means nothing in HTML; reports made before 2026-12-07's change to
:mod:`evalkit.publish.report_exporter` have them sorted by name, as nbconvert's BeautifulSoup pass
wrote them, later ones in the template's order); the county documents' text (``.docx``
paragraphs and tables, ``.pdf`` through ``pdftotext``; the times of the county summary's and the
audit's provenance line, 评分时间 and 报告生成时间, masked, and a reissued report's mark
"更正版（第 n 版）" left out) and their ``.xlsx`` cells. The year's
``record/`` and ``history/`` folders are not compared, nor the correction marks of a report
(``data-edition``, ``data-correction-date``: when a report was reissued, not what it says), nor
nbconvert's ``data-mime-type`` wrappers.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd

MARKER = re.compile(r'data-[\w-]+="[^"]*"')
START_TAG = re.compile(r"<[A-Za-z][^>]*>")
"""An element's start tag (attribute values are escaped: no ``>`` inside)."""
MADE_AT = re.compile(r"(评分时间|报告生成时间)：\s*\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}(:\d{2})?")
"""The provenance line's times (when the scores and the report were made), masked in the text."""
EDITION = re.compile(r"更正版（第\s*\d+\s*版）\s*\d{4}年\d{1,2}月\d{1,2}日更正")
"""A reissued report's correction mark under its title (when it was reissued, not what it says)."""
IGNORED_MARKERS = ("data-edition=", "data-correction-date=", "data-mime-type=")
"""Not compared: a report's correction mark, and nbconvert's output wrappers (``data-mime-type``:
the order of a cell's printed text and its displayed result depends on the kernel's timing)."""
SKIPPED_DIRS = ("record", "history", ".work")


def masked(text: str) -> str:
    """``text`` with the times of its provenance line masked (:data:`MADE_AT`) and a correction
    mark left out (:data:`EDITION`)."""
    return EDITION.sub("", MADE_AT.sub(r"\1：…", text))


def doc_text(path: Path) -> list[str]:
    """A Word file's paragraphs, then each table row's cells joined by ``|`` (times masked)."""
    import docx

    d = docx.Document(str(path))
    lines = [p.text for p in d.paragraphs] + ["|".join(c.text for c in r.cells) for t in d.tables for r in t.rows]
    return [text for text in map(masked, lines) if text.strip()]  # blank paragraphs carry no text


def pdf_text(path: Path) -> str:
    """A PDF's text (``pdftotext``; times masked)."""
    text = masked(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout)
    return "\n".join(line for line in text.splitlines() if line.strip())


def markers(path: Path) -> list[str]:
    """The ``data-*`` attributes of an HTML file (correction marks left out): element by element
    in the page's order, each element's sorted by name.

    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "r.html"
    >>> _ = page.write_text('<div data-total="86.0" data-grade="较好"><p data-x="1">', encoding="utf-8")
    >>> markers(page)
    ['data-grade="较好"', 'data-total="86.0"', 'data-x="1"']
    """
    found: list[str] = []
    for tag in START_TAG.finditer(path.read_text(encoding="utf-8")):
        found += sorted(m for m in MARKER.findall(tag.group(0)) if not m.startswith(IGNORED_MARKERS))
    return found


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(
        p.relative_to(folder) for p in folder.glob(pattern)
        if p.is_file() and p.relative_to(folder).parts[0] not in SKIPPED_DIRS
    )


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return a.shape == b.shape and a.reset_index(drop=True).equals(b.reset_index(drop=True))


def compare(a: Path, b: Path, say: Callable[[str], None] = lambda _line: None) -> list[str]:
    """Every difference between year folders ``a`` and ``b`` (see the module docstring), in
    Chinese, each naming the file; ``say`` receives a line of counts per kind compared."""
    a, b = Path(a), Path(b)
    diffs: list[str] = []
    cols = ["school_id", "year", "total", "grade", "rank"]
    ka, kb = (pd.read_parquet(x / "scores" / "schools.parquet")[cols].sort_values(["year", "school_id"])
              .reset_index(drop=True) for x in (a, b))
    if not _frames_equal(ka, kb):
        merged = ka.merge(kb, on=["school_id", "year"], how="outer", suffixes=("_a", "_b"))
        for r in merged.to_dict("records"):
            if any(r.get(f"{c}_a") != r.get(f"{c}_b") for c in ("total", "grade", "rank")):
                diffs.append(f"评分不同 scores/schools.parquet：学校 {r['school_id']} {r['year']} 年 "
                             f"总分 {r.get('total_a')} → {r.get('total_b')}，等次 {r.get('grade_a')} → "
                             f"{r.get('grade_b')}，排名 {r.get('rank_a')} → {r.get('rank_b')}")
        diffs = diffs or ["评分不同 / scores differ: scores/schools.parquet"]
    say(f"学校年度 {len(ka)} 个：总分、等次、排名{'一致' if not diffs else '不一致'}")
    icols = ["school_id", "year", "indicator_id", "points"]
    ia, ib = (pd.read_parquet(x / "scores" / "indicators.parquet")[icols]
              .sort_values(icols[:3]).reset_index(drop=True) for x in (a, b))
    if not _frames_equal(ia, ib):
        diffs.append("指标得分不同 / indicator points differ: scores/indicators.parquet")
    for rel in _files(a, "*.xlsx") + _files(a, "county/*.xlsx"):
        if not (b / rel).is_file():
            diffs.append(f"缺少文件 / missing: {rel}")
            continue
        xa, xb = (pd.read_excel(x / rel, sheet_name=None, header=None) for x in (a, b))
        if xa.keys() != xb.keys() or any(not xa[k].equals(xb[k]) for k in xa):
            diffs.append(f"单元格不同 / cells differ: {rel}")
    reports = _files(a, "**/*.html")
    other = _files(b, "**/*.html")
    for rel in sorted(set(reports) ^ set(other)):
        diffs.append(f"{'只在原结果中' if rel in reports else '只在重新生成的结果中'}有报告 / only on one side: {rel}")
    count = 0
    for rel in reports:
        if (b / rel).is_file():
            ma, mb = markers(a / rel), markers(b / rel)
            count += len(ma)
            if ma != mb:
                first = next((f"{x} ≠ {y}" for x, y in zip(ma, mb, strict=False) if x != y),
                             f"{len(ma)} 个 ≠ {len(mb)} 个")
                diffs.append(f"报告数据标记不同 / markers differ: {rel}（{first}）")
    say(f"HTML 报告 {len(reports)} 份：比较 data-* 标记 {count} 个")
    documents = 0
    for kind, read in ((".docx", doc_text), (".pdf", pdf_text)):
        for rel in _files(a, f"county/*{kind}"):
            documents += 1
            if not (b / rel).is_file():
                diffs.append(f"缺少文件 / missing: {rel}")
            elif read(a / rel) != read(b / rel):
                diffs.append(f"文书文字不同 / text differs: {rel}")
    say(f"全县文书 {documents} 份：比较文字")
    return diffs
