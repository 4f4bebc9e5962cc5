"""Word documents with pandoc: report HTML or Markdown in, ``.docx`` out.

Why pandoc: it is the well-kept converter between document formats, and its docx writer does
what an editable official document needs — headings as Word headings, HTML tables as real Word
tables with the header row repeated on every page (``w:tblHeader``), cell spans, embedded images
sized from the HTML ``width``, and every look taken from a *reference document* whose styles,
page set-up, headers and footers the bureau can replace with its own in Word
(``docx_template:`` in the run file). The binary comes from the PyPI wheel ``pypandoc_binary``
(pandoc 3.x for Linux, Windows and macOS, installed by ``pip`` with evalkit; no system package).

The report HTML (:func:`evalkit.publish.render.notebook_to_html`) is converted as it is; the Lua filter
``templates/docx/evalkit.lua`` maps its classes to the reference document's styles (title block
→ ``Title``/``Subtitle``, charts → ``图表``, the 落款 → ``落款``, provenance → ``报告说明``) and
sizes table columns by their content. Each process converts its Word files in one long-lived
pandoc (:mod:`evalkit.publish.pandoc_server`), and runs the pandoc command for a document only when
that server cannot convert it (its cost: ``docs/benchmarks.md``).
"""

from __future__ import annotations

import base64
import functools
import os
import re
import subprocess
import tempfile
from importlib.resources import files
from pathlib import Path

from evalkit.errors import EvalkitError

__all__ = [
    "LUA_FILTER",
    "REFERENCE_DOCX",
    "PandocError",
    "html_to_docx_bytes",
    "markdown_to_docx_bytes",
    "markdown_to_html",
    "pandoc_path",
    "reference_docx",
]


def _docx_templates() -> Path:
    return Path(str(files("evalkit") / "templates" / "docx"))


REFERENCE_DOCX = _docx_templates() / "reference.docx"
"""The shipped reference document (GB/T 9704 page, official fonts); see :mod:`.reference`."""

LUA_FILTER = _docx_templates() / "evalkit.lua"
"""The pandoc Lua filter mapping the report HTML's classes to Word styles."""

MARKDOWN = "markdown+fenced_divs+pipe_tables-smart"
"""The Markdown dialect of the document templates (pandoc's, with ``::: {custom-style=…}`` divs)."""


class PandocError(EvalkitError):
    """pandoc is missing or failed; the message says which document and why, in Chinese."""


@functools.cache
def pandoc_path() -> str:
    """The pandoc binary: ``$EVALKIT_PANDOC`` if set, else the one of ``pypandoc_binary``
    (or any pandoc pypandoc finds)."""
    override = os.environ.get("EVALKIT_PANDOC")
    if override:
        return override
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError) as err:
        raise PandocError(
            "生成 Word 文档需要 pandoc：请运行 bash scripts/setup.sh（安装 pypandoc_binary）/ "
            f"pandoc not found: {err}"
        ) from None


def reference_docx(template: str | os.PathLike[str] | None = None) -> Path:
    """The reference document to style with: ``template`` (the run file's ``docx_template``)
    or the shipped :data:`REFERENCE_DOCX`."""
    path = Path(template).resolve() if template else REFERENCE_DOCX
    if not path.is_file():
        raise PandocError(f"找不到 Word 模板 / reference document not found: {path}")
    return path


def _run(args: list[str], data: bytes, what: str, timeout: float, cwd: str | None = None) -> bytes:
    try:
        done = subprocess.run(
            [pandoc_path(), *args], input=data, capture_output=True, timeout=timeout, check=False, cwd=cwd
        )
    except FileNotFoundError:
        raise PandocError(f"找不到 pandoc 程序 / pandoc not found: {pandoc_path()}") from None
    except subprocess.TimeoutExpired:
        raise PandocError(f"生成{what}超过 {timeout:g} 秒 / pandoc timed out") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise PandocError(f"生成{what}失败 / pandoc failed ({done.returncode}): {message}")
    return done.stdout


def _to_docx(source: str, source_format: str, template: str | os.PathLike[str] | None, timeout: float,
             folder: str) -> bytes:
    """``source`` (text in ``source_format``) as a ``.docx``, with images read from ``folder``:
    by this process's pandoc server (:mod:`evalkit.publish.pandoc_server`), or, when it cannot,
    by the pandoc command."""
    from evalkit.publish import pandoc_server

    reference = reference_docx(template)
    source_file, output_file = Path(folder, "evalkit-source"), Path(folder, "evalkit-output.docx")
    source_file.write_text(source, encoding="utf-8")
    request = {"input": str(source_file), "from": source_format, "output": str(output_file),
               "reference_doc": str(reference), "filter": str(LUA_FILTER), "lang": "zh-CN", "cwd": folder}
    try:
        done = pandoc_server.convert(request, pandoc=pandoc_path(), timeout=timeout)
    except TimeoutError:
        raise PandocError(f"生成 Word 文档超过 {timeout:g} 秒 / pandoc timed out") from None
    if done:
        return output_file.read_bytes()
    return _run(_docx_args(source_format, template), source.encode("utf-8"), " Word 文档", timeout, cwd=folder)


def _docx_args(source_format: str, template: str | os.PathLike[str] | None) -> list[str]:
    return [
        "--from", source_format,
        "--to", "docx",
        "--reference-doc", str(reference_docx(template)),
        "--lua-filter", str(LUA_FILTER),
        "--metadata", "lang=zh-CN",
        "--quiet",
        "--output", "-",
    ]


_DATA_IMAGE = re.compile(r'src="data:image/(png|jpeg|gif);base64,([A-Za-z0-9+/=\s]+)"')
_SUFFIX = {"png": "png", "jpeg": "jpg", "gif": "gif"}


def html_to_docx_bytes(
    html: str, *, template: str | os.PathLike[str] | None = None, timeout: float = 120
) -> bytes:
    """A report's HTML (as :func:`evalkit.publish.render.notebook_to_html` makes it) as a ``.docx``,
    styled by ``template`` (default :data:`REFERENCE_DOCX`). Only ``data:`` images are embedded;
    they are handed to pandoc as files in a private temporary folder (pandoc decodes a
    ``data:`` URI several times slower than it reads a file: about half its time for a report)."""
    with tempfile.TemporaryDirectory(prefix="evalkit-docx-") as folder:
        count = 0

        def to_file(match: re.Match[str]) -> str:
            nonlocal count
            count += 1
            name = f"image{count}.{_SUFFIX[match.group(1)]}"
            Path(folder, name).write_bytes(base64.b64decode(match.group(2)))
            return f'src="{name}"'

        return _to_docx(_DATA_IMAGE.sub(to_file, html), "html", template, timeout, folder)


def markdown_to_docx_bytes(
    markdown: str, *, template: str | os.PathLike[str] | None = None, timeout: float = 60
) -> bytes:
    """Pandoc Markdown (:data:`MARKDOWN`) as a ``.docx`` styled by ``template``. A fenced div
    ``::: {custom-style="落款"}`` takes the named paragraph style of the reference document."""
    with tempfile.TemporaryDirectory(prefix="evalkit-docx-") as folder:
        return _to_docx(markdown, MARKDOWN, template, timeout, folder)


def markdown_to_html(markdown: str, *, timeout: float = 60) -> str:
    """Pandoc Markdown as an HTML fragment (custom styles become ``data-custom-style``
    attributes, for the PDF's stylesheet)."""
    out = _run(["--from", MARKDOWN, "--to", "html5", "--quiet"], markdown.encode("utf-8"), " HTML", timeout)
    return out.decode("utf-8")
