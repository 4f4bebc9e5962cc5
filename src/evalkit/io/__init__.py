"""Files in and out, below everything else: what a file is, reading workbooks and sheets at a
bounded cost, writing xlsx/csv without formulas, atomic writes, YAML with line numbers.

- :mod:`~evalkit.io.filekinds` — what a data file really is, by its first bytes;
- :mod:`~evalkit.io.workbooks` — ``.xlsx`` (openpyxl) and ``.xls`` (xlrd) within bounds;
- :mod:`~evalkit.io.sheets` — CSV and workbooks as grids of cells that know their Excel address;
- :mod:`~evalkit.io.controlchars` — control characters in text cells, found with their cell;
- :mod:`~evalkit.io.xlsx_writer`, :mod:`~evalkit.io.csv_writer` — every spreadsheet evalkit
  writes: atomic, reproducible, never a formula from data;
- :mod:`~evalkit.io.atomic` — nothing half-written under a final name;
- :mod:`~evalkit.io.yaml_load` — YAML within bounds, parsed once, with every node's line;
  :mod:`~evalkit.io.yaml_paths` — problems located by YAML path and line.
"""
