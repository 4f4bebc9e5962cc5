"""The run's chart cache (evalkit.charts.cache, charts.show_chart): a cached PNG is byte for byte
the PNG drawn afresh, and anything the pixels depend on changes the address."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import matplotlib
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import evalkit
from evalkit import analysis, charts
from evalkit.charts import cache
from evalkit.runtime import processes
from evalkit.runtime.job import Job, JobResult


@pytest.fixture(scope="module")
def demo() -> evalkit.results.Results:
    return evalkit.load_results(2024)


@pytest.fixture(scope="module")
def history(demo):
    return analysis.school_trend(demo, "001")


class Counted:
    """charts.trend, counting its calls (the drawing the cache saves): ``draw`` is a function
    (the cache addresses functions by name; see test_only_named_functions_are_addressed)."""

    def __init__(self) -> None:
        self.calls = 0

        def trend_counted(*args, **kwargs):
            self.calls += 1
            return charts.trend(*args, **kwargs)

        self.draw = trend_counted


def _shown(name: str, draw, *args, **kwargs) -> tuple[bytes, dict]:
    """(PNG, metadata with the display width) that charts.show_chart displays."""
    InteractiveShell.instance()
    with capture_output() as out:
        charts.show_chart(name, draw, *args, **kwargs)
    (shown,) = out.outputs
    png = shown.data["image/png"]
    return base64.b64decode(png) if isinstance(png, str) else png, shown.metadata


def _shown_figure(fig) -> tuple[bytes, dict]:
    InteractiveShell.instance()
    with capture_output() as out:
        charts.show(fig, "trend")
    (shown,) = out.outputs
    return base64.b64decode(shown.data["image/png"]), shown.metadata


def test_a_hit_is_the_fresh_drawing_byte_for_byte(tmp_path, monkeypatch, history) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    draw = Counted()
    fresh_fig = charts.trend(history, "城关一小")
    fresh = charts.to_png(fresh_fig, dpi=charts.PRINT_DPI)
    first = _shown("trend", draw.draw, history, "城关一小")
    assert draw.calls == 1 and len(list(tmp_path.iterdir())) == 1  # drawn, kept
    second = _shown("trend", draw.draw, history, "城关一小")
    assert draw.calls == 1  # read back, not drawn
    assert first[0] == second[0] == fresh
    # the metadata as charts.show gives it: the name, the figure's 6.4 inches at 96 px per inch
    assert first[1] == second[1] == _shown_figure(fresh_fig)[1]
    assert first[1]["evalkit"] == {"chart": "trend"} and first[1]["image/png"] == {"width": 614}


def test_a_table_read_again_has_the_same_address(demo, history) -> None:
    # the school report and the trend report each build the table in their own kernel
    again = analysis.school_trend(demo, "001")
    assert again is not history
    assert cache.chart_key(charts.trend, (again, "城关一小"), {"rates": False}, 200) == \
        cache.chart_key(charts.trend, (history, "城关一小"), {"rates": False}, 200)


def test_whatever_the_pixels_depend_on_changes_the_address(history) -> None:
    base = cache.chart_key(charts.trend, (history, "城关一小"), {}, 200)
    changed = history.copy()
    changed.loc[changed.index[0], "total"] += 0.01
    others = [
        cache.chart_key(charts.trend, (history, "城关一小"), {"rates": True}, 200),
        cache.chart_key(charts.trend, (history, "城关二小"), {}, 200),
        cache.chart_key(charts.trend, (changed, "城关一小"), {}, 200),
        cache.chart_key(charts.trend, (history, "城关一小"), {}, 150),
        cache.chart_key(charts.area_trend, (history, "城关一小"), {}, 200),
    ]
    with matplotlib.rc_context({"lines.linewidth": 3.0}):
        others.append(cache.chart_key(charts.trend, (history, "城关一小"), {}, 200))
    assert base is not None and len({base, *others}) == len(others) + 1
    # an argument of a kind the cache does not address: no address, the chart is drawn
    assert cache.chart_key(charts.trend, (history, object()), {}, 200) is None


def test_only_named_functions_are_addressed(history) -> None:
    import functools

    assert cache.chart_key(lambda h, n: charts.trend(h, n), (history, "城关一小"), {}, 200) is None
    assert cache.chart_key(functools.partial(charts.trend, rates=True), (history, "城关一小"), {}, 200) is None


def test_no_folder_no_cache(tmp_path, monkeypatch, history) -> None:
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    draw = Counted()
    a = _shown("trend", draw.draw, history, "城关一小")
    b = _shown("trend", draw.draw, history, "城关一小")
    assert draw.calls == 2 and a[0] == b[0]
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "gone"))  # named but absent: no cache either
    _shown("trend", draw.draw, history, "城关一小")
    assert draw.calls == 3 and not (tmp_path / "gone").exists()


def test_a_torn_or_foreign_entry_is_a_miss(tmp_path, monkeypatch, history) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    fresh = charts.to_png(charts.trend(history, "城关一小"), dpi=charts.PRINT_DPI)
    draw = Counted()
    _shown("trend", draw.draw, history, "城关一小")
    (entry,) = tmp_path.iterdir()
    for junk in (b"", b"6.4", b"6.4\nnot a png", b"wide\n" + fresh):
        entry.write_bytes(junk)
        assert _shown("trend", draw.draw, history, "城关一小")[0] == fresh
    assert draw.calls == 5
    assert cache.load(entry.stem) == (6.4, fresh)  # rewritten whole by the last drawing


def _report_folder(job: Job) -> JobResult:
    """A worker's job: what a kernel started there would find (the variable, the folder)."""
    folder = os.environ.get(processes.CHART_CACHE_ENV, "")
    return JobResult.failure(job, f"{folder}|{Path(folder).is_dir() if folder else False}")


def test_a_batch_shares_one_folder_removed_at_its_end(tmp_path) -> None:
    assert processes.CHART_CACHE_ENV == cache.CACHE_ENV
    jobs = [Job(key=f"k{i}", kind="school_report", school_id=f"00{i}", school_name="", year=2024,
                notebook=tmp_path / "x.ipynb", parameters={}, fingerprints={}) for i in range(3)]
    seen: list[str] = []
    processes.run_in_processes(jobs, _report_folder, 2, lambda job, result: seen.append(result.error or ""),
                               progress=False)
    folders = {s.split("|")[0] for s in seen}
    assert len(seen) == 3 and len(folders) == 1 and all(s.endswith("|True") for s in seen)
    (folder,) = folders
    assert Path(folder).name.startswith("evalkit-charts-") and not Path(folder).exists()
