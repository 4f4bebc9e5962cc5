"""Word documents: the reports as editable ``.docx``, and the county's notice and publicity list.

- :mod:`evalkit.publish.pandoc` — HTML or Markdown to ``.docx`` (and Markdown to HTML) with
  pandoc, styled by a reference document (``templates/docx/reference.docx`` or the bureau's own);
- :mod:`evalkit.publish.reference_docx` — builds that reference document: A4 with the margins of
  GB/T 9704, the fonts Chinese offices expect, "— 1 —" page numbers;
- :mod:`evalkit.publish.documents.facts` — every figure the notice and the publicity list quote, from
  the Results;
- :mod:`evalkit.publish.documents.notice` — the notice of results (通报), ``.docx`` and ``.pdf``;
- :mod:`evalkit.publish.documents.publicity` — the publicity list (公示名单), ``.docx`` and ``.xlsx``.
"""
