"""The report tables' column widths worked out in Python, so WeasyPrint does not measure every cell.

WeasyPrint's automatic table layout (CSS 2.1 §17.5.2.2) finds each column's min-content and
max-content width by laying out every cell's text, line-breaking Chinese text character by
character: a fifth of a school report's PDF time, a third of the audit's. The tables
:func:`evalkit.publish.present.table_html` writes hold plain text only, so the same widths
can be estimated from the font's advance widths at a fraction of the cost.

:func:`fix_widths` gives each such table (``<table class="ekr-table">`` whose cells are plain
text) ``table-layout: fixed``, a width and a ``<colgroup>`` of column widths, chosen by the
rule of the automatic layout (WeasyPrint's ``auto_table_layout``):

- a column's max-content width M is its widest cell on one line, its min-content width m its
  widest unbreakable piece (a Chinese character with the punctuation that may not be parted
  from it, a run of Latin letters and digits); each plus the cell's padding and border;
- a table whose ΣM fits the text width is as wide as ΣM (columns M, centred as before);
- otherwise the table takes the text width W and column i gets
  ``m_i + (M_i − m_i) · (W − Σm) / (ΣM − Σm)``;
- ``ekr-compact`` tables keep their cells on one line (m = M).

When even the min-content widths do not fit (or a cell holds markup) the table is left to
WeasyPrint as before; so is every table when fontconfig does not resolve the report font to
Noto Sans CJK SC (:func:`fonts_measured`), whose widths these are. On the demo county's
reports every page holds the same text as with the automatic layout, and the columns are as
wide as it made them to within a point or two.

Widths are in points for the fonts and sizes of the report stylesheet (``report.css``,
``blocks.css``): text 9.5pt (compact 8.5pt) in Noto Sans CJK SC, headers bold, cells padded 8px
left and right with 1px borders; Chinese characters and full-width forms are 1 em wide, Latin
letters and digits as in Noto Sans CJK SC (:data:`_REGULAR`, :data:`_BOLD`), anything else
counted as 1 em (a column a little too wide, never too narrow). The text width is A4 minus the
17 mm side margins of ``report.css``'s ``@page`` (176 mm): WeasyPrint reads ``pdf.css`` as a
user stylesheet, so the document's own rule wins over its 18 mm. The HTML file itself is never
changed: only the copy WeasyPrint lays out.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
import shutil
import subprocess

__all__ = ["TEXT_WIDTH_PT", "column_widths", "fix_widths", "fonts_measured", "text_width"]

TEXT_WIDTH_PT = (210 - 2 * 17) / 25.4 * 72 - 0.75
"""The width a full-width table's columns share, in points: an A4 page's text width with the
17 mm side margins of report.css, less the outer halves of the collapsed 1px borders."""
FONT_PT = 9.5
"""``table { font-size: 9.5pt }`` (report.css)."""
COMPACT_FONT_PT = 8.5
"""``.ekr-table.ekr-compact { font-size: 8.5pt }`` (blocks.css)."""
CELL_EXTRA_PT = 2 * 6 + 0.75
"""``th, td { padding: 3px 8px; border: 1px solid }`` (report.css): 8px = 6pt each side, and one
1px (0.75pt) collapsed border per column."""
SLACK_PT = 0.5
"""Added to each column: an estimate a hair short would break a line that fits."""

# Advance widths (1/1000 em) of ASCII 0x20–0x7E in Noto Sans CJK SC Regular and Bold
# (NotoSansCJK-{Regular,Bold}.ttc, face 2, read with fontTools).
_REGULAR = (
    224, 323, 474, 555, 555, 921, 680, 278, 338, 338, 467, 555, 278, 347, 278, 392, 555, 555, 555, 555,
    555, 555, 555, 555, 555, 555, 278, 278, 555, 555, 555, 474, 946, 608, 657, 638, 688, 589, 552, 689,
    728, 293, 535, 646, 543, 812, 723, 742, 633, 742, 635, 596, 599, 721, 575, 878, 573, 531, 603, 338,
    392, 338, 555, 559, 606, 563, 618, 510, 620, 554, 325, 564, 607, 275, 275, 552, 284, 926, 610, 606,
    620, 620, 388, 468, 377, 607, 521, 802, 498, 521, 475, 338, 270, 338, 555,
)
_BOLD = (
    227, 370, 574, 590, 590, 963, 740, 325, 378, 378, 507, 590, 325, 370, 325, 387, 590, 590, 590, 590,
    590, 590, 590, 590, 590, 590, 325, 325, 590, 590, 590, 514, 1007, 641, 681, 656, 714, 615, 585, 717,
    757, 330, 568, 686, 578, 853, 749, 770, 667, 770, 682, 624, 625, 748, 619, 915, 627, 580, 613, 378,
    387, 378, 590, 567, 626, 591, 644, 527, 644, 581, 372, 597, 640, 304, 306, 604, 315, 964, 641, 626,
    644, 644, 436, 495, 421, 637, 576, 863, 562, 574, 511, 378, 296, 378, 590,
)
_OTHER = {"α": (625, 663), "—": (894, 908)}
# may not begin a line (closing punctuation) / may not end one (opening punctuation)
_NO_START = set("，。、；：？！）》」』】〕〉%％·…—,.;:?!)]}")
_NO_END = set("（《「『【〔〈([{")
# quotation marks (line-break class QU) stick to what stands on both sides, as Pango breaks them
_QUOTES = set("“”‘’\"'")

_TABLE = re.compile(r'<table class="ekr-table([^"]*)"([^>]*)>(.*?)</table>', re.DOTALL)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
_CELL = re.compile(r"<(t[hd])>(.*?)</t[hd]>", re.DOTALL)
_SPACE = re.compile(r"\s+")


def _advance(ch: str, bold: bool) -> float:
    """One character's advance width in em (1 for Chinese and anything not listed)."""
    code = ord(ch)
    if 0x20 <= code <= 0x7E:
        return (_BOLD if bold else _REGULAR)[code - 0x20] / 1000
    other = _OTHER.get(ch)
    return 1.0 if other is None else other[bold] / 1000


def text_width(text: str, *, bold: bool = False) -> float:
    """Width of ``text`` on one line, in em (spaces collapsed as in HTML)."""
    return sum(_advance(ch, bold) for ch in _SPACE.sub(" ", text).strip())


def _pieces(text: str) -> list[str]:
    """``text`` cut where a line may break: around each Chinese character (keeping closing
    punctuation with what precedes it, opening punctuation with what follows and quotation
    marks with both) and at spaces; Latin words and numbers stay whole."""
    pieces: list[str] = []
    current = ""
    for ch in _SPACE.sub(" ", text).strip():
        if ch == " ":
            if current:
                pieces.append(current)
            current = ""
            continue
        wide = ord(ch) > 0x7E
        if (current and ch not in _NO_START and current[-1] not in _NO_END
                and ch not in _QUOTES and current[-1] not in _QUOTES and (wide or ord(current[-1]) > 0x7E)):
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces


def _min_width(text: str, *, bold: bool) -> float:
    return max((text_width(p, bold=bold) for p in _pieces(text)), default=0.0)


def column_widths(header: list[str], rows: list[list[str]], *, compact: bool = False,
                  available: float = TEXT_WIDTH_PT) -> tuple[float, list[float]] | None:
    """(table width, column widths) in points for a table of plain-text ``header`` and ``rows``
    by the rule of the module docstring; ``None`` when its columns cannot fit ``available``
    (the table is then left to WeasyPrint's automatic layout)."""
    size = COMPACT_FONT_PT if compact else FONT_PT
    n = len(header)
    if n == 0 or any(len(row) != n for row in rows):
        return None
    most = [text_width(h, bold=True) for h in header]
    least_em = [_min_width(h, bold=True) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            most[i] = max(most[i], text_width(cell))
            least_em[i] = max(least_em[i], _min_width(cell, bold=False))
    extra = CELL_EXTRA_PT + SLACK_PT
    big = [w * size + extra for w in most]
    if compact or sum(big) <= available:
        return sum(big), big
    least = [min(w * size + extra, b) for w, b in zip(least_em, big, strict=True)]
    if sum(least) > available:
        return None
    share = (available - sum(least)) / (sum(big) - sum(least))
    return available, [lo + (hi - lo) * share for lo, hi in zip(least, big, strict=True)]


def _table(match: re.Match[str]) -> str:
    classes, attrs, body = match.groups()
    if "style=" in attrs or "<table" in body:
        return match.group(0)
    header: list[str] = []
    rows: list[list[str]] = []
    for row in _ROW.findall(body):
        cells = _CELL.findall(row)
        if any("<" in text for _, text in cells):
            return match.group(0)  # markup in a cell: leave the table to WeasyPrint
        texts = [html_lib.unescape(text) for _, text in cells]
        if cells and all(tag == "th" for tag, _ in cells) and not header and not rows:
            header = texts
        else:
            rows.append(texts)
    if not header:
        return match.group(0)
    sized = column_widths(header, rows, compact="ekr-compact" in classes)
    if sized is None:
        return match.group(0)
    width, columns = sized
    cols = "".join(f'<col style="width:{w:.2f}pt">' for w in columns)
    return (f'<table class="ekr-table{classes}"{attrs} style="table-layout:fixed;width:{width:.2f}pt">'
            f"<colgroup>{cols}</colgroup>{body}</table>")


@functools.cache
def fonts_measured() -> bool:
    """Whether fontconfig (which Pango, and so WeasyPrint, asks) gives Noto Sans CJK SC for the
    report font in regular and bold: the font whose advance widths :data:`_REGULAR` and
    :data:`_BOLD` are. Asked once per process (``fc-match``, a few milliseconds)."""
    exe = shutil.which("fc-match")
    if exe is None:
        return False
    for pattern in ("Noto Sans CJK SC", "Noto Sans CJK SC:bold"):
        try:
            found = subprocess.run([exe, "-f", "%{family}", pattern], capture_output=True, text=True,
                                   timeout=30, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return False
        if "Noto Sans CJK SC" not in found.split(","):
            return False
    return True


def fix_widths(html: str) -> str:
    """``html`` with each plain-text ``ekr-table`` given fixed column widths (module docstring);
    other tables, tables with markup in a cell, and every table where the report font is not
    Noto Sans CJK SC (:func:`fonts_measured`) are left as they are."""
    if "ekr-table" not in html or not fonts_measured():
        return html
    return _TABLE.sub(_table, html)
