"""Word files from one long-lived pandoc per process (evalkit.publish.pandoc_server): the same
documents as the pandoc command, the server reused, replaced when it dies, and the command used
whenever the server cannot convert a document."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import DemoRun
from evalkit.publish import pandoc, pandoc_server
from evalkit.publish.render import notebook_to_html

NOTICE = """# 关于2024年度学校党建工作质量评估结果的通报

各中小学校：

根据《青岚县学校党建工作质量评估办法》，现将评估结果通报如下。

| 等次 | 学校数 |
|---|---|
| 好 | 9 |
| 较好 | 20 |

::: {custom-style="落款"}
青岚县教育体育局
:::
"""


def _parts(docx: bytes) -> dict[str, bytes]:
    """Every part of a .docx; the creation and modification times (the run's clock) blanked."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["docProps/core.xml"] = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"T", parts["docProps/core.xml"])
    return parts


def _by_command(monkeypatch: pytest.MonkeyPatch, make: object) -> bytes:
    """The document the pandoc command makes (the server declines every request)."""
    with monkeypatch.context() as m:
        m.setattr(pandoc_server, "convert", lambda request, **kw: False)
        return make()  # type: ignore[operator]


def _server_pid() -> int:
    assert pandoc_server._server is not None
    return pandoc_server._server.process.pid


@pytest.fixture
def report_html(demo_run: DemoRun) -> str:
    """School 001's report of the session's demo run, as HTML (as evalkit run converts it)."""
    notebook = demo_run.report("001", "ipynb")
    return notebook_to_html(nbformat.read(notebook, as_version=4), title="001 报告", path=notebook.parent)


def test_the_server_writes_the_documents_the_command_writes(report_html: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pandoc_server.close()
    report = pandoc.html_to_docx_bytes(report_html)
    pid = _server_pid()
    notice = pandoc.markdown_to_docx_bytes(NOTICE)
    again = pandoc.html_to_docx_bytes(report_html)
    assert _server_pid() == pid  # one server for the three documents
    expected = _parts(_by_command(monkeypatch, lambda: pandoc.html_to_docx_bytes(report_html)))
    assert _parts(report) == expected and _parts(again) == expected
    assert sum(name.startswith("word/media/") for name in expected) == 4  # the report's four charts
    assert b"w:tblHeader" in expected["word/document.xml"]  # header rows repeated on each page
    assert _parts(notice) == _parts(_by_command(monkeypatch, lambda: pandoc.markdown_to_docx_bytes(NOTICE)))
    assert "青岚县教育体育局".encode() in _parts(notice)["word/document.xml"]


def test_a_server_that_died_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    first = pandoc.markdown_to_docx_bytes(NOTICE)
    assert pandoc_server._server is not None
    dead = pandoc_server._server.process
    dead.kill()
    dead.wait()
    second = pandoc.markdown_to_docx_bytes(NOTICE)  # the dead one is noticed and a new one started
    assert _server_pid() != dead.pid and _parts(second) == _parts(first)


def test_what_the_server_cannot_convert_goes_to_the_command(tmp_path: Path) -> None:
    pandoc.markdown_to_docx_bytes(NOTICE)
    pid = _server_pid()
    source = tmp_path / "in.md"
    source.write_text("# x", encoding="utf-8")
    request = {"input": str(source), "from": "no-such-format", "output": str(tmp_path / "out.docx"),
               "reference_doc": str(pandoc.REFERENCE_DOCX), "filter": str(pandoc.LUA_FILTER), "lang": "zh-CN",
               "cwd": str(tmp_path)}
    assert pandoc_server.convert(request, pandoc=pandoc.pandoc_path(), timeout=60) is False
    assert not (tmp_path / "out.docx").exists() and _server_pid() == pid  # a Lua error: the server stays
    # a reference document that is no Word file: the command's own message, in Chinese
    bad = tmp_path / "模板.docx"
    bad.write_text("not a zip", encoding="utf-8")
    with pytest.raises(pandoc.PandocError, match="生成 Word 文档失败"):
        pandoc.markdown_to_docx_bytes(NOTICE, template=bad)


def test_a_conversion_past_its_timeout_kills_the_server(report_html: str) -> None:
    pandoc.markdown_to_docx_bytes(NOTICE)
    assert pandoc_server._server is not None
    process = pandoc_server._server.process
    with pytest.raises(pandoc.PandocError, match="超过"):
        pandoc.html_to_docx_bytes(report_html, timeout=1e-6)
    assert process.wait(timeout=5) is not None and pandoc_server._server is None
    assert pandoc.markdown_to_docx_bytes(NOTICE)[:2] == b"PK"  # and the next document starts a new one


def test_a_forked_process_starts_its_own_server() -> None:
    expected = _parts(pandoc.markdown_to_docx_bytes(NOTICE))
    parent = _server_pid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            same = _parts(pandoc.markdown_to_docx_bytes(NOTICE)) == expected
            os.write(write, f"{int(same)} {_server_pid()}".encode())
        finally:
            os._exit(0)
    os.close(write)
    same, pid = os.read(read, 100).decode().split()
    os.close(read)
    os.waitpid(child, 0)
    assert same == "1" and int(pid) != parent
    assert _server_pid() == parent and _parts(pandoc.markdown_to_docx_bytes(NOTICE)) == expected
