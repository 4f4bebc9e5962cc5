"""Builders of hostile and office-made data files for tests/hostile/test_files.py and test_crashes.py.

Each builder writes one file and returns its path. Bombs are built honestly (their content really
inflates as claimed) but cheaply: a deflate block of 1 MB of spaces, cut after a full flush,
repeats byte for byte, so a 1 GB member costs one compression of 1 MB and a CRC.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

from openpyxl import Workbook, load_workbook

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "evalkit" / "demo" / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "files"
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# --------------------------------------------------------------------------- running evalkit


_MEASURER = r"""
import json, os, signal, sys, time, traceback
import pandas, openpyxl  # noqa: F401  what validate and score import anyway, imported once here
import evalkit.cli.app, evalkit.cli.validate, evalkit.intake  # noqa: F401
from evalkit.cli import main

def own_peak_kb():
    # this process's peak since it started (VmHWM: the high-water mark of its own memory map);
    # not getrusage(RUSAGE_SELF).ru_maxrss, which keeps the parent's peak across fork and exec
    with open("/proc/self/status") as status:
        return int(next(x for x in status if x.startswith("VmHWM:")).split()[1])

for line in sys.stdin:
    req = json.loads(line)
    t = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the command, as the ``evalkit`` script runs it, its output in two files
        code = 1
        try:
            with open("/proc/self/status") as status, open(req["start"], "w") as start:
                start.write(next(x for x in status if x.startswith("VmRSS:")).split()[1])  # kB at the fork
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            for fd, path in ((1, req["out"]), (2, req["err"])):
                os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
            sys.argv = ["evalkit", *req["args"]]
            code = main(req["args"])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code or 0)
    deadline, killed = t + req["timeout"], False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            killed = True
            break
        time.sleep(0.005)
    seconds = time.monotonic() - t
    read = lambda p: open(p, "rb").read().decode("utf-8", "replace")
    # a fresh process's peak: its imports' peak (this process's own) plus what the command added
    grown = usage.ru_maxrss - int(read(req["start"]) or usage.ru_maxrss)
    rss = own_peak_kb() + max(grown, 0)
    print(json.dumps({"rc": None if killed else os.waitstatus_to_exitcode(status),
                      "rss_mb": rss / 1024, "seconds": seconds,
                      "out": read(req["out"]), "err": read(req["err"])}), flush=True)
"""


class _Measurer:
    """One child process that imports evalkit once and runs each command in a fork of itself,
    reporting the fork's exit code, output and wall time, and the peak resident memory a fresh
    process would have had: this process's own peak (evalkit's imports; ``VmHWM``, not
    ``getrusage``'s ``ru_maxrss``, which Linux carries over from the parent that started this
    process — a pytest worker grown past 500 MB made every file here read too big) plus what the fork added
    to its resident memory after the fork (``wait4``'s ``ru_maxrss`` less the fork's ``VmRSS`` at
    its start). The fork's bare ``ru_maxrss`` reads ~40 MB below a fresh process's, as a fork does
    not count the shared libraries' pages it has not touched."""

    def __init__(self) -> None:
        import tempfile

        self.folder = Path(tempfile.mkdtemp(prefix="evalkit-measurer-"))
        self.proc = subprocess.Popen([sys.executable, "-c", _MEASURER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self.count = 0

    def run(self, args: tuple[str, ...], timeout: float) -> dict:
        import json

        self.count += 1
        request = {"args": list(args), "timeout": timeout, **{
            name: str(self.folder / f"{self.count}.{name}") for name in ("out", "err", "start")}}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the measuring process ended (exit code {self.proc.poll()})"
        return json.loads(line)

    def close(self) -> None:
        import shutil

        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


_measurer: _Measurer | None = None


def run_evalkit(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> dict:
    """``evalkit ARGS`` measured apart from the tests: its exit code (``None`` when it was killed
    after ``timeout`` seconds), stdout, stderr, wall time and the peak resident memory (MB) of the
    process that ran it. Every call runs in a fork of ONE measuring child process (started at the
    first call, evalkit imported there once; see :class:`_Measurer`); with ``cwd`` or ``env`` in a
    fresh process of its own (:func:`run_evalkit_fresh`)."""
    global _measurer
    if cwd is not None or env is not None:
        return run_evalkit_fresh(*args, cwd=cwd, env=env, timeout=timeout)
    if _measurer is None or _measurer.proc.poll() is not None:
        import atexit

        _measurer = _Measurer()
        atexit.register(_measurer.close)
    return _measurer.run(args, timeout)


def run_evalkit_fresh(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> dict:
    """``evalkit ARGS`` in a fresh process; returns its exit code (``None`` when it was killed
    after ``timeout`` seconds), stdout, stderr, wall time and the peak resident memory (MB) of that
    process, measured with ``getrusage(RUSAGE_CHILDREN)`` in a wrapper process that runs nothing else."""
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    p = subprocess.run(sys.argv[2:], capture_output=True, timeout=float(sys.argv[1]))\n"
        "except subprocess.TimeoutExpired as e:\n"
        "    p = subprocess.CompletedProcess(e.cmd, None, e.stdout or b'', e.stderr or b'')\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "sys.stdout.buffer.write(json.dumps({'rc': p.returncode, 'rss_mb': rss, 'seconds': time.monotonic() - t,"
        " 'out': p.stdout.decode('utf-8', 'replace'), 'err': p.stderr.decode('utf-8', 'replace')}).encode())\n"
    )
    evalkit = str(Path(sys.executable).with_name("evalkit"))
    import json

    proc = subprocess.run([sys.executable, "-c", code, str(timeout), evalkit, *args], capture_output=True, cwd=cwd,
                          env=env, timeout=timeout + 30, check=True)
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------- office formats


def xlsx_to_xls(src: Path, dst: Path) -> Path:
    """An Excel 97-2003 copy of an .xlsx (values, number formats, merged ranges), as Excel's
    "Save as Excel 97-2003" would make it."""
    import xlwt

    wb = load_workbook(src)
    book = xlwt.Workbook(encoding="utf-8")
    styles: dict[str, object] = {}
    for ws in wb.worksheets:
        sheet = book.add_sheet(ws.title, cell_overwrite_ok=True)
        merged = list(ws.merged_cells.ranges)
        covered = {(r, c) for m in merged for r in range(m.min_row, m.max_row + 1)
                   for c in range(m.min_col, m.max_col + 1) if (r, c) != (m.min_row, m.min_col)}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or (cell.row, cell.column) in covered:
                    continue
                value = cell.value
                fmt = cell.number_format if cell.number_format else "General"
                if isinstance(value, dt.datetime | dt.date):
                    fmt = "yyyy-mm-dd"
                style = styles.setdefault(fmt, xlwt.easyxf(num_format_str=fmt))
                sheet.write(cell.row - 1, cell.column - 1, value, style)
        for m in merged:
            top = ws.cell(m.min_row, m.min_col).value
            sheet.write_merge(m.min_row - 1, m.max_row - 1, m.min_col - 1, m.max_col - 1, top)
    book.save(str(dst))
    return dst


def unicode_text_export(src_csv: Path, dst: Path) -> Path:
    """Excel's "Unicode 文本 (*.txt)" export of a table: UTF-16 LE with BOM, tab-separated, CRLF."""
    with src_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    text = "\r\n".join("\t".join(row) for row in rows) + "\r\n"
    dst.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    return dst


def long_workbook(dst: Path, rows: list[list[object]]) -> Path:
    """A one-sheet .xlsx with ``rows`` (the first is the header)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    for row in rows:
        ws.append(row)
    wb.save(dst)
    return dst


def demo_rows(year: int = 2024, schools: set[str] | None = None) -> list[list[str]]:
    """The demo county's long CSV of ``year`` (header first), optionally only some schools."""
    with (DEMO / f"observations_{year}.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return [rows[0]] + [r for r in rows[1:] if schools is None or r[0] in schools]


def write_csv(dst: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with dst.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return dst


# --------------------------------------------------------------------------- bombs


def _zip(dst: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A ZIP of already-deflated members: (name, deflated bytes, CRC-32, uncompressed size)."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size in members:
        offset = out.tell()
        raw = name.encode()
        out.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, 0, 0x21, crc, len(data), size,
                              len(raw), 0))
        out.write(raw + data)
        central.append(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 8, 0, 0x21, crc, len(data),
                                   size, len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start,
                          start, 0))
    dst.write_bytes(out.getvalue())
    return dst


def _deflated(data: bytes) -> tuple[str, bytes, int, int]:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return ("", c.compress(data) + c.flush(), zlib.crc32(data), len(data))


def _xlsx_parts(sheet_xml: bytes | None = None, shared_strings: bytes | None = None) -> dict[str, bytes]:
    """The parts of a minimal valid one-sheet .xlsx (written by openpyxl), optionally with another
    sheet XML or a sharedStrings part."""
    buf = io.BytesIO()
    wb = Workbook()
    wb.active.title = "数据"
    wb.active.append(["学校编号", "指标编号", "值"])
    wb.active.append(["001", "A1", 13])
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    if sheet_xml is not None:
        parts["xl/worksheets/sheet1.xml"] = sheet_xml
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        rels = parts["xl/_rels/workbook.xml.rels"]
        parts["xl/_rels/workbook.xml.rels"] = rels.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return parts


def zip_bomb_workbook(dst: Path, megabytes: int = 1024) -> Path:
    """A valid .xlsx of about 1 MB whose sheet XML inflates to ``megabytes`` MB (spaces inside
    ``<sheetData>``, which XML allows)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}"><sheetData>'.encode()
    tail = b"</sheetData></worksheet>"
    chunk = b" " * (1 << 20)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)  # after a full flush: no history, so it repeats
    last = c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    members = []
    for name, data in _xlsx_parts().items():
        if name == "xl/worksheets/sheet1.xml":
            size = len(head) + megabytes * len(chunk) + len(tail)
            members.append((name, first + block * megabytes + last, crc, size))
        else:
            members.append((name, *_deflated(data)[1:]))
    return _zip(dst, members)


def many_cells_workbook(dst: Path, cells: int = 1_200_000) -> Path:
    """A valid .xlsx (about 2 MB) with ``cells`` empty styled cells in one sheet."""
    per_row = 1000
    rows = []
    for r in range(1, cells // per_row + 1):
        rows.append(f'<row r="{r}">' + "<c/>" * per_row + "</row>")
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}"><sheetData>'
           + "".join(rows) + "</sheetData></worksheet>").encode()
    members = [(n, *_deflated(xml if n == "xl/worksheets/sheet1.xml" else d)[1:]) for n, d in _xlsx_parts().items()]
    return _zip(dst, members)


def entity_bomb_workbook(dst: Path) -> Path:
    """A .xlsx whose sharedStrings part declares a "billion laughs" entity."""
    lol = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    sst = (f'<?xml version="1.0"?><!DOCTYPE sst [{"".join(lol)}]>'
           f'<sst xmlns="{SHEET_NS}" count="1" uniqueCount="1"><si><t>&l9;</t></si></sst>').encode()
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}"><sheetData>'
             '<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>').encode()
    members = [(n, *_deflated(d)[1:]) for n, d in _xlsx_parts(sheet, sst).items()]
    return _zip(dst, members)


def stray_cell_workbook(dst: Path, value: object = None) -> Path:
    """The demo's 2024 data for schools 001–005 (about 430 rows) as a long .xlsx, plus one cell at
    row 1,048,576 (Excel's last row): formatted but empty when ``value`` is None."""
    from openpyxl.styles import Font

    rows = demo_rows(2024, {f"{i:03d}" for i in range(1, 6)})
    long_workbook(dst, rows)
    wb = load_workbook(dst)
    ws = wb.active
    cell = ws.cell(row=1_048_576, column=1, value=value)
    cell.font = Font(bold=True)
    wb.save(dst)
    return dst


def messy_with_stray_last_cell(dst: Path) -> Path:
    """The demo's messy inspection workbook with one value in Excel's very last cell (XFD1048576)
    of its first wide sheet."""
    wb = load_workbook(DEMO / "messy" / "评价数据_2024_实地核查.xlsx")
    wb.worksheets[1].cell(row=1_048_576, column=16_384, value="x")
    wb.save(dst)
    return dst

