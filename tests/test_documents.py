"""Word documents read back with python-docx: a school report rendered as .docx by ``evalkit run``,
the county's notice (通报) and publicity list (公示名单) made from the same run's Results.

The session's one real run (``demo_run`` of tests/conftest.py: the demo county's 2022–2024 data,
the real ``school_report`` notebook, schools 001 and 022, with the issuer, notice and publicity
blocks of ``RUN_FILE``) is read by the module; the documents are drafted from its saved Results. The expected
figures are read from the Results table the run saved, never from the documents' own code.
Layout facts come from GB/T 9704-2012 (A4, margins 37/35/28/26 mm).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from evalkit.cli.app import main
from evalkit.framework import load_framework
from evalkit.planner.runfile import RunFileError, load_run_file
from evalkit.publish.documents.county import write_county_documents
from evalkit.publish.reference_docx import ALT_NAMES
from evalkit.results import Results

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "evalkit" / "demo" / "data"
GRADES = load_framework("shiquan-party-building").grade_order
RUN_FILE = f"""
year: 2024
data: [{DEMO}/observations_2023.csv, {DEMO}/observations_2024.csv]
registry: {DEMO}/registry.csv
notebooks:
  school_report: {ROOT}/notebooks/school_report.ipynb
formats: [ipynb, docx]
output: out
jobs: 1
issuer:
  county: 青岚县
  body: 青岚县教育体育局
  date: 2024-12-20
  contact: 局党建办 0915-1234567
notice:
  rectify_by: 2025-01-31
publicity:
  days: 5
"""


@pytest.fixture(scope="module")
def run(demo_run, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[no-untyped-def]
    """The shared ``evalkit run`` (school 001's docx), its spec and saved Results; ``root`` is this
    module's own folder for the documents it drafts (the shared run is only read)."""
    results = Results.load(demo_run.year / "scores")
    return {"root": tmp_path_factory.mktemp("docs"), "year": demo_run.year,
            "spec": load_run_file(demo_run.run_file), "results": results}


def _school(results: Results, school_id: str) -> dict:
    s = results.schools
    return s[(s["year"] == 2024) & (s["school_id"] == school_id)].iloc[0].to_dict()


def _text(document: docx.document.Document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def _east_asia(style: docx.styles.style.BaseStyle) -> str | None:
    fonts = style.element.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


# --------------------------------------------------------------------------- the school report


def test_school_report_docx_has_the_scored_figures_tables_chart_and_fonts(run: dict) -> None:
    path = run["year"] / "schools" / "001" / "001_2024_报告.docx"
    document = docx.Document(str(path))
    row = _school(run["results"], "001")
    text = _text(document)
    # title, total and grade as scored (the headline reads "总分 92.3 分　等次 好")
    assert document.paragraphs[0].style.name == "Title" and row["school_name"] in document.paragraphs[0].text
    assert re.search(rf"总分\s*{row['total']:.1f}\s*分\s*等次\s*{row['grade']}", text), text[:400]
    # headings are Word headings
    assert "一、总体情况" in [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    # the area table is a real Word table: header row repeated on each page, one row per area
    areas = run["results"].areas
    areas = areas[(areas["year"] == 2024) & (areas["school_id"] == "001")]
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "领域")
    header = [c.text for c in table.rows[0].cells]
    assert "得分" in header
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    body = {r.cells[0].text: r.cells[header.index("得分")].text for r in table.rows[1:]}
    assert body == {a.area_name: f"{a.points:.1f}" for a in areas.itertuples()}
    # charts embedded as pictures, at print resolution (>= 200 px per inch at the printed size)
    assert len(document.inline_shapes) >= 2
    shape = document.inline_shapes[0]
    blob = document.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
    assert blob[:4] == b"\x89PNG"
    width_px = int.from_bytes(blob[16:20], "big")
    assert width_px / (shape.width / 914400) >= 195
    # the declared fonts, as styles (w:eastAsia) the bureau can change
    styles = document.styles
    assert _east_asia(styles["Title"]) == "方正小标宋简体"
    assert _east_asia(styles["Heading 2"]) == "黑体"
    assert _east_asia(styles["Body Text"]) == "仿宋_GB2312"
    assert _east_asia(styles["表格文字"]) == "仿宋_GB2312"
    with zipfile.ZipFile(path) as z:
        font_table = z.read("word/fontTable.xml").decode("utf-8")
        footers = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("word/footer"))
    for font, alt in ALT_NAMES.items():
        assert f'w:name="{font}"' in font_table and f'w:val="{alt}"' in font_table
    # GB/T 9704 page and "— 1 —" page numbers
    section = document.sections[0]
    mm = [round(x.mm) for x in (section.page_width, section.page_height, section.top_margin,
                                section.bottom_margin, section.left_margin, section.right_margin)]
    assert mm == [210, 297, 37, 35, 28, 26]  # stored in twips: compare to the millimetre
    assert footers.count(" PAGE ") == 2 and "— " in footers
    # numerals set without spaces, in the sentences and the tables alike (evalkit.textfmt.cjk_tight)
    every = "\n".join(t.text or "" for t in document.element.body.iter(qn("w:t")))
    cjk = r"[\u4e00-\u9fff（），。：；]"
    assert "得分率" in every and not re.findall(rf"{cjk}[ \u00a0]+\d|\d[ \u00a0]+{cjk}", every)


# --------------------------------------------------------------------------- notice and publicity


def _documents(run: dict, folder: str, pdf: bool = False, **publicity: object) -> dict[str, Path]:
    spec = replace(run["spec"], formats=("ipynb", "pdf", "docx") if pdf else ("ipynb", "docx"))
    if publicity:
        spec = replace(spec, publicity=spec.publicity.model_copy(update=publicity))
    return write_county_documents(spec, run["results"], GRADES, 2024, run["root"] / folder,
                                  sources=["self", "inspection"])


def test_notice_lists_every_school_once_under_its_grade_and_counts_add_up(run: dict) -> None:
    written = _documents(run, "plain", pdf=True)
    document = docx.Document(str(written["notice.docx"]))
    paragraphs = document.paragraphs
    schools = run["results"].schools
    schools = schools[schools["year"] == 2024]
    title = next(i for i, p in enumerate(paragraphs) if p.style.name == "Title")
    assert paragraphs[title].text == "关于2024年度青岚县中小学校党建工作质量评价结果的通报"
    assert paragraphs[title + 1].text == "各中小学校党组织："
    listed: dict[str, list[str]] = {}
    for i, p in enumerate(paragraphs):
        m = re.fullmatch(r"（.）“(.+)”等次（(\d+)所）", p.text)
        if m:
            names = [] if paragraphs[i + 1].text == "无。" else paragraphs[i + 1].text.rstrip("。").split("、")
            assert len(names) == int(m.group(2))
            listed[m.group(1)] = names
    assert list(listed) == GRADES
    every = [name for names in listed.values() for name in names]
    assert sorted(every) == sorted(schools["school_name"]) and len(every) == len(set(every))
    for grade, names in listed.items():
        assert set(names) == set(schools.loc[schools["grade"] == grade, "school_name"])
    text = _text(document)
    counts = "，".join(f"“{g}”等次{len(listed[g])}所" for g in GRADES)
    assert f"共有{len(schools)}所学校参评，平均得分{schools['total'].mean():.1f}分" in text
    assert counts in text
    assert "于2025年1月31日前" in text and "采取学校自评、实地核查相结合" in text
    assert "青岚县教育体育局\n2024年12月20日\n" in text
    assert [p.style.name for p in paragraphs if p.text in ("青岚县教育体育局", "2024年12月20日")] == ["落款", "落款"]
    # the PDF says the same
    from pypdf import PdfReader

    pdf_text = "".join(page.extract_text() for page in PdfReader(written["notice.pdf"]).pages)
    assert paragraphs[title].text in pdf_text.replace("\n", "")  # the title (wrapped over two lines)
    assert "2024年12月20日" in pdf_text and "— 1 —" in pdf_text


def _publicity(written: dict[str, Path]) -> tuple[list[list[str]], list[list[object]], str]:
    document = docx.Document(str(written["publicity.docx"]))
    (table,) = document.tables
    cells = [[c.text for c in r.cells] for r in table.rows]
    sheet = openpyxl.load_workbook(written["publicity.xlsx"]).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    return cells, values, _text(document)


def test_publicity_list_shows_grades_but_no_scores_unless_asked(run: dict) -> None:
    schools = run["results"].schools
    schools = schools[schools["year"] == 2024]
    totals = {f"{t:.1f}" for t in schools["total"]}
    cells, values, text = _publicity(_documents(run, "public"))
    assert cells[0] == ["序号", "学校", "拟定等次"] and len(cells) == len(schools) + 1
    assert {(r[1], r[2]) for r in cells[1:]} == set(zip(schools["school_name"], schools["grade"], strict=True))
    assert "公示时间：2024年12月20日至2024年12月26日（5个工作日）" in text  # Fri 20th + Mon–Thu
    assert "局党建办0915-1234567" in text  # numerals set without spaces
    flat = [v for row in values for v in row if v is not None]
    numbers = [row.index(v) for row in values for v in row if isinstance(v, (int, float))]
    assert numbers == [0] * len(schools)  # the only numbers: 序号 in the first column
    assert not any(isinstance(v, str) and (v.startswith("=") or v in totals or "总分" in v) for v in flat)
    assert not any(cell in totals for row in cells for cell in row) and "总分" not in text
    # asked for: the totals are there (so the checks above can fail)
    cells, values, _ = _publicity(_documents(run, "scores", show_scores=True))
    assert cells[0] == ["序号", "学校", "总分", "拟定等次"]
    assert {r[2] for r in cells[1:]} == totals
    header = next(i for i, row in enumerate(values) if row[:2] == ["序号", "学校"])
    assert {round(row[2], 1) for row in values[header + 1:] if isinstance(row[2], (int, float))} == {
        round(t, 1) for t in schools["total"]}


def test_notice_and_publicity_need_an_issuer(tmp_path: Path) -> None:
    text = RUN_FILE.split("issuer:")[0] + "notice:\n  rectify_by: 2025-01-31\n"
    (tmp_path / "run.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RunFileError, match=r"notice.*需要发文单位"):
        load_run_file(tmp_path / "run.yaml")


def test_evalkit_run_writes_the_documents_once(tmp_path: Path) -> None:
    """A whole run (the tiny report of tests/test_batch.py) writes both documents into county/,
    records them in the manifest, and leaves them alone when nothing changed."""
    import json

    from test_batch import make_project

    run_file = make_project(tmp_path, {"001": "甲小学", "002": "乙小学"}, notebooks=("school_report",))
    run_file.write_text(run_file.read_text(encoding="utf-8") + RUN_FILE[RUN_FILE.index("issuer:"):],
                        encoding="utf-8")
    assert main(["run", str(run_file)]) == 0
    county = tmp_path / "out" / "2024" / "county"
    names = sorted(p.name for p in county.iterdir())
    assert names == ["公示名单_2024.docx", "公示名单_2024.xlsx", "通报_2024.docx"]  # no pdf: formats [ipynb]
    manifest = json.loads((tmp_path / "out" / "2024" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["documents"]["outputs"]) == {"notice.docx", "publicity.docx", "publicity.xlsx"}
    stamp = (county / "通报_2024.docx").stat().st_mtime_ns
    assert main(["run", str(run_file)]) == 0
    assert (county / "通报_2024.docx").stat().st_mtime_ns == stamp
    # both schools of the tiny report score low: listed, in order, under the last grade
    text = _text(docx.Document(str(county / "通报_2024.docx")))
    assert "（一）“差”等次（2所）\n甲小学、乙小学。\n" in text
    # the wording follows: one grade only, no 好 school, so no 好 sentence and no "其他学校"
    assert "参评学校均评为“差”等次。" in text and "本次评价无“好”“较好”“一般”等次学校。" in text
    assert "本次评价无“好”等次学校，各学校要对标先进" in text and "评价为“好”等次的学校" not in text


def test_report_html_classes_become_word_styles(tmp_path: Path) -> None:
    """The report HTML's title block, chart, table, 落款 and provenance (in the shapes that
    evalkit.publish.render and evalkit.analysis write them) take the reference document's styles."""
    import base64
    import io

    from evalkit.publish.pandoc import html_to_docx_bytes

    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()
    html = (
        '<html><head><title>题</title></head><body><header class="ek-title-block">'
        '<h1 class="ek-title">甲小学 2024 年度党建工作质量评价报告</h1>'
        '<div class="ek-meta"><p>青岚县教育体育局</p></div></header>'
        '<h2>一、总体情况</h2><p>正文。</p>'
        f'<div class="ek-figure"><img src="data:image/png;base64,{png}" width="96"></div>'
        '<table class="ekr-table"><thead><tr><th>领域</th><th>得分</th></tr></thead>'
        '<tbody><tr><td>思想强基</td><td>19.0</td></tr></tbody></table>'
        '<div class="ekr-signature"><p class="ekr-contact">如对评价结果有疑问，请联系：局党建办。</p>'
        '<div style="margin:18mm 2em 0 auto"><p>青岚县教育体育局</p><p>2024年12月20日</p></div></div>'
        '<div class="ekr-provenance">数据指纹：abc</div></body></html>'
    )
    document = docx.Document(io.BytesIO(html_to_docx_bytes(html)))
    styles = [(p.style.name, p.text) for p in document.paragraphs if p.text or p.style.name == "图表"]
    assert styles[:2] == [("Title", "甲小学 2024 年度党建工作质量评价报告"), ("Subtitle", "青岚县教育体育局")]
    assert ("Heading 2", "一、总体情况") in styles and ("图表", "") in styles
    assert styles[-3:] == [("落款", "青岚县教育体育局"), ("落款", "2024年12月20日"), ("报告说明", "数据指纹：abc")]
    assert sum(p.text == "题" for p in document.paragraphs) == 0  # <title> is not repeated
    (table,) = document.tables
    assert [p.style.name for row in table.rows for c in row.cells for p in c.paragraphs] == (
        ["表格表头"] * 2 + ["表格文字"] * 2)
    assert len(document.inline_shapes) == 1


def test_docx_template_must_be_a_word_file(tmp_path: Path) -> None:
    (tmp_path / "模板.docx").write_text("not a zip", encoding="utf-8")
    text = RUN_FILE.split("issuer:")[0] + "docx_template: 模板.docx\n"
    (tmp_path / "run.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RunFileError, match=r"docx_template .*不是 Word 文档"):
        load_run_file(tmp_path / "run.yaml")


# --------------------------------------------------------------------------- the 通报 as a 公文

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
OFFICIAL = {
    "doc_number": "青教体发[2024]012号",  # typed with square brackets and a leading zero
    "cc": "县委教育工委、县纪委监委派驻纪检监察组",
    "printed_by": "青岚县教育体育局办公室",
    "note": "此件主动公开",
}


def _official_documents(run: dict, folder: str, **issuer: object) -> dict[str, Path]:
    declared = run["spec"].issuer
    spec = replace(run["spec"], formats=("ipynb", "pdf", "docx"),
                   issuer=type(declared).model_validate({**declared.model_dump(), **OFFICIAL, **issuer}))
    return write_county_documents(spec, run["results"], GRADES, 2024, run["root"] / folder,
                                  sources=["self", "inspection"])


def _blocks(document: docx.document.Document) -> list[tuple[str, object]]:
    """The body's paragraphs and tables in order, each with its text."""
    out = []
    for el in document.element.body.iterchildren():
        if el.tag in (f"{W}p", f"{W}tbl"):
            out.append(("".join(t.text or "" for t in el.iter(f"{W}t")), el))
    return out


def test_notice_has_the_parts_of_a_gongwen_in_order(run: dict) -> None:
    """GB/T 9704-2012: 版头 (red 发文机关标志, 发文字号 with 〔〕, red line), title, 主送机关, 正文,
    附件说明, 署名 and 成文日期, 附注, the 附件 on a new page ("附件" top left), the 版记 (抄送,
    印发机关, 印发日期) at the foot of the last page; the PDF's text in the same order."""
    written = _official_documents(run, "gongwen")
    document = docx.Document(str(written["notice.docx"]))
    blocks = _blocks(document)
    texts = [t for t, _ in blocks]
    first = document.paragraphs[0]
    # 版头: the 发文机关标志 in a red run, then the 文号 (brackets made 〔〕, leading zero dropped)
    assert first.text == "青岚县教育体育局文件"
    assert [(r.text, str(r.font.color.rgb)) for r in first.runs] == [("青岚县教育体育局文件", "FF0000")]
    number = texts.index("青教体发〔2024〕12号")
    title = texts.index("关于2024年度青岚县中小学校党建工作质量评价结果的通报")
    assert 0 < number < title and texts[title + 1] == "各中小学校党组织："
    border = blocks[number][1].find(f"{W}pPr/{W}pBdr/{W}bottom")  # the red separator line
    assert border is not None and border.get(f"{W}color") == "FF0000"
    # 附件说明 after the body, then 署名, 成文日期 and 附注
    note = texts.index("附件：2024年度青岚县中小学校党建工作质量评价结果")
    assert texts.index("四、整改要求") < note < texts.index("青岚县教育体育局") < texts.index("2024年12月20日")
    assert texts[texts.index("2024年12月20日") + 1] == "（此件主动公开）"
    # the 附件: a page break, then "附件" and its title, then the table of every school by grade
    mark = texts.index("附件")
    assert blocks[mark - 1][1].find(f".//{W}br[@{W}type='page']") is not None
    assert texts[mark + 1] == "2024年度青岚县中小学校党建工作质量评价结果"
    schools = run["results"].schools
    schools = schools[schools["year"] == 2024]
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "学校", "等次"]  # no scores by default
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert sorted((r[1], r[2]) for r in rows) == sorted(zip(schools["school_name"], schools["grade"], strict=True))
    assert [r[2] for r in rows] == sorted((r[2] for r in rows), key=GRADES.index)  # by grade
    # the 版记 last, a table anchored to the bottom of the text block
    banji = document.tables[-1]
    assert blocks[-1][0] == "" and blocks[-2][1] is banji._tbl
    lines = [c.text for r in banji.rows for c in dict.fromkeys(r.cells)]
    assert lines == ["抄送：县委教育工委，县纪委监委派驻纪检监察组。", "青岚县教育体育局办公室", "2024年12月20日印发"]
    assert banji._tbl.find(f"{W}tblPr/{W}tblpPr").get(f"{W}tblpYSpec") == "bottom"
    # the PDF: the same parts in the same order; the 附件 starts a page, the 版记 on the last one
    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(written["notice.pdf"]).pages]
    flat = "".join(pages).replace("\n", "")
    order = ["青岚县教育体育局文件", "青教体发〔2024〕12号", "关于2024年度青岚县中小学校党建工作质量",
             "各中小学校党组织：", "一、总体情况", "附件：2024年度青岚县中小学校党建工作质量评价结果",
             "青岚县教育体育局2024年12月20日", "（此件主动公开）", "附件2024年度", "抄送：", "2024年12月20日印发"]
    at = [flat.find(s) for s in order]
    assert -1 not in at and at == sorted(at), dict(zip(order, at, strict=True))
    start = next(i for i, p in enumerate(pages) if p.lstrip().startswith("附件\n"))
    assert "（此件主动公开）" in pages[start - 1]
    assert "抄送：" in pages[-1] and "印发" in pages[-1] and "抄送：" not in "".join(pages[:-1])
    assert len(pages) % 2 == 0  # the 版记 on an even page (a blank page added before it if needed)
    if not pages[-2].strip():  # then neither the blank page nor the 版记's page is numbered
        assert "—" not in pages[-1] and "抄送：" not in pages[-3]


def test_notice_attachment_shows_scores_only_when_asked(run: dict) -> None:
    notice = run["spec"].notice.model_copy(update={"show_scores": True})
    spec = replace(run["spec"], formats=("ipynb", "docx"), notice=notice)
    written = write_county_documents(spec, run["results"], GRADES, 2024, run["root"] / "notice-scores")
    table = docx.Document(str(written["notice.docx"])).tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "学校", "总分", "等次"]
    schools = run["results"].schools
    schools = schools[schools["year"] == 2024]
    assert sorted(r.cells[2].text for r in table.rows[1:]) == sorted(f"{t:.1f}" for t in schools["total"])


def _all_text(path: Path) -> str:
    """Every text of a document: Word paragraphs and table cells, PDF pages, workbook cells."""
    if path.suffix == ".docx":
        return "\n".join(t.text or "" for t in docx.Document(str(path)).element.body.iter(f"{W}t"))
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        # without the table rows ("12 青岚中学 好": pypdf puts a space between cells) and the
        # 版记's 印发 line (印发机关 and 印发日期 at either end of one line)
        lines = "\n".join(p.extract_text() for p in PdfReader(path).pages).splitlines()
        return "\n".join(line for line in lines if not re.match(r"\d+ |\S+ \d{4}年\d+月\d+日印发$", line))
    sheet = openpyxl.load_workbook(path).active
    return "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)


def test_no_space_between_chinese_and_numerals_in_the_documents(run: dict) -> None:
    """Official Chinese text sets numerals without spaces (关于2024年度, （2024.1版）, 13所)."""
    written = _official_documents(run, "tight")
    cjk = r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]"
    gap = re.compile(rf"{cjk}[ \u00a0]+[0-9]|[0-9][ \u00a0]+{cjk}")
    for name, path in written.items():
        text = _all_text(path)
        assert "2024年度" in text or name == "publicity.xlsx", name
        assert not gap.findall(text), (name, gap.findall(text)[:5])
    # the published framework version is quoted tightly
    assert "（2024.1版）" in _all_text(written["notice.docx"])


def test_notice_names_no_group_without_schools(run: dict) -> None:
    """The 好 sentence of the requirements is written only when some school got 好 (demo: 13);
    with every 好 school moved to 较好 it goes, and 好 is named once as a grade nobody got."""
    from evalkit.publish.documents.facts import GradeList, county_facts
    from evalkit.publish.documents.notice import notice_markdown

    spec = run["spec"]
    facts = county_facts(run["results"], 2024, GRADES, sources=["self"])
    sentence = "评价为“好”等次的学校要总结经验"
    assert facts.grades[0].grade == "好" and facts.grades[0].count > 0
    assert sentence in notice_markdown(facts, spec.issuer, spec.notice)
    regraded = [GradeList("好", []), GradeList("较好", facts.grades[0].schools + facts.grades[1].schools),
                *facts.grades[2:]]
    text = notice_markdown(replace(facts, grades=regraded), spec.issuer, spec.notice)
    assert sentence not in text and "“好”等次（" not in text and "“好”等次0所" not in text
    assert "本次评价无“好”等次学校。" in text
    assert f"其中，“较好”等次{len(regraded[1].schools)}所，" in text and "，无“好”等次学校。" in text


def test_publicity_keeps_its_last_rows_with_the_signature(run: dict) -> None:
    """The 落款 never stands alone on the last page: whatever the number of schools, the last
    page holds table rows too (PDF), and the Word table's last row is kept with the 落款."""
    import io

    from pypdf import PdfReader

    from evalkit.publish.documents.facts import CountyFacts, GradeList, SchoolGrade
    from evalkit.publish.documents.publicity import publicity_files

    spec = run["spec"]

    def files(n: int) -> dict[str, bytes]:
        schools = [SchoolGrade(f"{i:03d}", f"青岚县第{i}小学", "好", 90.0, i) for i in range(1, n + 1)]
        facts = CountyFacts(year=2024, n_schools=n, grades=[GradeList("好", schools)], mean_total=90.0,
                            decimals=1, framework_name="指标体系", framework_version="2024.1")
        return publicity_files(facts, spec.issuer, spec.publicity, pdf=True)

    first = PdfReader(io.BytesIO(files(40)["pdf"])).pages[0].extract_text()
    fit = max(int(m) for m in re.findall(r"^(\d+) 青岚县第", first, flags=re.M))  # rows page 1 holds
    for n in range(fit - 3, fit + 2):  # where the 落款 alone would fall onto page 2
        made = files(n)
        last = PdfReader(io.BytesIO(made["pdf"])).pages[-1].extract_text()
        assert "青岚县教育体育局" in last and re.search(rf"^{n} 青岚县第{n}小学", last, flags=re.M), (n, last)
        assert re.search(rf"^{n - 1} 青岚县第", last, flags=re.M), (n, last)  # two rows with it
    (table,) = docx.Document(io.BytesIO(made["docx"])).tables
    last = [(p.style.name, p.style.paragraph_format.keep_with_next) for c in table.rows[-1].cells
            for p in c.paragraphs]
    assert last == [("表格文字接排", True)] * 3
    assert {p.style.name for c in table.rows[-2].cells for p in c.paragraphs} == {"表格文字"}


def test_gongwen_parts_keep_hostile_text_as_written(run: dict) -> None:
    """Run-file text reaching the raw Word XML of the 版头 and 版记 (names with <, &, quotes) is
    escaped, not taken as markup: the Word file opens and reads back the same words."""
    spec = run["spec"]
    issuer = type(spec.issuer).model_validate({
        **spec.issuer.model_dump(), "masthead": '青岚县<教育>&"体育"局文件', "doc_number": "青教体发（2024）第7号",
        "cc": ["县委<办>", "县政府&办"], "printed_by": "</w:t>办公室"})
    from evalkit.publish.documents.facts import county_facts
    from evalkit.publish.documents.notice import notice_files

    facts = county_facts(run["results"], 2024, GRADES)
    made = notice_files(facts, issuer, spec.notice, pdf=False)
    import io

    document = docx.Document(io.BytesIO(made["docx"]))
    texts = [t for t, _ in _blocks(document)]
    assert texts[0] == '青岚县<教育>&"体育"局文件' and texts[1] == "青教体发〔2024〕7号"
    lines = [c.text for r in document.tables[-1].rows for c in dict.fromkeys(r.cells)]
    assert lines == ["抄送：县委<办>，县政府&办。", "</w:t>办公室", "2024年12月20日印发"]
