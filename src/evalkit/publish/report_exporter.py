"""nbconvert's HTML exporter for the reports, without its final pass through BeautifulSoup.

nbconvert 7's :meth:`HTMLExporter.from_notebook_node` renders the page with its template and
then parses the whole page with BeautifulSoup, only to give every ``<img>`` without one an
``alt`` text ("No description has been provided for this image") and every code input and
output area a ``tabindex``, and writes the page out again. For a school report (684 tags, four
charts) that pass is three quarters of the HTML's time: 0.045 s against 0.011 s without it
(medians of 7, one process; ``docs/benchmarks.md``).

In the reports the pass found nothing to add: the template (``templates/evalkit_report``) gives
every image its alt text (``图表``, or the output's ``alt`` metadata), and its page has no
``.jp-Notebook`` element, so no area ever got a ``tabindex`` (the reports had none). It only
rewrote the page: attributes sorted by name, ``class`` lists with single spaces, ``<meta …/>``,
blank lines between blocks dropped. Without it the page is the template's own text
(the same elements, attributes, text and images; what a browser, WeasyPrint or pandoc builds
from it is the same document).

:class:`ReportExporter` keeps everything else of :meth:`HTMLExporter.from_notebook_node`: the
code highlighter and widget-data filters it registers and the resources it sets up
(:meth:`HTMLExporter._init_resources`: the template's ``include_css`` and the rest), then renders
with :meth:`TemplateExporter.from_notebook_node`, which :class:`HTMLExporter` calls too.
"""

from __future__ import annotations

from typing import Any

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode

__all__ = ["ReportExporter"]


class ReportExporter(HTMLExporter):  # type: ignore[misc]
    """:class:`nbconvert.HTMLExporter` whose page is the template's output as rendered (see the
    module docstring)."""

    def from_notebook_node(
        self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                 resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)  # type: ignore[no-any-return]
