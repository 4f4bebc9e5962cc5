"""PNG charts passed into the PDF without a decode/encode round trip (evalkit.publish.pdf_images),
read back from real PDFs with pypdf."""

from __future__ import annotations

import base64
import gc
import io
import struct
import zlib

from PIL import Image
from pypdf import PdfReader
from pypdf.generic import StreamObject

from evalkit.publish.pdf_images import png_idat, prepare
from evalkit.publish.render import html_to_pdf_bytes

# Two pixels, red then blue, as one scanline with PNG filter type 0 ("None"): the filter byte,
# then R G B of each pixel (PNG specification, 9.2 and 11.2.2).
SCANLINE = b"\x00" + bytes([255, 0, 0]) + bytes([0, 0, 255])
ZDATA = zlib.compress(SCANLINE)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(colour_type: int = 2, interlace: int = 0, depth: int = 8, extra: bytes = b"") -> bytes:
    """A 2×1 PNG written by hand, its zlib data split over two IDAT chunks."""
    header = struct.pack(">IIBBBBB", 2, 1, depth, colour_type, 0, 0, interlace)
    half = len(ZDATA) // 2
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra
            + _chunk(b"IDAT", ZDATA[:half]) + _chunk(b"IDAT", ZDATA[half:]) + _chunk(b"IEND", b""))


def _html(png: bytes) -> str:
    src = base64.b64encode(png).decode()
    return f'<html><body><p>图表</p><img src="data:image/png;base64,{src}" alt="图表"></body></html>'


def test_the_hand_made_png_is_what_pillow_reads() -> None:
    image = Image.open(io.BytesIO(_png()))
    assert image.mode == "RGB" and image.tobytes() == SCANLINE[1:]


def test_png_idat_is_the_concatenated_idat_of_an_8_bit_rgb_png() -> None:
    assert png_idat(_png()) == (2, 1, 3, ZDATA)


def test_png_idat_refuses_what_a_pdf_cannot_read_as_it_is() -> None:
    assert png_idat(_png(colour_type=6)) is None  # RGBA: the alpha must become a soft mask
    assert png_idat(_png(colour_type=3, extra=_chunk(b"PLTE", bytes(6)))) is None  # palette
    assert png_idat(_png(interlace=1)) is None  # Adam7 rows are not PDF scanlines
    assert png_idat(_png(depth=16)) is None
    assert png_idat(_png(extra=_chunk(b"tRNS", bytes(6)))) is None  # a transparent colour
    assert png_idat(b"\xff\xd8\xff\xe0 a JPEG") is None
    assert png_idat(_png()[:40]) is None  # cut short


def test_prepare_shortens_the_url_once_per_distinct_png() -> None:
    png = _png()
    html = _html(png) + _html(png)
    short, cache = prepare(html)
    assert base64.b64encode(png).decode() not in short
    urls = [u for u in cache if u.startswith("data:")]
    assert len(urls) == 1 and short.count(f'src="{urls[0]}"') == 2


def test_an_rgba_png_is_left_to_weasyprint() -> None:
    html = _html(_png(colour_type=6))
    assert prepare(html) == (html, {})


def _only_image(pdf: bytes) -> tuple[object, Image.Image]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    xobjects = page["/Resources"]["/XObject"]
    (name,) = list(xobjects)
    return xobjects[name].get_object(), page.images[0].image


def test_the_pdf_image_is_the_png_idat_byte_for_byte_and_shows_the_same_pixels() -> None:
    stream, image = _only_image(html_to_pdf_bytes(_html(_png()), header_left="测试"))
    assert isinstance(stream, StreamObject)
    assert stream._data == ZDATA  # the PNG's own compressed data, not re-encoded
    assert stream["/Filter"] == "/FlateDecode" and stream["/DecodeParms"]["/Predictor"] == 15
    assert stream["/DecodeParms"]["/Colors"] == 3 and stream["/DecodeParms"]["/Columns"] == 2
    assert "/SMask" not in stream
    assert image.convert("RGB").tobytes() == SCANLINE[1:]  # red, blue


def test_an_rgba_png_still_reaches_the_pdf_with_its_alpha_as_a_soft_mask() -> None:
    rgba = io.BytesIO()
    Image.frombytes("RGBA", (2, 1), bytes([255, 0, 0, 255, 0, 0, 255, 128])).save(rgba, format="png")
    stream, image = _only_image(html_to_pdf_bytes(_html(rgba.getvalue()), header_left="测试"))
    assert "/SMask" in stream
    assert image.convert("RGBA").tobytes() == bytes([255, 0, 0, 255, 0, 0, 255, 128])


def test_the_garbage_collector_is_left_as_it_was() -> None:
    html = "<p>正文</p>"
    assert gc.isenabled()
    html_to_pdf_bytes(html, header_left="测试")
    assert gc.isenabled()
    gc.disable()
    try:
        html_to_pdf_bytes(html, header_left="测试")
        assert not gc.isenabled()
    finally:
        gc.enable()
