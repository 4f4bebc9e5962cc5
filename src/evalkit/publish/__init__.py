"""What evalkit hands to people: reports as HTML, PDF and Word, the county's official documents,
the bureau's scoreboard, and the JupyterLab explorer.

- :mod:`~evalkit.publish.render` — HTML (nbconvert, ``templates/evalkit_report/``) and PDF
  (WeasyPrint) from executed notebooks;
- :mod:`~evalkit.publish.present` and :mod:`~evalkit.publish.official` — what report notebooks
  display (tables, title, headline, 落款), rendered from Jinja templates in ``templates/html/``
  (:mod:`~evalkit.publish.markup`) and styled by ``templates/evalkit_report/report.css``;
- :mod:`~evalkit.publish.pandoc` and :mod:`~evalkit.publish.reference_docx` — Word files through
  pandoc, styled by a GB/T 9704 reference document;
- :mod:`~evalkit.publish.documents` — the county's notice (通报) and publicity list (公示名单);
- :mod:`~evalkit.publish.scoreboard` — ``scoreboard.xlsx``;
- :mod:`~evalkit.publish.explore` — the ipywidgets explorer.
"""
