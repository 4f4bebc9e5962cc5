"""The Jinja environment of the report markup: ``templates/html/*.html.j2``.

:mod:`evalkit.publish.present`, :mod:`evalkit.publish.official` and
:func:`evalkit.analysis.uncertainty.uncertainty_html` prepare data; the templates hold the HTML.
One environment for the process (built on first use), with autoescape on, so every value a
template prints is escaped unless it is :class:`markupsafe.Markup` (HTML made by another template),
and :class:`jinja2.StrictUndefined`, so a misspelt name fails instead of printing nothing. The
look of the markup is in the report stylesheet (``templates/evalkit_report/report.css``): the
templates use classes, never inline styles.

>>> render("note.html.j2", text="<b>甲&乙</b>", kind="demo")
'<p class="ekr-note" data-note="demo">&lt;b&gt;甲&amp;乙&lt;/b&gt;</p>'
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup

__all__ = ["Markup", "environment", "render"]


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


def render(template: str, /, **context: Any) -> str:
    """Template ``template`` of ``templates/html/`` rendered with ``context``, as a plain string
    (HTML: notebooks pass it to ``IPython.display.HTML``)."""
    return str(environment().get_template(template).render(**context))
