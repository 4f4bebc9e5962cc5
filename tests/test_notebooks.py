"""The report notebooks, executed with papermill on the bundled demo county.

The demo county is scored once and saved by the session's real run (``demo_run`` of
tests/conftest.py, with a robustness analysis of 200 replications, which also executed the school
report of 022, the first school with a veto, read here); the notebooks read its saved scores
through the ``scores`` parameter (as the batch runner passes them), except one run with the
notebook's own defaults, which scores the demo county itself. Assertions read the machine-readable markers
the notebooks embed (``data-total``, ``data-table``, ``data-note``) and the chart names in the
outputs' metadata.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import papermill as pm
import pytest

import evalkit
from evalkit.intake.registry import load_registry
from evalkit.runtime.executor import ipc_kernel_manager_class

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CONTRACT = {"school_id", "year", "scores", "data", "framework", "registry", "intake_notes", "issuer",
            "show_rater_marks"}
REGION_CONTRACT = {"school_id", "year", "scores", "counties", "region", "framework"}
"""The region summary compares counties: it takes the year's folder and the county names instead."""


def _run(name: str | Path, out: Path, **parameters: object) -> nbformat.NotebookNode:
    """The executed notebook, errors included: papermill raises on a failing cell after writing
    the output, and the error is left for test_no_notebook_fails to report (rather than failing
    the module's fixture, which hid which notebook failed and made that test unable to fail)."""
    source = name if isinstance(name, Path) else NOTEBOOKS / f"{name}.ipynb"
    # kernels over Unix sockets: two kernels starting at once over TCP can race for a port
    try:
        pm.execute_notebook(str(source), str(out), parameters=parameters, progress_bar=False,
                            cwd=str(NOTEBOOKS), kernel_manager_class=ipc_kernel_manager_class())
    except pm.PapermillExecutionError:
        pass
    return nbformat.read(out, as_version=4)


def _html(nb: nbformat.NotebookNode) -> str:
    """Every text/html and text/plain output of the executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts.append(str(data.get("text/html", "")))
            parts.append(str(output.get("text", "")))
    return "\n".join(parts)


def _charts(nb: nbformat.NotebookNode) -> list[str]:
    return [
        o["metadata"]["evalkit"]["chart"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {}) and "evalkit" in o.get("metadata", {})
    ]


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    return [f"{o.ename}: {o.evalue}" for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]


def _attr(html: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', html)
    assert match, f"no {name} in the output"
    return match.group(1)


@pytest.fixture(scope="module")
def demo(demo_run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The demo county scored once and saved (the shared run's scores), and every notebook executed
    once: the vetoed school's report by that run, the others here."""
    from conftest import DEMO_RUN_SCHOOLS

    tmp = tmp_path_factory.mktemp("notebooks")
    scores = str(demo_run.year / "scores")
    results = evalkit.load_results(2024, scores=scores)
    assert results.meta["robustness"]["replications"] == 200
    intake = tmp / "intake.csv"
    intake.write_text(
        "severity,kind,message,year\n"
        "warning,implausible,文件 2024.xlsx 工作表 思想强基 单元格 D12：学校 003 指标 A1 的值 60 异常偏大,2024\n"
        "error,duplicate,2023 年的旧问题,2023\n",
        encoding="utf-8",
    )
    veto_school = str(results.vetoes[results.vetoes["year"] == 2024]["school_id"].sort_values().iloc[0])
    assert veto_school in DEMO_RUN_SCHOOLS, "the shared run reports on the first vetoed school"
    jobs = {
        # the notebook's own defaults: scores the demo county itself
        "default": ("school_report", {"year": 2024, "school_id": "001"}),
        "first_year": ("school_report", {"year": 2022, "school_id": "002", "scores": scores}),
        "county": ("county_summary", {"year": 2024, "scores": scores, "intake_notes": str(intake)}),
        "trend": ("school_trend", {"year": 2024, "school_id": "036", "scores": scores}),
        "explore": ("explore", {"year": 2024, "school_id": "001", "scores": scores}),
        "audit": ("framework_audit", {"year": 2024, "scores": scores}),
    }
    # a notebook that fails for sure: proves that a failing cell reaches test_no_notebook_fails
    jobs["broken"] = (_broken_notebook(tmp / "broken_source.ipynb"), {"school_id": "无此学校"})
    with ThreadPoolExecutor(max_workers=2) as pool:  # one kernel each; about 4 s per notebook
        futures = {key: pool.submit(_run, name, tmp / f"{key}.ipynb", **params)
                   for key, (name, params) in jobs.items()}
        runs = {key: f.result() for key, f in futures.items()}
    runs["veto"] = nbformat.read(demo_run.report(veto_school, "ipynb"), as_version=4)
    return {"results": results, "runs": runs, "veto_school": veto_school}


def test_notebooks_are_committed_without_outputs() -> None:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name} has outputs"
                assert cell.execution_count is None, f"{path.name} has execution counts"
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, f"{path.name}: one cell tagged parameters"
        names = set(re.findall(r"^(\w+)\s*:", params[0].source, flags=re.MULTILINE))
        expected = REGION_CONTRACT if path.stem == "region_summary" else CONTRACT
        assert names == expected, f"{path.name}: parameters {names}"


def _broken_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    params = nbformat.v4.new_code_cell('school_id = "001"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell('raise KeyError(f"没有学校 {school_id}")')]
    nbformat.write(nb, path)
    return path


def test_no_notebook_fails(demo: dict) -> None:
    failed = {name: _errors(nb) for name, nb in demo["runs"].items() if _errors(nb)}
    assert failed == {"broken": ["KeyError: '没有学校 无此学校'"]}


def test_school_report_shows_the_scored_total_and_grade(demo: dict) -> None:
    row = demo["results"].school("001", 2024)
    html = _html(demo["runs"]["default"])
    assert _attr(html, "data-school-id") == "001"
    assert float(_attr(html, "data-total")) == row["total"]
    assert _attr(html, "data-grade") == row["grade"]
    assert int(_attr(html, "data-rank")) == row["rank"]
    assert row["school_name"] in html
    assert {"radar", "points_lost", "trend"} <= set(_charts(demo["runs"]["default"]))
    for table in ("areas", "weaknesses", "trend", "indicators-A", "indicators-E"):
        assert f'data-table="{table}"' in html
    assert "整改建议" in html and 'data-data-fingerprint="' in html


def test_school_report_shows_a_veto(demo: dict) -> None:
    sid = demo["veto_school"]
    row = demo["results"].school(sid, 2024)
    html = _html(demo["runs"]["veto"])
    assert _attr(html, "data-veto") == "1"
    assert _attr(html, "data-grade") == row["grade"] == "差"
    assert 'data-table="vetoes"' in html
    veto = demo["results"].vetoes.query("school_id == @sid and year == 2024").iloc[0]
    assert veto["veto_name"] in html and veto["evidence"] in html


def test_first_year_report_has_no_trend_chart(demo: dict) -> None:
    nb = demo["runs"]["first_year"]
    html = _html(nb)
    assert 'data-note="no-history"' in html
    assert "首次参评" in html
    assert "trend" not in _charts(nb)
    assert float(_attr(html, "data-total")) == demo["results"].school("002", 2022)["total"]


def _other_schools(html: str, own_id: str) -> list[str]:
    """Names of registry schools other than ``own_id`` that appear in ``html`` (the school's
    own name is removed first, in case it contains another school's name)."""
    registry = load_registry(evalkit.api.demo_inputs()[1])
    own = registry.loc[registry["school_id"] == own_id, "school_name"].iloc[0]
    text = html.replace(own, "")
    return [n for n in registry["school_name"] if n != own and n in text]


@pytest.mark.parametrize("run", ["default", "veto", "first_year", "trend"])
def test_school_reports_name_no_other_school(demo: dict, run: str) -> None:
    html = _html(demo["runs"][run])
    assert _other_schools(html, _attr(html, "data-school-id")) == []


def test_the_privacy_check_would_see_other_names(demo: dict) -> None:
    n = int((demo["results"].schools["year"] == 2024).sum())
    assert len(_other_schools(_html(demo["runs"]["county"]), "001")) == n - 1


def test_county_summary_shows_every_school(demo: dict) -> None:
    html = _html(demo["runs"]["county"])
    schools = demo["results"].schools.query("year == 2024")
    assert _attr(html, "data-n-schools") == str(len(schools))
    ranking = html[html.index('data-table="ranking"'):]
    ranking = ranking[: ranking.index("</table>")]
    for name in schools["school_name"]:
        assert name in ranking
    assert {"grade_distribution", "area_distribution", "heatmap", "by_type", "by_township", "changes"} <= set(
        _charts(demo["runs"]["county"])
    )
    assert 'data-table="vetoes"' in html and 'data-table="systemic"' in html
    assert 'data-table="intake"' in html and "异常偏大" in html and "2023 年的旧问题" not in html


def test_trend_and_explore_run(demo: dict) -> None:
    trend = demo["runs"]["trend"]
    assert {"trend", "area_trend"} <= set(_charts(trend))
    # school 036 of the demo county is below the county mean on 8 indicators in all 3 years
    weak = evalkit.analysis.persistent_weaknesses(demo["results"], "036", evalkit.load_framework(
        "shiquan-party-building"), n=10)
    assert list(weak["indicator_id"]) == ["A7", "A6", "A3", "A5", "C7", "A2", "C8", "D3"]
    html = _html(trend)
    assert 'data-note="no-weak"' not in html
    table = html[html.index('data-table="persistent"'):]
    table = table[: table.index("</table>")]
    assert [name for name in weak["indicator_name"] if name in table] == list(weak["indicator_name"])
    explore = demo["runs"]["explore"]
    widget = [o for c in explore.cells for o in c.get("outputs", [])
              if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget, "the explorer displays a widget"


def test_reports_say_how_sure_the_rank_is(demo: dict) -> None:
    """The school report's sentence and chart under the headline (saved robustness tables), a
    note when the scores carry none (the default run scores the demo county itself), and the
    county summary's rank-interval plot and tables."""
    results = demo["results"]
    sid = demo["veto_school"]
    row = results.extra["robustness"].set_index("school_id").loc[sid]
    html = _html(demo["runs"]["veto"])
    assert int(_attr(html, "data-rank-lo")) == row["rank_lo"] and int(_attr(html, "data-rank-hi")) == row["rank_hi"]
    assert f"全县排名第 {row['rank']} 名；考虑指标权重（±20%）、评分人差异" in html
    assert "rank_interval" in _charts(demo["runs"]["veto"])
    assert 'data-note="no-robustness"' in _html(demo["runs"]["default"])
    county = demo["runs"]["county"]
    assert {"rank_intervals", "sensitivity"} <= set(_charts(county))
    assert 'data-table="sensitivity"' in _html(county)
    # which node's weights move ranks most, in the county summary (evalkit.robustness.influence)
    assert 'data-note="weight-nodes"' in _html(county)
    assert results.meta["robustness"]["weights_sentence"] in _html(county)


def test_framework_audit_runs(demo: dict) -> None:
    nb = demo["runs"]["audit"]
    html = _html(nb)
    assert "correlation_heatmap" in _charts(nb)
    for table in ("findings", "alpha", "inter-rater", "leniency", "non-discriminating"):
        assert f'data-table="{table}"' in html
    assert "廉政问题" in html and "ICC(2,k)" in html
