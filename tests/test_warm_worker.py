"""Worker processes start warm (evalkit.runtime.warm_worker): the fork server has imported
WeasyPrint, cut the report fonts and built the HTML exporter, so a worker has them before its
first report — and each worker still makes its own WeasyPrint font folder."""

from __future__ import annotations

import os


def _state() -> dict[str, object]:
    """What a worker has before it runs anything (called in the worker)."""
    import sys

    from evalkit.publish import pdf_fonts, render

    return {
        "weasyprint": "weasyprint" in sys.modules,
        "faces cut": pdf_fonts.common_faces.cache_info().currsize == 1,
        "exporter": getattr(render._local, "exporter", None) is not None,
        "pdf tools": getattr(render._local, "pdf_tools", None) is not None,
        "pid": os.getpid(),
    }


def _font_folder() -> str:
    """The worker's WeasyPrint font folder, made by its first PDF (called in the worker)."""
    from evalkit.publish import render

    pdf = render.html_to_pdf_bytes("<p>城关一小</p>", header_left="学校")
    assert pdf[:5] == b"%PDF-"
    return str(render._local.pdf_tools[0]._folder)


def test_workers_have_weasyprint_the_cut_fonts_and_the_exporter_before_their_first_report() -> None:
    from evalkit.runtime.processes import _new_pool

    pool = _new_pool(2)
    try:
        states = [f.result(timeout=300) for f in [pool.submit(_state) for _ in range(2)]]
        for state in states:
            assert {k: v for k, v in state.items() if k != "pid"} == {
                "weasyprint": True, "faces cut": True, "exporter": True, "pdf tools": False}
        # two jobs at once, each holding its worker a second: one per worker
        made = [f.result(timeout=300) for f in [pool.submit(_pid_and_folder) for _ in range(2)]]
        assert len({pid for pid, _ in made}) == 2
        assert len({folder for _, folder in made}) == 2  # each worker its own font folder
    finally:
        pool.shutdown(wait=True)


def _pid_and_folder() -> tuple[int, str]:
    import time

    time.sleep(1)
    return os.getpid(), _font_folder()
