"""HTML and PDF reports from an executed notebook (evalkit.publish.render), looked at as a reader would."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import v4
from pypdf import PdfReader

from evalkit.publish.render import REMOVE_CELL_TAGS, clean_notebook, html_to_pdf_bytes, notebook_to_html
from evalkit.runtime.job import Job, JobResult
from evalkit.runtime.render_job import run_and_render

TITLE = "城关第一小学 2024 年度党建工作质量评估报告"
MD_TITLE = "学校党建工作质量评估"
SCHOOL, YEAR = "城关第一小学", "2024 年度"
SECRET = "不应出现在报告中的内容"
EXTERNAL_URL = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _report_notebook() -> nbformat.NotebookNode:
    cells = [
        v4.new_markdown_cell(f"# {MD_TITLE}\n\n本报告依据**2024年度**评估数据生成。"),
        v4.new_code_cell(
            "import warnings\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"
            "from evalkit.charts.fonts import setup_matplotlib, color, hatch\n"
            "setup_matplotlib()\nwarnings.warn('这是一条不应出现的警告')"
        ),
        v4.new_markdown_cell("## 一、领域得分"),
        v4.new_code_cell(
            "df = pd.DataFrame({'领域': ['党的建设', '思想政治', '清廉教育'], '得分': [18.5, 17.0, 9.5],"
            " '满分': [20, 20, 10]})\ndf"
        ),
        v4.new_code_cell(
            "fig, ax = plt.subplots()\n"
            "ax.bar(df['领域'], df['得分'], color=[color(i) for i in range(3)], "
            "hatch=[hatch(i) for i in range(3)])\n"
            "ax.set_title('各领域得分')"  # returns Text(...): a stray repr the report must drop
        ),
        v4.new_code_cell(f"print('{SECRET}')", metadata={"tags": ["remove_cell"]}),
        v4.new_code_cell("x = 1"),
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _job(folder: Path, formats: tuple[str, ...] = ("ipynb", "html", "pdf"), **kw: str) -> Job:
    """A school report job writing ``formats`` into ``folder`` (as the planner makes them)."""
    return Job(key="school_report:001", kind="school_report", school_id="001", school_name=SCHOOL, year=2024,
               notebook=folder / "school_report.ipynb", parameters={}, fingerprints={},
               outputs={f: folder / "schools" / "001" / f"001_2024_报告.{f}" for f in formats},
               failed_notebook=folder / "schools" / "001" / "001_2024_报告.failed.ipynb",
               work_dir=folder / ".work", **kw)


def _render(job: Job, nb: nbformat.NotebookNode) -> JobResult:
    """What every executor does with an executed notebook (``run_and_render``), the execution
    replaced by writing ``nb``."""
    return run_and_render(job, lambda job, work, timings: nbformat.write(nb, work))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The test notebook executed, then rendered once to HTML and PDF as ``evalkit run`` does."""
    out = tmp_path_factory.mktemp("report")
    nb = _report_notebook()
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    job = _job(out, title=TITLE, header=f"{SCHOOL}　{YEAR}", header_left=SCHOOL, header_right=YEAR)
    result = _render(job, nb)
    assert (result.status, result.error) == ("done", None)
    assert result.outputs == {f: str(p) for f, p in job.outputs.items()}
    html_path, pdf_path = job.outputs["html"], job.outputs["pdf"]
    return {"nb": nb, "dir": out, "html": html_path.read_text(encoding="utf-8"), "html_path": html_path,
            "pdf_path": pdf_path, "result": result}


# --------------------------------------------------------------------------- HTML


def test_html_is_chinese_self_contained_outputs_only(rendered: dict) -> None:
    html = rendered["html"]
    assert html == notebook_to_html(rendered["nb"], title=TITLE, header=f"{SCHOOL}　{YEAR}")  # what was written
    assert '<html lang="zh">' in html
    assert '<meta charset="utf-8"' in html
    assert '"Noto Sans CJK SC"' in html and '"Noto Serif CJK SC"' in html
    # title block and rendered markdown
    # numerals set without spaces (evalkit.textfmt.cjk_tight), even where the caller spaced them
    assert '<h1 class="ek-title">城关第一小学2024年度党建工作质量评估报告</h1>' in html and TITLE not in html
    assert "城关第一小学　2024年度" in html  # meta block: header_left and header_right
    assert f"{MD_TITLE}</h1>" in html and "<strong>2024年度</strong>" in html
    # the DataFrame as a table
    assert '<table border="1" class="dataframe">' in html and "<td>思想政治</td>" in html
    # no code, no prompts, no input areas
    for code in ("import pandas", "plt.subplots", "setup_matplotlib()", "x = 1"):
        assert code not in html
    assert "In&nbsp;[" not in html and "Out[" not in html and "jp-InputArea-editor" not in html
    # hidden cell, stderr warning and matplotlib's stray Text(...) repr are gone
    assert SECRET not in html and "不应出现的警告" not in html and "Text(0.5" not in html
    # nothing from the network, no scripts at all
    assert not EXTERNAL_URL.search(html), EXTERNAL_URL.search(html)
    assert "<script" not in html.lower()


def test_html_embeds_chart_as_data_uri(rendered: dict) -> None:
    images = re.findall(r'<img [^>]*\bsrc="data:image/png;base64,([A-Za-z0-9+/=]+)"', rendered["html"])
    assert len(images) == 1
    png = base64.b64decode(images[0])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width >= 900  # 150 dpi figure from setup_matplotlib: crisp when printed


def test_html_keeps_errors_and_drops_scripts_and_noise() -> None:
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                "1/0",
                outputs=[
                    v4.new_output("stream", name="stderr", text="警告信息"),
                    v4.new_output(
                        "error",
                        ename="ZeroDivisionError",
                        evalue="division by zero",
                        traceback=["\x1b[31mZeroDivisionError\x1b[0m: division by zero"],
                    ),
                ],
            ),
            v4.new_code_cell(
                "show()",
                outputs=[
                    v4.new_output(
                        "display_data", data={"application/javascript": "alert(1)", "text/plain": "js"}
                    ),
                    v4.new_output(
                        "execute_result",
                        data={"text/plain": "<Figure size 640x480 with 1 Axes>"},
                        execution_count=2,
                    ),
                    v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=2),
                ],
            ),
            v4.new_code_cell("y = 2", outputs=[]),
            v4.new_markdown_cell("隐藏的说明", metadata={"tags": ["hide"]}),
        ]
    )
    html = notebook_to_html(nb, title="测试")
    assert "此处内容生成出错：ZeroDivisionError" in html and "division by zero" in html
    assert "警告信息" not in html and "alert(1)" not in html and "<script" not in html
    assert "Figure size" not in html and "<pre>42</pre>" in html
    assert "隐藏的说明" not in html and "y = 2" not in html
    assert len(nb.cells) == 4 and nb.cells[0].outputs[0].name == "stderr"  # input not modified
    # error cell, the cell with "42" and the tagged markdown cell, which the exporter's
    # TagRemovePreprocessor drops before clean_notebook runs
    assert len(clean_notebook(nb).cells) == 3


@pytest.mark.parametrize("tag", sorted(REMOVE_CELL_TAGS))
def test_cells_tagged_to_be_removed_are_not_in_the_html(tag: str) -> None:
    out = [v4.new_output("execute_result", data={"text/plain": "'代码输出'"}, execution_count=1)]
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("隐藏的说明", metadata={"tags": [tag]}),
            v4.new_code_cell("x", outputs=out, metadata={"tags": ["other", tag]}),
            v4.new_markdown_cell("保留的说明", metadata={"tags": ["parameters", "remove_input", "remove_output"]}),
            v4.new_code_cell("y", outputs=[v4.new_output("stream", name="stdout", text="保留的输出")],
                             metadata={"tags": ["injected-parameters", "remove-input"]}),
        ]
    )
    html = notebook_to_html(nb, title="测试")
    assert "隐藏的说明" not in html and "代码输出" not in html
    assert "保留的说明" in html and "保留的输出" in html
    assert [c.metadata["tags"][-1] for c in nb.cells[:2]] == [tag, tag]  # input not modified


def test_header_text_is_escaped() -> None:
    html = notebook_to_html(v4.new_notebook(), title="<b>标题</b>", header="乡镇 <镇>\n第二行")
    assert "<b>标题</b>" not in html and "&lt;b&gt;标题&lt;/b&gt;" in html
    assert "<p>乡镇 &lt;镇&gt;</p><p>第二行</p>" in html


# --------------------------------------------------------------------------- PDF


def _font_names(reader: PdfReader) -> dict[str, set[str]]:
    """BaseFont name → the kinds of font program embedded (FontFile/FontFile2/FontFile3/Type3)."""
    fonts: dict[str, set[str]] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"]) if "/BaseFont" in font else str(font.get("/Name", "?"))
            kinds = fonts.setdefault(name, set())
            if font["/Subtype"] == "/Type3":
                kinds.add("Type3")
            for desc in [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]:
                if "/FontDescriptor" in desc:
                    kinds.update(
                        k[1:] for k in desc["/FontDescriptor"].get_object() if k.startswith("/FontFile")
                    )
    return fonts


def test_pdf_pages_text_header_footer(rendered: dict) -> None:
    reader = PdfReader(rendered["pdf_path"])
    n = len(reader.pages)
    first = reader.pages[0]
    assert abs(float(first.mediabox.width) - 595.28) < 1 and abs(float(first.mediabox.height) - 841.89) < 1
    text = first.extract_text()
    tight = TITLE.replace(" ", "")  # numerals set without spaces (evalkit.textfmt.cjk_tight)
    assert tight in text and MD_TITLE in text and "思想政治" in text
    assert SCHOOL in text and "2024年度" in text  # running header
    assert f"第1页 / 共{n}页" in text  # footer
    assert SECRET not in "".join(p.extract_text() for p in reader.pages)
    assert reader.metadata.title == tight


def test_pdf_embeds_cjk_fonts_not_type3(rendered: dict) -> None:
    fonts = _font_names(PdfReader(rendered["pdf_path"]))
    cjk = {
        name: kinds
        for name, kinds in fonts.items()
        if re.search(r"Noto(Sans|Serif)CJK", name.replace("-", ""))
    }
    assert cjk, fonts
    for name, kinds in cjk.items():
        assert kinds & {"FontFile2", "FontFile3"}, (name, kinds)
    assert not any("Type3" in kinds for kinds in fonts.values()), fonts


# --------------------------------------------------------------------------- atomicity

# A document whose fonts are all DejaVu (a few ms to subset) instead of Noto CJK (seconds without
# HarfBuzz-Subset): the atomicity tests below are about files, not fonts.
_CHEAP_CSS = (
    '* { font-family: "DejaVu Sans" !important; } @page { @bottom-center { content: none !important; }'
    ' @top-left { font-family: "DejaVu Sans" !important; } }'
)
_CHEAP_HTML = f"<html><head><style>{_CHEAP_CSS}</style></head><body><p>ok</p></body></html>"


def _leftovers(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if ".tmp" in p.name)


def test_outputs_are_written_under_their_final_names_only(tmp_path: Path) -> None:
    nb = v4.new_notebook(cells=[v4.new_markdown_cell(f"<style>{_CHEAP_CSS}</style>\n\nok")])
    job = _job(tmp_path, title="ok")
    result = _render(job, nb)
    assert result.status == "done" and set(result.outputs) == {"ipynb", "html", "pdf"}
    assert job.outputs["pdf"].read_bytes()[:5] == b"%PDF-"
    assert nbformat.read(job.outputs["ipynb"], as_version=4) == nb
    assert _leftovers(tmp_path) == [] and list((tmp_path / ".work").iterdir()) == []
    assert not job.failed_notebook.exists()


def test_pdf_header_text_is_quoted_for_css() -> None:
    header = 'School "No. 1" \\ a;b} @page { x'
    pdf = html_to_pdf_bytes(_CHEAP_HTML, header_left=header)
    from io import BytesIO

    assert header in PdfReader(BytesIO(pdf)).pages[0].extract_text()
    with pytest.raises(TypeError):
        html_to_pdf_bytes(None, header_left="")  # type: ignore[arg-type]


def test_markdown_images_are_embedded(tmp_path: Path) -> None:
    from matplotlib.image import imsave

    imsave(tmp_path / "logo.png", [[0.0, 1.0], [1.0, 0.0]])
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("![校徽](logo.png)")])
    html = notebook_to_html(nb, title="测试", path=tmp_path)
    assert re.search(r'<img [^>]*src="data:image/png;base64,', html)
    assert not EXTERNAL_URL.search(html) and 'src="logo.png"' not in html


def test_a_pdf_that_cannot_be_written_leaves_no_output_and_keeps_the_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalkit.runtime import render_job

    nb = v4.new_notebook(cells=[v4.new_markdown_cell(f"<style>{_CHEAP_CSS}</style>\n\nok")])
    job = _job(tmp_path, title="ok")
    job.outputs["html"].parent.mkdir(parents=True)
    for path in job.outputs.values():  # a previous run's outputs, stale once this one fails
        path.write_bytes(b"old")
    write_bytes = render_job.atomic_write_bytes

    def disk_full(path: Path, data: bytes) -> Path:
        if Path(path) == job.outputs["pdf"]:
            raise OSError(28, "No space left on device")
        return write_bytes(path, data)

    monkeypatch.setattr(render_job, "atomic_write_bytes", disk_full)
    result = _render(job, nb)
    assert result.status == "failed" and result.outputs == {} and "No space left on device" in result.error
    assert not any(p.exists() for p in job.outputs.values())  # the HTML written before is not published
    assert result.failed_notebook == str(job.failed_notebook)
    assert nbformat.read(job.failed_notebook, as_version=4).cells[1:] == nb.cells  # after the error note
    assert _leftovers(tmp_path) == [] and list((tmp_path / ".work").iterdir()) == []
