"""Official documents from editable text templates: Jinja → pandoc Markdown → ``.docx`` and PDF.

A document template (``templates/documents/*.md.j2``, or the bureau's copy named in the run file)
is pandoc Markdown with Jinja placeholders: ``## 一、…`` is a level-1 heading (黑体), ``### （一）…``
a level-2 heading (楷体), a fenced div ``::: {custom-style="落款"}`` takes that paragraph style of
the Word reference document (``Title``, ``Subtitle``, ``主送机关``, ``落款``). Values reach the
text through filters: ``md`` (escapes Markdown), ``xml`` (escapes text inside the raw Word/HTML
blocks), ``date`` (``2025年1月31日``), ``num`` (the framework's decimals). Undefined names are
errors (:class:`DocumentTemplateError`, naming the template and line), never silent blanks.
A template imports the shared 公文 parts (版头, 落款, 附件, 版记) from ``gongwen.md.j2`` (see
:mod:`evalkit.publish.documents.gongwen`); a bureau's copy of a template finds it too (the
shipped folder is searched after the copy's own). The rendered text passes through
:func:`evalkit.textfmt.cjk_tight` (no space between a Chinese character and a numeral).

The same Markdown becomes the Word file (pandoc, :mod:`evalkit.publish.pandoc`) and the PDF
(pandoc's HTML laid out by WeasyPrint with ``templates/documents/official.css``: the page of
GB/T 9704, "— 1 —" page numbers, the official fonts named first and Noto CJK as the fallback).
In the PDF a 版记 lands at the foot of an even page: when the document would end on an odd page
it is laid out again with the 版记 on the next even page (a blank page between when needed;
neither the blank page nor the page holding only the 版记 is numbered). The Word file cannot
know its pages: there the 版记 is at the foot of the last.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.publish.documents.facts import chinese_date

__all__ = [
    "DocumentTemplateError",
    "default_template",
    "markdown_escape",
    "official_pdf_bytes",
    "render_template",
]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~^$@:\"'])")


class DocumentTemplateError(EvalkitError):
    """A document template that cannot be read or rendered (its file and line in the message)."""


def _documents_dir() -> Path:
    return Path(str(files("evalkit") / "templates" / "documents"))


def default_template(name: str) -> Path:
    """The shipped template ``name`` (e.g. ``notice.md.j2``)."""
    return _documents_dir() / name


def markdown_escape(text: object) -> str:
    """``text`` with every Markdown-special ASCII character backslash-escaped, so a school
    named ``*实验*小学`` stays as written.

    >>> markdown_escape("城关[一]小_2")
    '城关\\\\[一\\\\]小\\\\_2'
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _num(value: Any, decimals: int = 1) -> str:
    return f"{float(value):.{int(decimals)}f}"


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return chinese_date(value)
    return str(value)


def render_template(path: str | os.PathLike[str], context: dict[str, Any]) -> str:
    """Render the document template at ``path`` with ``context``; return the Markdown."""
    import jinja2
    from markupsafe import escape

    from evalkit.textfmt import cjk_tight

    path = Path(path)
    if not path.is_file():  # never the shipped file of the same name in its place
        raise DocumentTemplateError(f"找不到文书模板 / template not found: {path}")
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(path.parent)), jinja2.FileSystemLoader(str(_documents_dir()))]
        ),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({"md": markdown_escape, "xml": lambda v: str(escape(v)), "num": _num, "date": _date})
    try:
        template = env.get_template(path.name)
        return cjk_tight(template.render(**context))
    except jinja2.TemplateSyntaxError as err:
        raise DocumentTemplateError(
            f"文书模板 {path} 第 {err.lineno} 行有语法错误 / template syntax error: {err.message}"
        ) from None
    except jinja2.UndefinedError as err:
        raise DocumentTemplateError(
            f"文书模板 {path} 使用了不存在的字段 / undefined value in the template: {err.message}"
        ) from None
    except jinja2.TemplateNotFound:
        raise DocumentTemplateError(f"找不到文书模板 / template not found: {path}") from None
    except (TypeError, ValueError) as err:
        raise DocumentTemplateError(f"文书模板 {path} 无法生成 / cannot render the template: {err}") from None


def official_pdf_bytes(markdown: str, *, title: str) -> bytes:
    """The document's Markdown as an A4 PDF in the layout of GB/T 9704 (see the module docstring)."""
    from markupsafe import escape
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    from evalkit.publish.gc_pause import gc_paused
    from evalkit.publish.pandoc import markdown_to_html

    body = markdown_to_html(markdown)
    page = (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'</head><body class="official">{body}</body></html>'
    )
    fonts = FontConfiguration()
    css = CSS(string=(_documents_dir() / "official.css").read_text(encoding="utf-8"), font_config=fonts)
    fetcher = URLFetcher(allowed_protocols={"data"})
    with gc_paused():
        html = HTML(string=page, url_fetcher=fetcher)
        document = html.render(stylesheets=[css], font_config=fonts)
        if 'class="gw-banji-place"' in body and len(document.pages) % 2:
            # GB/T 9704: the 版记 at the foot of an even page; it is on the last page, which is odd:
            # laid out again with the 版记 moved to the next even page (a blank page between if needed)
            even = CSS(string=".gw-banji-place { break-before: left; page: banji; }"
                              "@page banji { @bottom-left { content: none; } @bottom-right { content: none; } }",
                       font_config=fonts)
            document = html.render(stylesheets=[css, even], font_config=fonts)
        return document.write_pdf()
