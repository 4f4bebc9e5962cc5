"""Reading CSV and XLSX files into grids of cell values that remember where each cell was.

A :class:`Sheet` holds the raw cell values (as the file has them: text from CSV; text, numbers,
booleans or dates from XLSX), the number formats of numeric XLSX cells, and the merged ranges,
so callers can report every problem by file, sheet and Excel cell (``D12``). Input files are opened
read-only and never modified.

What a file is comes from its content (:mod:`evalkit.io.filekinds`), not its name: ``.xlsx`` and
``.xls`` workbooks are read by :mod:`evalkit.io.workbooks` (bounded cost, real data range); text is
read as UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode 文本" export) or, failing
those, GB18030 with a warning; its separator is a tab when the first line has more tabs than
commas, else a comma. A file whose name and content disagree (an ``.xls`` renamed ``.xlsx``, a
workbook renamed ``.csv``) is read by its content with a warning saying what it is; a file that
cannot be read (missing, a folder, empty, encrypted, a web page, PDF, Word, ODS, a workbook over
:data:`MAX_WORKBOOK_BYTES`, a text file over :data:`MAX_TEXT_BYTES` or :data:`MAX_TEXT_FIELDS`) is
one error saying what it is and how to re-save it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import UnreadableFileError
from evalkit.io.filekinds import ADVICE, RESAVE, describe_mismatch, sniff
from evalkit.io.workbooks import UncomputedFormula as UncomputedFormula  # re-exported for intake
from evalkit.io.workbooks import read_xls, read_xlsx
from evalkit.issues import Issue

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
XLS_SUFFIXES = {".xls"}
MAX_TEXT_BYTES = 100 * 1024 * 1024
MAX_TEXT_FIELDS = 5_000_000
MAX_WORKBOOK_BYTES = 200 * 1024 * 1024


@dataclass
class Sheet:
    """One sheet (or a whole CSV file): ``rows[i][j]`` is the cell at Excel row ``i + 1``,
    column ``j + 1``; ``None`` for an empty cell. A row is as long as its last value (an empty
    row of a workbook may be the shared empty tuple): use :meth:`value` for any cell."""

    file: str
    name: str
    rows: list[list[Any] | tuple[()]]
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    _filled: dict[int, frozenset[int]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, row: int, col: int) -> Any:
        """The value at a 1-based row and column (``None`` outside the data)."""
        if 1 <= row <= len(self.rows):
            cells = self.rows[row - 1]
            if 1 <= col <= len(cells):
                return cells[col - 1]
        return None

    def filled_columns(self, after_row: int) -> frozenset[int]:
        """The 1-based columns with a non-blank value below ``after_row``, found in one pass over
        the stored cells (asking column by column would cost columns × rows: 16,384 × 1,048,576
        for one stray cell in Excel's last cell)."""
        if after_row not in self._filled:
            self._filled[after_row] = frozenset(
                c for row in self.rows[after_row:] for c, v in enumerate(row, start=1) if not is_blank(v)
            )
        return self._filled[after_row]

    def number_format(self, row: int, col: int) -> str:
        """The number format of a numeric XLSX cell (``"General"`` if none was set)."""
        return self.formats.get((row, col), "General")


def is_blank(value: Any) -> bool:
    """True for ``None`` and for text that is empty or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def nfkc(text: str) -> str:
    """Full-width digits, letters and punctuation to their plain forms (``"８５％"`` → ``"85%"``)."""
    return unicodedata.normalize("NFKC", text)


def cell_text(value: Any) -> str:
    """A cell as plain text for ids and labels: NFKC, no surrounding spaces; whole numbers
    without ``.0`` (``3.0`` → ``"3"``); ``""`` for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return nfkc(str(value)).strip()


_SPACES = re.compile(r"[\s_]+")


def header_key(value: Any) -> str:
    """A header cell for matching aliases: NFKC, lower case, no spaces or underscores
    (``" School_ID "`` → ``"schoolid"``, ``"学校编号 "`` → ``"学校编号"``)."""
    return _SPACES.sub("", cell_text(value)).lower()


def find_header_row(sheet: Sheet, wanted: set[str], max_rows: int = 10) -> int | None:
    """The first row (1-based, among the first ``max_rows``) with a cell whose
    :func:`header_key` is in ``wanted``."""
    for r in range(1, min(sheet.n_rows, max_rows) + 1):
        if any(header_key(v) in wanted for v in sheet.rows[r - 1]):
            return r
    return None


def read_sheets(path: str | Path) -> tuple[list[Sheet], list[Issue]]:
    """All sheets of a workbook, or the one table of a text file, plus file-level problems
    (missing, a folder, empty, unsupported or mislabelled type, unreadable, not UTF-8)."""
    path = Path(path)
    file = str(path)
    try:
        data = _file_bytes(path)
        return _read_content(path, data)
    except UnreadableFileError as err:
        return [], [Issue("unreadable_file", "error", err.reason, file=file)]


def _file_bytes(path: Path) -> bytes:
    file = str(path)
    if path.is_dir():
        raise UnreadableFileError(file, "这是一个文件夹，不是文件；请给出其中的 .xlsx、.xls 或 .csv 文件 / a folder")
    if not path.exists():
        raise UnreadableFileError(file, "找不到文件 / file not found")
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        limit = MAX_WORKBOOK_BYTES if suffix in XLSX_SUFFIXES | XLS_SUFFIXES else MAX_TEXT_BYTES
        if size > limit:
            raise UnreadableFileError(
                file, f"文件有 {size / 2**20:,.0f} MB，超过上限 {limit / 2**20:.0f} MB / file too large"
            )
        data = path.read_bytes()
    except PermissionError as err:
        raise UnreadableFileError(file, "没有读取这个文件的权限 / permission denied") from err
    except OSError as err:
        raise UnreadableFileError(file, f"无法读取文件：{err.strerror or err} / cannot read") from err
    if not data.strip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00"):
        raise UnreadableFileError(file, "文件是空的，没有任何内容 / empty file")
    return data


def _read_content(path: Path, data: bytes) -> tuple[list[Sheet], list[Issue]]:
    """Read ``data`` by what it is; a name that disagrees with the content gives a warning."""
    file = str(path)
    kind = sniff(data)
    suffix = path.suffix.lower()
    known = suffix in CSV_SUFFIXES | XLSX_SUFFIXES | XLS_SUFFIXES
    if not kind.readable:
        advice = ADVICE.get(kind.kind, RESAVE)
        raise UnreadableFileError(file, f"这是{kind.name}，不是可读取的表格。{advice} / not a readable table")
    if not known and kind.kind not in ("xlsx", "xls"):
        raise UnreadableFileError(
            file,
            f"不支持的文件类型“{path.suffix or '（无扩展名）'}”，请使用 .xlsx、.xls 或 .csv / unsupported file type",
        )
    issues: list[Issue] = []
    if not kind.matches(suffix):
        issues.append(
            Issue(
                "file_type",
                "warning",
                f"{describe_mismatch(path, kind)}，已按{kind.name}读取；请改正扩展名 / wrong extension",
                file=file,
                expected=kind.name,
            )
        )
    if kind.kind in ("xlsx", "xls"):
        reader = read_xlsx if kind.kind == "xlsx" else read_xls
        try:
            parts = reader(file, data)
        except UnreadableFileError:
            raise
        except Exception as err:  # openpyxl/xlrd raise many types for damaged files
            raise UnreadableFileError(
                file, f"无法作为{kind.name}打开（{_first_line(err)}）；{RESAVE} / damaged workbook"
            ) from err
        sheets = [Sheet(file=file, name=n, rows=rows, formats=fmts, merged=merged) for n, rows, fmts, merged in parts]
        return sheets, issues
    sheet, text_issues = _read_text(file, data, utf16=kind.kind == "utf16")
    return [sheet], issues + text_issues


def _first_line(err: BaseException) -> str:
    """The type and the first line of an error from a reader library, for a message."""
    cause = err.__cause__ or err.__context__
    if cause is not None and type(cause).__module__.startswith(("defusedxml", "xml")):
        err = cause  # openpyxl re-raises XML problems with a long generic text
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0][:160]}"


def _read_text(file: str, data: bytes, utf16: bool = False) -> tuple[Sheet, list[Issue]]:
    """A CSV or tab-separated text file as one sheet named ``""``."""
    issues: list[Issue] = []
    if utf16:
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise UnreadableFileError(file, "UTF-16 文本有损坏的字符，无法读取 / damaged UTF-16 text") from err
        text = text.removeprefix("\ufeff")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError as err:
                raise UnreadableFileError(file, "文件不是 UTF-8 编码的文本，无法读取 / not UTF-8 text") from err
            issues.append(
                Issue(
                    "encoding",
                    "warning",
                    "文件不是 UTF-8 编码，已按 GB18030（GBK）读取；请另存为“CSV UTF-8”格式 / read as GB18030",
                    file=file,
                )
            )
    first = next((line for line in text[:1 << 20].splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    fields = text.count(delimiter) + text.count("\n") + 1  # at least as many as the file has
    if fields > MAX_TEXT_FIELDS:
        raise UnreadableFileError(
            file,
            f"文件约有 {fields:,} 个字段，超过上限 {MAX_TEXT_FIELDS:,}（可能是损坏或恶意构造的文件）/ too many fields",
        )
    # the csv module refuses fields over 128 KB by default; the file's size bounds them here
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    rows = _csv_rows(file, text, delimiter)
    return Sheet(file=file, name="", rows=rows), issues


def _csv_rows(file: str, text: str, delimiter: str) -> list[list[Any] | tuple[()]]:
    """The rows of CSV text (``""`` → ``None``). A quote opened and never closed would swallow
    the rest of the file into one cell: that is an error naming the line where the quote opens.
    Other irregular quoting (``"好"的``) is read leniently, as Excel does."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[Any] | tuple[()]] = []
    line = 0
    try:
        for row in reader:
            rows.append([c if c != "" else None for c in row])
            line = reader.line_num
    except csv.Error as err:
        if "unexpected end of data" in str(err):
            raise UnreadableFileError(
                file,
                f"第 {line + 1} 行有一个引号（\"）没有配对，其后的内容都会被读进同一个单元格；"
                "请删除或补齐这个引号后再读取 / unclosed quote",
            ) from err
        lenient = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [[c if c != "" else None for c in row] for row in lenient]
    return rows
