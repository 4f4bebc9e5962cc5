"""The report fonts cut down to common characters (evalkit.publish.pdf_fonts): what the faces hold,
and real PDFs read back (pypdf, pdftotext, pdftoppm) — the same pages as with the full faces."""

from __future__ import annotations

import io
import subprocess
import threading
from pathlib import Path

import pytest
import uharfbuzz as hb
from PIL import Image, ImageChops
from pypdf import PdfReader

from evalkit.publish import pdf_fonts, render
from evalkit.publish.pdf_fonts import COMMON_CHARACTERS, PDF_FAMILY, SOURCE_FAMILY, common_faces

# 堃 (U+5803) is a common character of given names that GB 2312 lacks (it is in GBK); 青 is in GB 2312.
RARE, COMMON = "堃", "青"
HTML = (
    '<html lang="zh"><body><h1>青岚县城关第一小学</h1>'
    f"<p>校长王{RARE}：总分 86.0 分，等次 较好（第 22–26 名）。</p>"
    "<table><tr><th>领域</th><td>组织建设 ≥ 90%</td></tr></table></body></html>"
)


def test_gb2312_has_its_7445_characters() -> None:
    # GB 2312-80: 7,445 characters, 6,763 hanzi and 682 other symbols (the standard's own count)
    gb = pdf_fonts._gb2312()
    assert len(gb) == 7445
    assert sum(0x4E00 <= c <= 0x9FFF for c in gb) == 6763
    assert {ord(COMMON), ord("，"), ord("①")} <= COMMON_CHARACTERS
    assert ord(RARE) not in COMMON_CHARACTERS


def _source(weight: int) -> hb.Face:
    path, index = pdf_fonts._fontconfig_match(SOURCE_FAMILY, pdf_fonts._WEIGHTS[weight])
    return hb.Face(hb.Blob.from_file_path(path), index)


def test_each_face_keeps_the_common_characters_of_the_full_face_with_their_widths() -> None:
    faces = common_faces()
    assert [f.weight for f in faces] == [400, 700]
    for face in faces:
        full, cut = _source(face.weight), hb.Face(face.data)
        full_map, cut_map = full.unicodes, cut.unicodes
        assert set(cut_map) == set(full_map) & COMMON_CHARACTERS  # nothing lost, nothing else
        assert 8000 < len(cut_map) and cut.glyph_count < full.glyph_count / 3
        full_font, cut_font = hb.Font(full), hb.Font(cut)
        for ch in f"{COMMON}岚县总分等次较好，。（）% 0123456789AZaz≥–":
            assert cut_font.get_nominal_glyph(ord(ch)) is not None
            assert (cut_font.get_glyph_h_advance(cut_font.get_nominal_glyph(ord(ch)))
                    == full_font.get_glyph_h_advance(full_font.get_nominal_glyph(ord(ch)))), ch
        assert cut.upem == full.upem


def _pdf(html: str) -> bytes:
    """``html`` as a PDF made in a new thread (so with that thread's own fonts and stylesheet)."""
    out: list[bytes] = []
    thread = threading.Thread(target=lambda: out.append(render.html_to_pdf_bytes(html, header_left="学校")))
    thread.start()
    thread.join()
    return out[0]


def _fonts(pdf: bytes) -> set[str]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return {str(f.get_object()["/BaseFont"]).split("+", 1)[1] for f in page["/Resources"]["/Font"].values()}


def _pages(pdf: bytes, folder: Path, stem: str) -> list[Image.Image]:
    (folder / f"{stem}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(folder / f"{stem}.pdf"), str(folder / stem)], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(folder.glob(f"{stem}-*.png"))]


def test_pdf_pages_are_the_pages_of_the_full_faces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cut = _pdf(HTML)
    # the cut-down faces for the text, the full face only for the character they lack
    assert _fonts(cut) == {"evalkit-Noto-Sans-CJK-SC", "evalkit-Noto-Sans-CJK-SC-Bold", "Noto-Sans-CJK-SC"}
    text = subprocess.run(["pdftotext", "-", "-"], input=cut, capture_output=True, check=True).stdout.decode()
    assert f"校长王{RARE}" in text and "青岚县城关第一小学" in text

    monkeypatch.setattr(pdf_fonts, "font_face_css", lambda: "")  # as without uharfbuzz: the full faces
    full = _pdf(HTML)
    assert _fonts(full) == {"Noto-Sans-CJK-SC", "Noto-Sans-CJK-SC-Bold"}
    cut_pages, full_pages = _pages(cut, tmp_path, "cut"), _pages(full, tmp_path, "full")
    assert len(cut_pages) == len(full_pages) == 1
    assert ImageChops.difference(cut_pages[0], full_pages[0]).getbbox() is None  # every pixel the same


def test_the_fetcher_serves_the_faces_and_still_refuses_files() -> None:
    fetcher = pdf_fonts.ReportFetcher()
    face = common_faces()[0]
    assert fetcher.fetch(face.url).read() == face.data
    with pytest.raises(ValueError):
        fetcher.fetch("evalkit-font:900")
    with pytest.raises(ValueError, match="disallowed protocol"):
        fetcher.fetch("file:///etc/passwd")
    assert f'font-family: "{PDF_FAMILY}"; font-weight: 700' in pdf_fonts.font_face_css()


def test_only_the_faces_the_family_has_are_matched() -> None:
    # fonts-noto-cjk installs Noto Sans CJK SC Regular (fontconfig weight 80) and Bold (200) only:
    # Black (210) matches the Bold face, which is not cut as a Black one
    assert pdf_fonts._fontconfig_match(SOURCE_FAMILY, 80) is not None
    assert pdf_fonts._fontconfig_match(SOURCE_FAMILY, 210) is None
    assert pdf_fonts._fontconfig_match("No Such Family Anywhere", 80) is None
