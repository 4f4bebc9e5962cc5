"""Control characters in text cells: refused wherever evaluators' tables are read (data files at
intake, the registry), each with its cell.

A school name, id, evidence note or any other text cell holding a control character (Unicode
category ``Cc``: ``\\x00``–``\\x1f`` and ``\\x7f``–``\\x9f``, except tab, line feed and carriage
return, which Excel writes for a line break in a cell) or a bidirectional override
(``U+202A``–``U+202E``, ``U+2066``–``U+2069``, which make text display other than it is) is an
error. The character cannot be seen, cannot be written to a workbook, and would end up in
reports; the evaluator deletes it and saves again.

The sheet in memory is then made safe to quote in messages and reports: each such character is
replaced by a visible mark (``␇`` for ``\\x07``, ``[U+202E]``). The file itself is never
modified, and the error stops scoring.
"""

from __future__ import annotations

import re

from evalkit.io.sheets import Sheet
from evalkit.issues import Issue, cell_ref

ALLOWED = {"\t", "\n", "\r"}
_BIDI = "\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def visible(ch: str) -> str:
    """A visible stand-in for a control character: the Control Pictures sign for C0 and DEL
    (``␇``), ``[U+XXXX]`` otherwise."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"[U+{code:04X}]"


def shown_safely(text: str) -> str:
    """``text`` with every refused character replaced by :func:`visible`."""
    return CONTROL.sub(lambda m: visible(m.group()), text)


def control_character_issues(sheet: Sheet) -> list[Issue]:
    """An error for every text cell of ``sheet`` holding a refused character, at its cell; the
    characters are replaced in memory by visible marks (see the module docstring)."""
    out: list[Issue] = []
    for r, cells in enumerate(sheet.rows, start=1):
        for c, value in enumerate(cells, start=1):
            if not isinstance(value, str) or not CONTROL.search(value):
                continue
            out.append(control_character_issue(sheet.file, sheet.name, r, c, value))
            cells[c - 1] = shown_safely(value)
    return out


def control_character_issue(file: str, sheet: str, row: int, col: int, value: str) -> Issue:
    """The error for a text cell (``value`` as read) holding a refused character."""
    found = "、".join(dict.fromkeys(visible(m.group()) for m in CONTROL.finditer(value)))
    safe = shown_safely(value)
    return Issue(
        "control_character",
        "error",
        f"含有不可见的控制字符（{found}，显示为“{safe}”）；请删除这些字符后重新保存 / control character",
        file=file,
        sheet=sheet,
        cell=cell_ref(row, col),
        row=row,
        value=safe,
        expected="不含控制字符的文字",
    )
