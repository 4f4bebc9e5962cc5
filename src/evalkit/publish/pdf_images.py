"""The report's PNG charts handed to WeasyPrint without decoding and re-encoding them.

WeasyPrint (≤ 70 at least) turns every PNG into a PDF image by decoding it with Pillow and
encoding it again as PNG, only to keep the ``IDAT`` chunks (PDF's ``FlateDecode`` with a PNG
predictor reads exactly that data). For an 8-bit, non-interlaced RGB (or grey) PNG — what
:func:`evalkit.charts.figures.to_png` writes for an opaque chart — the file's own ``IDAT`` data
already is that stream, so the pixels in the PDF are the same bytes, decoded by the viewer to
the same image, and the decode/encode round trip (about a tenth of a school report's PDF time)
is skipped.

How: :func:`prepare` replaces each ``<img src="data:image/png;base64,…">`` by a short ``data:``
URL and returns WeasyPrint's image cache (its documented ``cache`` option of ``write_pdf``)
filled with one image object per distinct PNG under that short URL, so WeasyPrint neither parses
the long base64 text nor loads the PNG itself. An image that is not such a PNG (RGBA, palette,
16-bit, interlaced, with an EXIF orientation, not a PNG at all) is left in the HTML as it was,
for WeasyPrint to handle as before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from io import BytesIO
from typing import Any

__all__ = ["png_idat", "prepare"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DATA_PNG = re.compile(r'(<img\b[^>]*?\bsrc=")data:image/png;base64,([A-Za-z0-9+/=]+)(")')
_COLOURS = {0: 1, 2: 3}  # PNG colour type → components (grey, RGB); others are not passed through


def png_idat(data: bytes) -> tuple[int, int, int, bytes] | None:
    """(width, height, colours, concatenated ``IDAT`` data) of an 8-bit, non-interlaced grey or
    RGB PNG without transparency (``tRNS``); ``None`` for any other file.

    The ``IDAT`` data is the zlib stream of the filtered scanlines, which a PDF image with
    ``/FlateDecode`` and ``/DecodeParms << /Predictor 15 /Colors c /Columns width >>`` reads
    as it is (PDF 32000-1, 7.4.4.4)."""
    if not data.startswith(_PNG_SIGNATURE):
        return None
    pos, chunks, header = len(_PNG_SIGNATURE), [], None
    try:
        while pos + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[pos : pos + 8])
            body = data[pos + 8 : pos + 8 + length]
            if len(body) != length:
                return None
            if kind == b"IHDR":
                header = struct.unpack(">IIBBBBB", body)
            elif kind == b"IDAT":
                chunks.append(body)
            elif kind in (b"tRNS", b"PLTE", b"eXIf"):  # transparency, palette, orientation
                return None
            elif kind == b"IEND":
                break
            pos += 12 + length
    except struct.error:
        return None
    if header is None or not chunks:
        return None
    width, height, depth, colour_type, compression, filtering, interlace = header
    if depth != 8 or colour_type not in _COLOURS or (compression, filtering, interlace) != (0, 0, 0):
        return None
    return width, height, _COLOURS[colour_type], b"".join(chunks)


_EXPECTED = ["self", "pillow_image", "image_id", "image_data", "filename", "cache", "orientation", "options"]


def _passthrough_class() -> type | None:
    """WeasyPrint's ``RasterImage`` whose PDF image is the PNG's own ``IDAT`` data; ``None`` for a
    WeasyPrint whose ``RasterImage`` is not the one this was written for (70.0), which then
    loads every image itself as before."""
    import inspect

    import pydyf
    from weasyprint.images import RasterImage

    if (list(inspect.signature(RasterImage.__init__).parameters) != _EXPECTED
            or not callable(getattr(RasterImage, "cache_image_data", None))):
        return None

    class PassThroughPNG(RasterImage):  # type: ignore[misc]
        idat: tuple[int, int, int, bytes]

        def get_x_object(self, interpolate: bool, dpi_ratio: float) -> Any:
            if dpi_ratio != 1:  # WeasyPrint's ``dpi`` option asked for a smaller copy
                return super().get_x_object(interpolate, dpi_ratio)
            width, height, colours, idat = self.idat
            decode = {"Predictor": 15, "Columns": width}
            if colours == 3:
                decode["Colors"] = 3
            extra = pydyf.Dictionary({
                "Type": "/XObject",
                "Subtype": "/Image",
                "Width": width,
                "Height": height,
                "ColorSpace": "/DeviceRGB" if colours == 3 else "/DeviceGray",
                "BitsPerComponent": 8,
                "Interpolate": "true" if interpolate else "false",
                "Filter": "/FlateDecode",
                "DecodeParms": pydyf.Dictionary(decode),
            })
            return pydyf.Stream([self.cache_image_data(idat, slot="stream")], extra)

    return PassThroughPNG


_CLASS: list[type | None] = []


def _image(data: bytes, key: str, cache: dict[str, Any], options: dict[str, Any]) -> Any | None:
    idat = png_idat(data)
    if idat is None:
        return None
    from PIL import Image

    if not _CLASS:
        _CLASS.append(_passthrough_class())
    if _CLASS[0] is None:
        return None
    pillow_image = Image.open(BytesIO(data))  # reads the header only
    if pillow_image.mode not in ("RGB", "L") or pillow_image.size != idat[:2]:
        return None
    image_id = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    image = _CLASS[0](pillow_image, image_id, data, None, cache, "none", options)
    image.idat = idat
    return image


def prepare(html: str) -> tuple[str, dict[str, Any]]:
    """(``html`` with its eligible PNG ``data:`` URLs shortened, the WeasyPrint image cache for
    ``write_pdf(cache=…)`` holding those images). Equal PNGs share one entry (and one PDF image),
    as WeasyPrint's own cache by URL does."""
    from weasyprint import DEFAULT_OPTIONS

    options = dict(DEFAULT_OPTIONS)
    cache: dict[str, Any] = {}
    urls: dict[str, str] = {}

    def shorten(match: re.Match[str]) -> str:
        payload = match.group(2)
        url = urls.get(payload)
        if url is None:
            url = f"data:image/png;evalkit-image={len(urls)};base64,"
            try:
                image = _image(base64.b64decode(payload, validate=True), url, cache, options)
            except (binascii.Error, ValueError, OSError):
                image = None
            if image is None:
                return match.group(0)
            urls[payload] = url
            cache[url] = image
        return match.group(1) + url + match.group(3)

    return _DATA_PNG.sub(shorten, html), cache
