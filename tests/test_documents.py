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
    assert paragraphs[0].text == "关于 2024 年度青岚县中小学校党建工作质量评价结果的通报"
    assert paragraphs[1].text == "各中小学校党组织："
    listed: dict[str, list[str]] = {}
    for i, p in enumerate(paragraphs):
        m = re.fullmatch(r"（.）“(.+)”等次（(\d+) 所）", p.text)
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
    counts = "，".join(f"“{g}”等次 {len(listed[g])} 所" for g in GRADES)
    assert f"共有 {len(schools)} 所学校参评，平均得分 {schools['total'].mean():.1f} 分" in text
    assert counts in text
    assert "于2025年1月31日前" in text and "采取学校自评、实地核查相结合" in text
    assert text.rstrip().endswith("青岚县教育体育局\n2024年12月20日")
    assert [p.style.name for p in paragraphs[-2:]] == ["落款", "落款"]
    # the PDF says the same
    from pypdf import PdfReader

    pdf_text = "".join(page.extract_text() for page in PdfReader(written["notice.pdf"]).pages)
    assert pdf_text.replace("\n", "").startswith(paragraphs[0].text)  # the title (wrapped over two lines)
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
    assert "公示时间：2024年12月20日至2024年12月26日（5 个工作日）" in text  # Fri 20th + Mon–Thu
    assert "局党建办 0915-1234567" in text
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
    assert "（四）“差”等次（2 所）\n甲小学、乙小学。\n" in _text(docx.Document(str(county / "通报_2024.docx")))


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
