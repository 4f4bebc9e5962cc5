"""The report fonts cut down to common characters once per process, so that each PDF subsets a small face.

WeasyPrint embeds in every PDF a subset of each font face the document uses, made by HarfBuzz.
Its cost is set by the size of the face, not of the document: Noto Sans CJK SC has 65,535 glyphs
in a 20 MB collection, and each PDF spent about 0.1 s of CPU on its two faces (regular and bold)
even for one line of text (``docs/benchmarks.md``).

So each process makes, once, with HarfBuzz (:mod:`uharfbuzz`), a subset of each of those two faces
holding :data:`COMMON_CHARACTERS` — every character of GB 2312 (the 6,763 hanzi of Simplified
Chinese and its symbols) and the ASCII, Latin-1, punctuation, letter-like, number-form, arrow,
mathematical, enclosed-numeral, box, shape and full-width blocks — with every OpenType layout
feature, script and name kept (14,675 glyphs, 3.6 MB, about 0.1 s per face). The faces are the files
fontconfig matches for the family, exactly as Pango would pick them for the report.

WeasyPrint reads them through its documented extension points: :func:`font_face_css` gives
``@font-face`` rules for the family :data:`PDF_FAMILY` whose ``src`` is a URL of the
``evalkit-font:`` scheme, which :class:`ReportFetcher` (a :class:`weasyprint.urls.URLFetcher`)
serves from memory; every other URL it fetches as its parent does, which for reports means only
``data:`` URLs. ``pdf.css`` names :data:`PDF_FAMILY` first and ``Noto Sans CJK SC`` second, so a
character outside the subset (a rare character in a school's name) is drawn from the full face by
Pango's font fallback: the same glyph as before, that PDF simply embeds one face more.

When the faces cannot be made (no ``uharfbuzz``, no fontconfig, the font not installed),
:func:`font_face_css` is empty and the PDFs embed subsets of the full faces, as before: slower,
the same pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from dataclasses import dataclass
from typing import Any

from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = [
    "COMMON_CHARACTERS",
    "PDF_FAMILY",
    "SOURCE_FAMILY",
    "ReportFetcher",
    "common_faces",
    "font_face_css",
]

SOURCE_FAMILY = "Noto Sans CJK SC"
"""The family of the reports' text (``report.css``) whose faces are cut down."""

PDF_FAMILY = "evalkit Noto Sans CJK SC"
"""The family name the cut-down faces get in the PDF's stylesheet (``pdf.css`` names it first)."""

_SCHEME = "evalkit-font:"
_WEIGHTS = {400: 80, 700: 200}
"""CSS ``font-weight`` of each face made → fontconfig's weight (``FC_WEIGHT_REGULAR``, ``FC_WEIGHT_BOLD``).
The report stylesheets use no other weight."""

_BLOCKS = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x017F),  # Latin-1 supplement, Latin extended-A
    (0x2000, 0x206F),  # general punctuation (— … ‰ ※)
    (0x2100, 0x21FF),  # letter-like symbols (℃ №), number forms (Ⅰ Ⅻ), arrows
    (0x2200, 0x22FF),  # mathematical operators (≤ ≥ ± ×)
    (0x2460, 0x24FF),  # enclosed alphanumerics (① ⑳)
    (0x2500, 0x27BF),  # box drawing, blocks, geometric shapes, miscellaneous symbols, dingbats (■ ● ★ ✓)
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。〔〕【】)
    (0xFF00, 0xFFEF),  # half- and full-width forms (，：（）％)
)


def _gb2312() -> set[int]:
    """Every character of GB 2312: rows 0xA1–0xF7, cells 0xA1–0xFE of its EUC-CN encoding."""
    chars = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:  # an unassigned code point
                continue
    return chars


COMMON_CHARACTERS: frozenset[int] = frozenset(
    _gb2312().union(*(range(first, last + 1) for first, last in _BLOCKS))
)
"""The code points each cut-down face keeps (9,216; Noto Sans CJK SC has 8,235 of them)."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Face:
    """One cut-down face: its CSS weight, the URL the stylesheet names and the font file's bytes."""

    weight: int
    url: str
    data: bytes


@functools.cache
def _fontconfig() -> Any:
    """libfontconfig with the signatures of the functions :func:`_fontconfig_match` calls, or
    ``None`` when it is not installed."""
    library = ctypes.util.find_library("fontconfig")
    if library is None:
        return None
    fc = ctypes.CDLL(library)
    fc.FcNameParse.restype = ctypes.c_void_p
    fc.FcNameParse.argtypes = [ctypes.c_char_p]
    fc.FcConfigSubstitute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    fc.FcDefaultSubstitute.argtypes = [ctypes.c_void_p]
    fc.FcFontMatch.restype = ctypes.c_void_p
    fc.FcFontMatch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    fc.FcPatternGetString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                      ctypes.POINTER(ctypes.c_char_p)]
    fc.FcPatternGetInteger.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_int)]
    fc.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    return fc


def _fontconfig_match(family: str, weight: int) -> tuple[str, int] | None:
    """(file, face index in the file) of the font fontconfig matches for ``family`` at fontconfig
    ``weight``, or ``None`` when the match is another family (the font is not installed) or
    another weight (the family has no such face)."""
    fc = _fontconfig()
    if fc is None:
        return None
    pattern = fc.FcNameParse(f"{family}:weight={weight}".encode())
    if not pattern:
        return None
    match = None
    try:
        fc.FcConfigSubstitute(None, pattern, 0)  # FcMatchPattern
        fc.FcDefaultSubstitute(pattern)
        match = fc.FcFontMatch(None, pattern, ctypes.byref(ctypes.c_int()))
        if not match:
            return None
        families, value, i = [], ctypes.c_char_p(), 0
        while fc.FcPatternGetString(match, b"family", i, ctypes.byref(value)) == 0:  # FcResultMatch
            families.append(value.value.decode("utf-8", "replace") if value.value else "")
            i += 1
        index, matched_weight = ctypes.c_int(0), ctypes.c_int(-1)
        fc.FcPatternGetInteger(match, b"weight", 0, ctypes.byref(matched_weight))
        if family not in families or matched_weight.value != weight:  # not installed, or no such weight
            return None  # (Pango would then embolden the regular face: left to it, as before)
        if fc.FcPatternGetString(match, b"file", 0, ctypes.byref(value)) != 0:
            return None
        fc.FcPatternGetInteger(match, b"index", 0, ctypes.byref(index))
        return (value.value or b"").decode("utf-8", "surrogateescape"), index.value
    finally:
        fc.FcPatternDestroy(pattern)
        if match:
            fc.FcPatternDestroy(match)


def _cut(path: str, index: int) -> bytes:
    """Face ``index`` of the font file ``path`` reduced to :data:`COMMON_CHARACTERS` (and the glyphs
    their layout features reach), every layout feature, script and name kept, glyph ids renumbered."""
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(path), index)
    request = hb.SubsetInput()
    for kept in (request.layout_feature_tag_set, request.layout_script_tag_set, request.name_id_set,
                 request.name_lang_id_set):
        kept.clear()
        kept.invert()  # all of them
    request.unicode_set.update(COMMON_CHARACTERS)
    request.flags = hb.SubsetFlags.NOTDEF_OUTLINE | hb.SubsetFlags.NAME_LEGACY | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
    return bytes(hb.subset(face, request).blob.data)


@functools.cache
def common_faces() -> tuple[Face, ...]:
    """The cut-down regular and bold faces of :data:`SOURCE_FAMILY`, made on the first call in this
    process (a weight the family has no face of is left out); ``()`` when they cannot be made
    (logged once, in Chinese and English)."""
    try:
        faces = []
        for weight, fc_weight in _WEIGHTS.items():
            source = _fontconfig_match(SOURCE_FAMILY, fc_weight)
            if source is not None:  # a weight without its own face keeps the full family's
                faces.append(Face(weight, f"{_SCHEME}{weight}", _cut(*source)))
        return tuple(faces)
    except Exception as err:  # ImportError, OSError, a HarfBuzz failure: the full faces do the work
        _log.warning("PDF 字体子集未能生成，将嵌入完整字体（较慢，版面相同）/ "
                     "no common-character font subsets, PDFs use the full faces: %s", err)
        return ()


def font_face_css() -> str:
    """``@font-face`` rules declaring :func:`common_faces` as :data:`PDF_FAMILY` (empty without them)."""
    return "".join(
        f'@font-face {{ font-family: "{PDF_FAMILY}"; font-weight: {face.weight}; src: url("{face.url}"); }}\n'
        for face in common_faces()
    )


class ReportFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's URL fetcher for reports: ``evalkit-font:`` URLs from :func:`common_faces`,
    everything else as :class:`weasyprint.urls.URLFetcher` with ``allowed_protocols={"data"}``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allowed_protocols={"data"}, **kwargs)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith(_SCHEME):
            for face in common_faces():
                if face.url == url:
                    return URLFetcherResponse(url, body=face.data, headers={"Content-Type": "font/otf"})
            raise ValueError(f"unknown font: {url}")
        return super().fetch(url, headers)
