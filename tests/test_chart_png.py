"""evalkit.charts.png: the charts' PNG files, unfiltered scanlines, read back by Pillow (an
independent decoder) and by the PDF shortcut's IDAT reader."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

import evalkit
from evalkit import analysis, charts
from evalkit.charts import png
from evalkit.publish.pdf_images import png_idat


def _image(mode: str) -> Image.Image:
    # every byte value in every channel, rows differing (a test of the row stride)
    h, w = 7, 37
    depth = len(mode)
    values = (np.arange(h * w * depth, dtype=np.uint32) * 7 % 256).astype(np.uint8)
    return Image.fromarray(values.reshape(h, w, depth), mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_pillow_reads_back_the_same_pixels_and_resolution(mode) -> None:
    image = _image(mode)
    data = png.encode(image, 200, 3)
    back = Image.open(io.BytesIO(data))
    back.load()
    assert back.mode == mode and back.size == image.size
    assert back.tobytes() == image.tobytes()
    # pHYs: 200 dpi = 7874 pixels per metre (200 / 0.0254 = 7874.0…), read back as 200.0 ± 0.01
    assert back.info["dpi"] == pytest.approx((200, 200), abs=0.01)


def test_every_row_unfiltered_in_one_stream_that_the_pdf_shortcut_takes() -> None:
    image = _image("RGB")
    width, height, colours, idat = png_idat(png.encode(image, 150, 3))
    assert (width, height, colours) == (37, 7, 3)
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + 3 * width)
    assert (rows[:, 0] == 0).all()  # filter type 0 (none) on every row
    assert rows[:, 1:].tobytes() == image.tobytes()
    assert png_idat(png.encode(_image("RGBA"), 150, 3)) is None  # with alpha: not passed through


def test_a_chart_is_smaller_than_pillows_png_of_the_same_pixels() -> None:
    demo = evalkit.load_results(2024)
    data = charts.to_png(charts.points_lost(analysis.points_lost(demo, "017", 2024)), dpi=charts.PRINT_DPI)
    image = Image.open(io.BytesIO(data))
    image.load()
    theirs = io.BytesIO()
    image.save(theirs, format="png", compress_level=3)
    assert image.mode == "RGB" and len(data) < len(theirs.getvalue())
