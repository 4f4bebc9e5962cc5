"""HTML and PDF reports from executed notebooks.

:func:`notebook_to_html` turns an executed notebook into one self-contained Chinese HTML page:
outputs only (no code, no prompts), markdown rendered, tables and figures inline (images as
``data:`` URIs), a title block, screen and print CSS, no scripts and nothing fetched from the
network. It uses the nbconvert template ``templates/evalkit_report`` (on top of nbconvert's
``lab`` template) through one cached exporter per thread: nbconvert's HTML exporter without its
final BeautifulSoup pass (:mod:`evalkit.publish.report_exporter`), so the page is the template's
own text.

Before rendering, nbconvert's ``TagRemovePreprocessor`` (configured on the exporter with
``remove_cell_tags`` = :data:`REMOVE_CELL_TAGS`) drops the cells tagged to be hidden; then the
notebook is cleaned (see :func:`clean_notebook`): stderr streams (warnings), script and widget
outputs, matplotlib's stray return values (``Text(0.5, 1.0, '…')``, ``<Figure size …>``) and code
cells left without output are dropped. Inputs are never shown (``exclude_input``), so no
``remove_input`` tags are needed; ``parameters`` and ``injected-parameters`` cells have no output
and disappear as empty code cells. Errors stay visible.

:func:`html_to_pdf_bytes` lays the HTML out with WeasyPrint on A4 pages with a running header
(e.g. school name left, year right) and a "第N页 / 共M页" footer, embedding subsets of the
Noto CJK fonts, from faces cut down once per process to the common characters
(:mod:`evalkit.publish.pdf_fonts`). Only ``data:`` URLs are fetched. One ``FontConfiguration`` and
the parsed page stylesheet are reused across calls (per thread). The charts' RGB PNGs go into the PDF as their
own compressed data (:mod:`evalkit.publish.pdf_images`) and the cyclic garbage collector rests
during the layout (:mod:`evalkit.publish.gc_pause`): same pages, less time.

Both work in memory; ``evalkit run`` writes the files (atomically, :mod:`evalkit.runtime.render_job`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from importlib.resources import files
from pathlib import Path
from typing import Any

import markupsafe
from nbformat import NotebookNode

from evalkit.publish import pdf_images
from evalkit.publish.gc_pause import gc_paused
from evalkit.publish.process_exit import call_at_exit
from evalkit.textfmt import cjk_tight

__all__ = [
    "REMOVE_CELL_TAGS",
    "TEMPLATE_NAME",
    "clean_notebook",
    "fast_font_subsetting",
    "html_to_pdf_bytes",
    "notebook_to_html",
]

TEMPLATE_NAME = "evalkit_report"
REMOVE_CELL_TAGS = frozenset({"remove_cell", "remove-cell", "hide", "hide-cell"})
"""Cell tags that drop the whole cell from reports (nbconvert's ``TagRemovePreprocessor.remove_cell_tags``)."""

_DROPPED_MIME_TYPES = ("application/javascript", "application/vnd.jupyter.widget-view+json")
_MPL_REPR = re.compile(
    r"^\s*\[?\s*(<(Figure|matplotlib\.|BarContainer|ErrorbarContainer|StemContainer|Axes)\b.*"
    r"|Text\(.*\)|\(\s*-?[\d.]+\s*,\s*-?[\d.]+\s*\))\s*\]?\s*$",
    re.DOTALL,
)
_local = threading.local()
_log = logging.getLogger(__name__)


def _templates_dir() -> Path:
    return Path(str(files("evalkit") / "templates"))


# --------------------------------------------------------------------------- notebook cleaning


def _keep_output(output: NotebookNode) -> bool:
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("name") != "stderr"
    if kind in ("display_data", "execute_result"):
        data = output.get("data", {})
        for mime in _DROPPED_MIME_TYPES:
            data.pop(mime, None)
        if not data:
            return False
        if set(data) == {"text/plain"} and _MPL_REPR.match(str(data["text/plain"])):
            return False
    return True


def clean_notebook(nb: NotebookNode) -> NotebookNode:
    """Drop from ``nb`` (in place) the outputs a report never shows; return ``nb``.

    Removed: stderr streams; JavaScript and widget representations; text-only matplotlib return
    values; code cells without outputs left. Cells tagged with one of :data:`REMOVE_CELL_TAGS` are
    removed before this by the exporter's ``TagRemovePreprocessor``.
    """
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if _keep_output(o)]
            if not cell.outputs:
                continue
        kept.append(cell)
    nb.cells = kept
    return nb


def _clean_preprocessor(nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
    return clean_notebook(nb), resources


# --------------------------------------------------------------------------- HTML


def _build_exporter(exporter_class: type | None = None) -> Any:
    """The reports' exporter: a :class:`~evalkit.publish.report_exporter.ReportExporter` (or an
    ``exporter_class``, e.g. nbconvert's own ``HTMLExporter`` to compare with) configured for the
    report template."""
    from traitlets.config import Config

    from evalkit.publish.report_exporter import ReportExporter

    # TagRemovePreprocessor is one of nbconvert's default preprocessors (enabled by the template
    # exporters); it runs before the registered clean-up below. ``optimistic_validation``: the
    # notebook is validated once, after every preprocessor, not after each of the 13 (a tenth of
    # a school report's HTML time).
    config = Config({
        "TagRemovePreprocessor": {"enabled": True, "remove_cell_tags": set(REMOVE_CELL_TAGS)},
        "HTMLExporter": {"optimistic_validation": True},
    })
    exporter = (exporter_class or ReportExporter)(
        config=config,
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(_templates_dir())],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        embed_images=True,
    )
    exporter.register_preprocessor(_clean_preprocessor, enabled=True)
    return exporter


def _exporter() -> Any:
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        exporter = _local.exporter = _build_exporter()
    return exporter


def warm_up() -> None:
    """Do once what every worker process's first report would do: import WeasyPrint, cut the
    report fonts (:func:`evalkit.publish.pdf_fonts.common_faces`) and build this thread's HTML
    exporter with its templates compiled (an empty notebook converted). Nothing that holds a file
    or a folder: WeasyPrint's font configuration (a temporary folder) is made by each process at
    its first PDF. The worker processes' fork server calls it (:mod:`evalkit.runtime.warm_worker`),
    so every worker forked from it starts with them (``docs/benchmarks.md``)."""
    import weasyprint  # noqa: F401 - imported for the workers
    from nbformat import v4

    from evalkit.publish import pdf_fonts

    pdf_fonts.common_faces()
    notebook_to_html(v4.new_notebook(), title="")


def _header_html(header: str) -> str:
    if isinstance(header, markupsafe.Markup):
        return str(header)
    return "".join(f"<p>{markupsafe.escape(line)}</p>" for line in header.splitlines() if line.strip())


def notebook_to_html(
    nb: NotebookNode, *, title: str, header: str = "", path: str | os.PathLike[str] = ""
) -> str:
    """Render an executed notebook as a self-contained Chinese HTML report; return the HTML.

    ``title`` is the page title and the ``<h1>`` of the title block. ``header`` is the meta block
    under it: plain text (escaped; one paragraph per line) or a :class:`markupsafe.Markup` HTML
    snippet. ``path`` is the notebook's directory, for embedding images that markdown cells
    reference by relative path. ``nb`` itself is not modified. The HTML passes through
    :func:`evalkit.textfmt.cjk_tight`: no space between a Chinese character and a numeral
    (``2024 年度`` → ``2024年度``), wherever the sentence was built.
    """
    resources = {
        "evalkit": {"title": title, "header_html": _header_html(header)},
        "metadata": {"name": "report", "path": str(path)},
    }
    html, _ = _exporter().from_notebook_node(nb, resources=resources)
    return cjk_tight(html, html=True)  # no space between a Chinese character and a numeral


# --------------------------------------------------------------------------- PDF


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string (backslashes, quotes and line breaks escaped)."""
    out = []
    for ch in str(text):
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in "\r\n\f" or ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def fast_font_subsetting() -> bool:
    """Whether WeasyPrint subsets fonts with HarfBuzz (Debian ``libharfbuzz-subset0``).

    Without it WeasyPrint falls back to fontTools, which is many times slower per CJK font face
    (measured in ``docs/benchmarks.md``).
    """
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def _drop_pdf_tools() -> None:
    """Let this thread's ``FontConfiguration`` remove the temporary folder where WeasyPrint keeps
    the ``@font-face`` fonts, while the interpreter still can: at exit (its ``__del__`` fails
    once modules are torn down) and when a ``multiprocessing`` worker ends (it skips ``atexit``
    and ends with ``os._exit``; its finalizers run)."""
    _local.__dict__.pop("pdf_tools", None)


def _pdf_tools() -> tuple[Any, Any, Any]:
    """(FontConfiguration, parsed pdf.css, URL fetcher), built once per thread. The stylesheet
    starts with the ``@font-face`` rules of the cut-down report fonts (:mod:`evalkit.publish.pdf_fonts`),
    which the fetcher serves."""
    tools = getattr(_local, "pdf_tools", None)
    if tools is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        from evalkit.publish.pdf_fonts import ReportFetcher, font_face_css

        font_config = FontConfiguration()
        fetcher = ReportFetcher()
        css_path = _templates_dir() / TEMPLATE_NAME / "pdf.css"
        page_css = CSS(string=font_face_css() + css_path.read_text(encoding="utf-8"), font_config=font_config,
                       url_fetcher=fetcher)
        if not fast_font_subsetting():
            _log.warning(
                "PDF 生成较慢：未安装 libharfbuzz-subset0（apt-get install libharfbuzz-subset0）/ "
                "slow PDFs: WeasyPrint subsets the CJK fonts with fontTools (many seconds per report)"
            )
        tools = _local.pdf_tools = (font_config, page_css, fetcher)
        if threading.current_thread() is threading.main_thread():
            call_at_exit(_drop_pdf_tools)
    return tools


def html_to_pdf_bytes(html: str, *, header_left: str, header_right: str = "") -> bytes:
    """Lay ``html`` out on A4 pages with WeasyPrint; return the PDF.

    Every page has ``header_left`` / ``header_right`` in its top margin and "第N页 / 共M页" at
    the bottom. Fonts are embedded (subsets of Noto Sans/Serif CJK SC); only ``data:`` URLs are
    loaded, anything else is skipped with a WeasyPrint warning."""
    from weasyprint import CSS, HTML

    if not isinstance(html, str):
        raise TypeError(f"html must be str, not {type(html).__name__}")
    font_config, page_css, fetcher = _pdf_tools()
    right = f"content: {_css_string(cjk_tight(header_right))};" if header_right else "content: none;"
    header_css = CSS(
        string=f"@page {{ @top-left {{ content: {_css_string(cjk_tight(header_left))}; }} @top-right {{ {right} }} }}",
        font_config=font_config,
    )
    html, images = pdf_images.prepare(html)
    with gc_paused():
        document = HTML(string=html, url_fetcher=fetcher)
        return document.write_pdf(stylesheets=[page_css, header_css], font_config=font_config, cache=images)

