"""The Jinja environment of the report markup: ``templates/html/*.html.j2``.

:mod:`evalkit.publish.present`, :mod:`evalkit.publish.official` and
:func:`evalkit.analysis.uncertainty.uncertainty_html` prepare data; the templates hold the HTML.
One environment for the process (built on first use), with autoescape on, so every value a
template prints is escaped unless it is :class:`markupsafe.Markup` (HTML made by another template),
and :class:`jinja2.StrictUndefined`, so a misspelt name fails instead of printing nothing. The
look of the markup is in a stylesheet of its own (``templates/evalkit_report/blocks.css``), which
the report template includes beside ``report.css``: the templates use classes, never inline
styles. In JupyterLab, where no report template is around, each block brings that stylesheet
with it (a ``<style>`` element before it), so a notebook run by hand looks like its report;
``evalkit run``'s report processes have :data:`STYLESHEET_PROVIDED` set in their environment and leave it
out.

>>> note = render("note.html.j2", text="<b>甲&乙</b>", kind="demo")
>>> note[note.index("<p"):]
'<p class="ekr-note" data-note="demo">&lt;b&gt;甲&amp;乙&lt;/b&gt;</p>'
"""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup

__all__ = ["STYLESHEET_PROVIDED", "Markup", "block_stylesheet", "environment", "render", "warm_up"]

STYLESHEET_PROVIDED = "EVALKIT_REPORT_STYLESHEET"
"""Environment variable set (to ``1``) where the blocks' stylesheet comes from the report
template: the kernels of ``evalkit run`` (set by :mod:`evalkit.runtime`)."""


@cache
def environment() -> jinja2.Environment:
    """The environment loading ``templates/html/`` (created once)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("evalkit") / "templates" / "html")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


@cache
def block_stylesheet() -> str:
    """``templates/evalkit_report/blocks.css`` as a ``<style>`` element."""
    css = (files("evalkit") / "templates" / "evalkit_report" / "blocks.css").read_text(encoding="utf-8")
    return f'<style class="ekr-style">\n{css}</style>\n'


def warm_up() -> int:
    """Compile every template of ``templates/html/`` into :func:`environment`'s cache now, and read
    the blocks' stylesheet; returns how many templates. The batch runner's kernel template calls
    it before it forks the reports' kernels (:func:`evalkit.runtime.kernelfork.warm_charts`), so
    no kernel compiles a template again (~0.015 s of CPU per school report, docs/benchmarks.md).
    A compiled template is re-read when its file changes, as Jinja always does."""
    env = environment()
    names = env.list_templates(filter_func=lambda name: name.endswith(".j2"))
    for name in names:
        env.get_template(name)
    block_stylesheet()
    return len(names)


def render(template: str, /, **context: Any) -> str:
    """Template ``template`` of ``templates/html/`` rendered with ``context``, as a plain string
    (HTML: notebooks pass it to ``IPython.display.HTML``); preceded by the blocks' stylesheet
    unless :data:`STYLESHEET_PROVIDED` is set."""
    html = str(environment().get_template(template).render(**context))
    if os.environ.get(STYLESHEET_PROVIDED):
        return html
    return block_stylesheet() + html
