"""The reference document every Word file of evalkit is styled by (``templates/docx/reference.docx``).

Built from pandoc's own reference document (so every style pandoc uses exists) with python-docx,
following GB/T 9704-2012 (layout of official documents of Party and state organs):

- A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (text block 156 × 225 mm);
- page numbers in the footer as "— 1 —" in size-4 (14 pt) 宋体, odd pages right and even pages
  left, each one character in from the edge (different odd and even footers);
- title (``Title``) in size-2 (22 pt) 方正小标宋简体, centred; the lines under it (``Subtitle``) in
  楷体_GB2312; level-1 headings "一、" (``Heading 1``/``Heading 2``) in 黑体, level-2 "（一）"
  (``Heading 3``) in 楷体_GB2312, lower levels in bold 仿宋_GB2312, all 16 pt;
- body text (``Body Text``, ``First Paragraph``) in size-3 (16 pt) 仿宋_GB2312, first line
  indented two characters, lines exactly 29 pt apart (22 lines a page);
- table text (``表格文字``; header rows ``表格表头``, bold) in size-5 (10.5 pt) 仿宋_GB2312
  (``表格文字（小）``/``表格表头（小）``, 8 pt, in tables too wide for it; ``…接排``: the same, kept
  with the next paragraph, for a last row followed by the 落款); tables (``Table``) ruled, the header
  row bold on grey and repeated on every page; tight lists (``Compact``) at body size;
- styles of evalkit's own: ``图表`` (charts, centred), ``主送机关`` (addressee, flush left),
  ``落款`` (issuing body and date, right-aligned, kept with what follows), ``报告说明``
  (provenance, 9 pt grey);
- the parts of a 公文 (:mod:`evalkit.publish.documents.gongwen`): ``发文机关标志`` (red, 30 pt
  小标宋, centred), ``发文字号`` (centred), ``附件说明`` (a line below the body, kept with the
  落款), ``正文接排`` (body text kept with the next paragraph: the last lines before the 落款),
  ``附注``, ``附件标识`` ("附件", 黑体, top left), ``附件标题`` (centred, 22 pt), ``版记`` (14 pt).

Fonts are named as Chinese offices name them (``w:eastAsia`` of every style's ``w:rFonts``;
Latin text and digits in Times New Roman). Where a font is missing, Word and WPS substitute the
``w:altName`` that the font table gives for it — a font every Chinese Windows has: 仿宋_GB2312 →
仿宋, 楷体_GB2312 → 楷体, 方正小标宋简体 → 宋体; 黑体 and 宋体 always exist. A preview on a machine
without them (LibreOffice on Linux) falls back to Noto Serif/Sans CJK through fontconfig.

A bureau replaces the look by saving its own copy of this file from Word (styles, letterhead in
the first-page header, footer) and naming it as ``docx_template:`` in the run file; the style
names above are what evalkit's documents use.

Rebuild the shipped file with ``python -m evalkit.publish.reference_docx``.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from evalkit.io.atomic import atomic_write_bytes

__all__ = ["ALT_NAMES", "FONTS", "build_reference_docx", "reference_docx_bytes"]

LATIN_FONT = "Times New Roman"
FONTS: dict[str, str] = {
    "title": "方正小标宋简体",
    "subtitle": "楷体_GB2312",
    "heading": "黑体",
    "heading2": "楷体_GB2312",
    "body": "仿宋_GB2312",
    "page_number": "宋体",
}
"""The east-Asian font of each role (the names Chinese offices use)."""

ALT_NAMES: dict[str, str] = {
    "方正小标宋简体": "宋体",
    "仿宋_GB2312": "仿宋",
    "楷体_GB2312": "楷体",
    "黑体": "SimHei",
    "宋体": "SimSun",
}
"""Font-table ``w:altName`` of each font: what Word and WPS use where the font is missing."""

# panose-1 classification and pitch of each face, for Word's own substitution
_FONT_TABLE_INFO = {
    "方正小标宋简体": ("02000000000000000000", "variable"),
    "仿宋_GB2312": ("02010609030101010101", "fixed"),
    "楷体_GB2312": ("02010609030101010101", "fixed"),
    "黑体": ("02010609060101010101", "fixed"),
    "宋体": ("02010600030101010101", "variable"),
}

MM_PER_INCH = 25.4


def _pandoc_reference() -> bytes:
    from evalkit.publish.pandoc import pandoc_path

    return subprocess.run(
        [pandoc_path(), "--print-default-data-file", "reference.docx"], capture_output=True, check=True
    ).stdout


def _set_fonts(style: object, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Name ``east_asia`` for CJK text and ``latin`` for the rest; drop theme fonts (which
    would override explicit names)."""
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    for key, value in (("ascii", latin), ("hAnsi", latin), ("cs", latin), ("eastAsia", east_asia)):
        fonts.set(qn(f"w:{key}"), value)


def _paragraph_style(doc: object, name: str, *, base: str = "Normal") -> object:
    from docx.enum.style import WD_STYLE_TYPE

    styles = doc.styles  # type: ignore[attr-defined]
    try:
        return styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[base]
        style.quick_style = True
        return style


def _look(
    style: object,
    *,
    font: str,
    size: float,
    bold: bool | None = False,
    align: object = None,
    first_indent: float | None = 0.0,
    line: float | None = None,
    before: float = 0,
    after: float = 0,
    color: str = "000000",
) -> None:
    """Font, size, weight, colour, alignment, first-line indent (pt), exact line spacing (pt,
    ``None``: single) and spacing before/after (pt) of a paragraph style."""
    from docx.shared import Pt, RGBColor

    _set_fonts(style, font)
    f = style.font  # type: ignore[attr-defined]
    f.size = Pt(size)
    f.bold = bold
    f.italic = False
    f.color.rgb = RGBColor.from_string(color)
    pf = style.paragraph_format  # type: ignore[attr-defined]
    if align is not None:
        pf.alignment = align
    if first_indent is not None:
        pf.first_line_indent = Pt(first_indent)
        pf.left_indent = Pt(0)
    pf.line_spacing = Pt(line) if line else 1.0
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)


def _page_number(paragraph: object, align: object, indent_side: str) -> None:
    """``— PAGE —`` in 14 pt 宋体, one character (14 pt) in from ``indent_side``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    p = paragraph
    p.alignment = align  # type: ignore[attr-defined]
    setattr(p.paragraph_format, f"{indent_side}_indent", Pt(14))  # type: ignore[attr-defined]

    def run(text: str = "") -> object:
        r = p.add_run(text)  # type: ignore[attr-defined]
        r.font.size = Pt(14)
        r.font.name = FONTS["page_number"]
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONTS["page_number"])
        return r

    def field_char(kind: str) -> None:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run()._element.append(el)

    run("— ")
    field_char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run()._element.append(instr)
    field_char("separate")
    run("1")
    field_char("end")
    run(" —")


def _table_style(doc: object) -> None:
    """Pandoc's ``Table``: single 0.5 pt rules everywhere, centred, header row bold on grey."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    el = doc.styles["Table"].element  # type: ignore[attr-defined]
    for old in el.findall(qn("w:tblPr")) + el.findall(qn("w:tblStylePr")):
        el.remove(old)
    rule = 'w:val="single" w:sz="4" w:space="0" w:color="000000"'
    el.append(parse_xml(
        f"<w:tblPr {nsdecls('w')}><w:jc w:val=\"center\"/><w:tblBorders>"
        + "".join(f"<w:{side} {rule}/>" for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
        + "</w:tblBorders><w:tblCellMar><w:left w:w=\"80\" w:type=\"dxa\"/>"
        "<w:right w:w=\"80\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr>"
    ))
    el.append(parse_xml(
        f"<w:tblStylePr {nsdecls('w')} w:type=\"firstRow\"><w:rPr><w:b/><w:bCs/></w:rPr>"
        "<w:tcPr><w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"EDEDED\"/></w:tcPr></w:tblStylePr>"
    ))


def _font_table(doc: object) -> None:
    """Declare every font with its ``w:altName`` (substitute), charset GB2312 and panose."""
    from lxml import etree

    part = next(p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml")  # type: ignore[attr-defined]
    root = etree.fromstring(part.blob)
    w = root.nsmap.get("w") or "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    def q(tag: str) -> str:
        return f"{{{w}}}{tag}"

    for font in root.findall(q("font")):
        if font.get(q("name")) in _FONT_TABLE_INFO:
            root.remove(font)
    for name, (panose, pitch) in _FONT_TABLE_INFO.items():
        font = etree.SubElement(root, q("font"), {q("name"): name})
        etree.SubElement(font, q("altName"), {q("val"): ALT_NAMES[name]})
        etree.SubElement(font, q("panose1"), {q("val"): panose})
        etree.SubElement(font, q("charset"), {q("val"): "86"})
        etree.SubElement(font, q("family"), {q("val"): "modern" if pitch == "fixed" else "roman"})
        etree.SubElement(font, q("pitch"), {q("val"): pitch})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _doc_defaults(doc: object) -> None:
    """Document defaults: 仿宋_GB2312 / Times New Roman, language zh-CN for East Asian text."""
    from docx.oxml.ns import qn

    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for key in ("ascii", "hAnsi", "cs"):
        fonts.set(qn(f"w:{key}"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), FONTS["body"])
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _sample_body(doc: object) -> None:
    """Replace pandoc's English sample text by a Chinese one showing each style."""
    body = doc.element.body  # type: ignore[attr-defined]
    sect = body.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}sectPr")
    for child in list(body):
        if child is not sect:
            body.remove(child)
    samples = [
        ("Title", "关于某年度中小学校党建工作质量评价结果的通报（样式示例）"),
        ("Subtitle", "某县教育体育局"),
        ("主送机关", "各中小学校党组织："),
        ("First Paragraph", "本文件是 evalkit 生成 Word 文档所用的参考样式。修改本文件中的样式（标题、正文、表格等）"
                            "或页眉页脚后另存，并在运行文件中写 docx_template: 文件路径，即可按本单位的格式生成。"),
        ("Heading 2", "一、一级标题（黑体）"),
        ("Heading 3", "（一）二级标题（楷体）"),
        ("Heading 4", "1. 三级标题（仿宋加粗）"),
        ("Body Text", "正文（仿宋_GB2312 三号，首行缩进两字，每页 22 行）。"),
        ("落款", "某县教育体育局"),
        ("落款", "2026年12月1日"),
        ("报告说明", "报告说明（小号灰色）：数据指纹、版本与生成时间。"),
    ]
    for style, text in samples:
        p = doc.add_paragraph(text, style=style)  # type: ignore[attr-defined]
        body.remove(p._p)
        sect.addprevious(p._p)
    table = doc.add_table(rows=2, cols=3, style="Table")  # type: ignore[attr-defined]
    for cell, text in zip(table.rows[0].cells + table.rows[1].cells, ["序号", "学校", "等次", "1", "某某小学", "好"],
                          strict=True):
        cell.paragraphs[0].text = text
        cell.paragraphs[0].style = doc.styles["表格表头" if text in ("序号", "学校", "等次") else "表格文字"]  # type: ignore[attr-defined]
    body.remove(table._tbl)
    sect.addprevious(table._tbl)


def reference_docx_bytes() -> bytes:
    """The reference document (see the module docstring) as bytes."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    doc = docx.Document(io.BytesIO(_pandoc_reference()))
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(22)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT, "right")
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT, "left")
    _doc_defaults(doc)

    s = doc.styles
    body, line = FONTS["body"], 29.0
    _look(s["Normal"], font=body, size=16, first_indent=None)
    for name in ("Body Text", "First Paragraph"):
        _look(s[name], font=body, size=16, first_indent=32, line=line)
    _look(s["Compact"], font=body, size=16, first_indent=0)
    _look(_paragraph_style(doc, "表格文字"), font=body, size=10.5, first_indent=0)
    _look(_paragraph_style(doc, "表格文字（小）"), font=body, size=8, first_indent=0)
    _look(_paragraph_style(doc, "表格表头"), font=body, size=10.5, bold=True, first_indent=0)
    for name in ("表格文字", "表格文字（小）"):  # a table's last row, kept with the 落款 after it
        keep = _paragraph_style(doc, f"{name}接排", base=name)
        _look(keep, font=body, size=s[name].font.size.pt, first_indent=0)
        keep.paragraph_format.keep_with_next = True
    _look(_paragraph_style(doc, "表格表头（小）"), font=body, size=8, bold=True, first_indent=0)
    _look(s["Title"], font=FONTS["title"], size=22, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, before=0, after=16)
    _look(s["Subtitle"], font=FONTS["subtitle"], size=16, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    for level in (1, 2):
        _look(s[f"Heading {level}"], font=FONTS["heading"], size=16, first_indent=32, line=line, before=6)
    _look(s["Heading 3"], font=FONTS["heading2"], size=16, first_indent=32, line=line)
    for level in range(4, 10):
        _look(s[f"Heading {level}"], font=body, size=16, bold=True, first_indent=32, line=line)
    for style in s:
        if style.name and style.name.lower() in ("caption", "table caption", "image caption"):
            _look(style, font=body, size=12, align=WD_ALIGN_PARAGRAPH.CENTER, first_indent=0)
    _look(_paragraph_style(doc, "图表"), font=body, size=10.5, align=WD_ALIGN_PARAGRAPH.CENTER, before=6, after=6)
    s["图表"].paragraph_format.keep_with_next = False
    _look(_paragraph_style(doc, "主送机关"), font=body, size=16, first_indent=0, line=line)
    _look(_paragraph_style(doc, "落款"), font=body, size=16, align=WD_ALIGN_PARAGRAPH.RIGHT, first_indent=0, line=line)
    s["落款"].paragraph_format.right_indent = Mm(0) + 16 * 4 * 12700  # four characters of 16 pt
    s["落款"].paragraph_format.keep_with_next = True  # never a 落款 alone at the top of a page
    s["落款"].paragraph_format.keep_together = True
    _look(_paragraph_style(doc, "报告说明"), font=body, size=9, first_indent=0, before=12, color="808080")
    # the parts of a 公文 (evalkit.publish.documents.gongwen; templates/documents/gongwen.md.j2)
    _look(_paragraph_style(doc, "正文接排", base="Body Text"), font=body, size=16, first_indent=32, line=line)
    s["正文接排"].paragraph_format.keep_with_next = True
    _look(_paragraph_style(doc, "附件说明"), font=body, size=16, first_indent=32, line=line, before=line)
    s["附件说明"].paragraph_format.keep_with_next = True
    _look(_paragraph_style(doc, "附注"), font=body, size=16, first_indent=32, line=line)
    _look(_paragraph_style(doc, "发文机关标志"), font=FONTS["title"], size=30, align=WD_ALIGN_PARAGRAPH.CENTER,
          color="FF0000")
    _look(_paragraph_style(doc, "发文字号"), font=body, size=16, align=WD_ALIGN_PARAGRAPH.CENTER, line=line)
    _look(_paragraph_style(doc, "附件标识"), font=FONTS["heading"], size=16, first_indent=0, line=line)
    _look(_paragraph_style(doc, "附件标题"), font=FONTS["title"], size=22, align=WD_ALIGN_PARAGRAPH.CENTER,
          before=line, after=16)
    _look(_paragraph_style(doc, "版记"), font=body, size=14, first_indent=0)
    _table_style(doc)
    _font_table(doc)
    _sample_body(doc)
    doc.core_properties.title = "evalkit 参考样式"
    doc.core_properties.author = "evalkit"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def build_reference_docx(path: str | Path) -> Path:
    """Write the reference document to ``path`` (atomically); return the path."""
    return atomic_write_bytes(path, reference_docx_bytes())


if __name__ == "__main__":  # pragma: no cover
    from evalkit.publish.pandoc import REFERENCE_DOCX

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REFERENCE_DOCX
    print(build_reference_docx(target))
