"""What a data file really is, judged by its first bytes rather than its name.

Offices rename files, export "Unicode text", protect workbooks with passwords and save web pages
as ``.xls``. :func:`sniff` looks at the content (magic numbers, the ZIP or OLE directory) and
returns a :class:`FileKind`; readers then read what they can and, for the rest, :data:`ADVICE`
says in Chinese what the file is and how to re-save it.

======================  ==================================================================
kind                    recognised by
======================  ==================================================================
``xlsx``                a ZIP with ``xl/workbook.xml`` (Excel 2007+, WPS ``.xlsx``/``.xlsm``)
``ods``                 a ZIP whose ``mimetype`` is an OpenDocument spreadsheet
``docx``                a ZIP with ``word/document.xml``
``zip``                 any other ZIP archive
``damaged``             starts like a ZIP but its directory cannot be read (a truncated copy)
``xls``                 an OLE compound file (``D0 CF 11 E0``) with a ``Workbook``/``Book`` stream
``encrypted``           an OLE compound file with an ``EncryptedPackage`` stream: a password-
                        protected ``.xlsx`` (Excel encrypts the whole package, ECMA-376 part 2)
``doc``                 an OLE compound file with a ``WordDocument`` stream
``ole``                 any other OLE compound file
``pdf``                 ``%PDF``
``html``                text starting with ``<html``/``<!DOCTYPE html``/``<table`` (web exports
                        saved as ``.xls``)
``xml2003``             Excel 2003 "XML Spreadsheet" (``urn:schemas-microsoft-com:office:spreadsheet``)
``utf16``               a UTF-16 byte-order mark: Excel's "Unicode 文本" export (tab-separated)
``binary``              over 1 % control bytes in the first 4 KB of something that is none of the above
``text``                anything else: CSV or tab-separated text (UTF-8 or GB18030)
======================  ==================================================================
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal[
    "xlsx", "ods", "docx", "zip", "damaged", "xls", "encrypted", "doc", "ole", "pdf", "html", "xml2003", "utf16",
    "binary", "text",
]

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

NAMES: dict[str, str] = {
    "xlsx": "Excel 工作簿（.xlsx）",
    "ods": "OpenDocument 表格（.ods）",
    "docx": "Word 文档（.docx）",
    "zip": "ZIP 压缩包",
    "damaged": "不完整或已损坏的文件（开头像 .xlsx 工作簿，但无法解压）",
    "xls": "Excel 97-2003 工作簿（.xls）",
    "encrypted": "设有打开密码（已加密）的 Excel 工作簿",
    "doc": "Word 97-2003 文档（.doc）",
    "ole": "Office 97-2003 文件（不是工作簿）",
    "pdf": "PDF 文件",
    "html": "网页（HTML）文件",
    "xml2003": "Excel 2003 XML 表格",
    "utf16": "Excel “Unicode 文本”（UTF-16，制表符分隔）",
    "binary": "二进制文件（不是表格）",
    "text": "文本（CSV）文件",
}

RESAVE = "请在 Excel 或 WPS 中打开，选择“文件 → 另存为 → Excel 工作簿（*.xlsx）”后再读取"
ADVICE: dict[str, str] = {
    "encrypted": "工作簿设有打开密码，evalkit 无法读取加密内容。请在 Excel 中打开（输入密码），"
    "选择“文件 → 信息 → 保护工作簿 → 用密码进行加密”，清空密码并确定，再保存；"
    "WPS 中为“文件 → 文档加密 → 密码加密”，清空打开密码后保存",
    "ods": RESAVE,
    "xml2003": RESAVE,
    "html": "这是从网页或系统导出的网页文件，只是扩展名像表格；" + RESAVE,
    "docx": "请把表格复制到 Excel 工作簿中，另存为 .xlsx 后再读取",
    "doc": "请把表格复制到 Excel 工作簿中，另存为 .xlsx 后再读取",
    "pdf": "PDF 中的表格无法可靠读取，请使用填报模板（evalkit template）或原始 Excel 文件",
    "zip": "请先解压，再读取其中的 .xlsx 或 .csv 文件",
    "damaged": "文件可能没有复制或下载完整：请从原处重新复制，或在 Excel 中打开修复后另存为 .xlsx",
    "ole": RESAVE,
    "binary": "请使用 .xlsx、.xls 或 .csv 文件",
}

SUFFIX_KINDS: dict[str, set[str]] = {
    ".xlsx": {"xlsx"},
    ".xlsm": {"xlsx"},
    ".xls": {"xls"},
    ".csv": {"text", "utf16"},
    ".txt": {"text", "utf16"},
    ".tsv": {"text", "utf16"},
}


@dataclass(frozen=True)
class FileKind:
    """What a file holds: ``kind`` (see the module's table) and its Chinese ``name``."""

    kind: Kind

    @property
    def name(self) -> str:
        return NAMES[self.kind]

    @property
    def readable(self) -> bool:
        return self.kind in ("xlsx", "xls", "utf16", "text")

    def matches(self, suffix: str) -> bool:
        """Whether a file with this content would normally carry ``suffix``."""
        return self.kind in SUFFIX_KINDS.get(suffix.lower(), set())


def sniff(data: bytes) -> FileKind:
    """The kind of file whose bytes are ``data`` (see the module's table)."""
    if data.startswith(ZIP_MAGIC):
        return FileKind(_zip_kind(data))
    if data.startswith(OLE_MAGIC):
        return FileKind(_ole_kind(data))
    if data.startswith(UTF16_BOMS):
        return FileKind("utf16")
    if data.startswith(b"%PDF"):
        return FileKind("pdf")
    head = data[:4096]
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")):
        return FileKind("html")
    if lowered.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return FileKind("xml2003")
    if _control_bytes(head) > max(3, len(head) // 100):
        return FileKind("binary")
    return FileKind("text")


_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 13))


def _control_bytes(head: bytes) -> int:
    """How many control bytes (not tab, LF or CR) ``head`` holds: text has none or a stray one
    (reported at its cell by intake), a binary file has many."""
    return len(head) - len(head.translate(None, _CONTROL))


def _zip_kind(data: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" in names or any(n.lower() == "xl/workbook.xml" for n in names):
                return "xlsx"
            if "mimetype" in names and b"opendocument.spreadsheet" in zf.read("mimetype")[:100]:
                return "ods"
            if "word/document.xml" in names:
                return "docx"
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError):
        return "damaged"
    return "zip"


def _ole_kind(data: bytes) -> Kind:
    """The kind of an OLE compound file by the names of its streams (read with xlrd's parser of
    the compound-file directory)."""
    from xlrd.compdoc import CompDoc

    try:
        names = {d.name for d in CompDoc(data, logfile=io.StringIO()).dirlist}
    except Exception:  # xlrd raises many kinds of error for a damaged directory
        return "ole"
    if "EncryptedPackage" in names:
        return "encrypted"
    if names & {"Workbook", "Book"}:
        return "xls"
    if "WordDocument" in names:
        return "doc"
    return "ole"


def describe_mismatch(path: Path, kind: FileKind) -> str:
    """``扩展名是 .csv，内容却是 Excel 工作簿（.xlsx）``."""
    return f"扩展名是“{path.suffix or '（无）'}”，内容却是{kind.name}"
