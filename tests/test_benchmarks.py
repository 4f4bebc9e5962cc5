"""The benchmarks' synthetic counties stay valid evaluator data (benchmarks run on demand only,
so a change that makes intake refuse their data would otherwise go unnoticed)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from bench_batch_scale import write_county  # noqa: E402
from bench_scoring import YEARS, synthetic_observations  # noqa: E402


def test_synthetic_county_passes_intake_and_scores_every_school_year(tmp_path):
    from evalkit.planner.runfile import load_run_file
    from evalkit.planner.scores import score_run

    _, results, _ = score_run(load_run_file(write_county(tmp_path / "county", 3)))
    assert results.years == YEARS
    assert len(results.schools) == 3 * len(YEARS)
    assert len(results.indicators) == 3 * len(YEARS) * 37
    assert not results.indicators["missing"].any()


def test_scoring_benchmark_data_has_every_kind_of_row():
    obs = synthetic_observations(4)
    assert set(obs["source"]) == {"self", "inspection", "survey"}
    assert set(obs.loc[obs["indicator_id"] == "C5", "item"]) == {"warning", "violation"}
    assert obs["rater"].nunique() == 6  # "" and five inspectors on the rated items


def _executed(path: Path, html: str, chart: str = "radar") -> None:
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook(cells=[v4.new_code_cell("x", outputs=[
        v4.new_output("display_data", data={"text/html": html}),
        v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}, metadata={"evalkit": {"chart": chart}}),
    ])])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    for suffix in (".html", ".pdf"):
        path.with_suffix(suffix).write_bytes(b"x")


def test_batch_benchmark_counts_only_identical_reports(tmp_path):
    # the plain loop's ratio is printed only when its reports are evalkit run's: same markers,
    # charts and text; a style sheet and the time the report was made do not count
    from bench_batch import compare

    report = {"kind": "school_report", "stem": "001_2024_报告", "folder": "schools/001"}
    plain = tmp_path / "plain" / "reports" / "001_2024_报告.ipynb"
    ours = tmp_path / "evalkit" / "out" / "2024" / "schools" / "001" / "001_2024_报告.ipynb"
    body = '<div data-total="91.5" data-grade="好">总分 91.5</div><p>报告生成时间：{}</p>'
    _executed(plain, "<style>.ekr-note{color:#444}</style>" + body.format("2024-12-20 10:00"))
    _executed(ours, body.format("2024-12-21 09:30"))
    assert compare(tmp_path / "plain", tmp_path / "evalkit", 2024, [report]) == []
    _executed(ours, body.replace("91.5", "91.6").format("2024-12-21 09:30"))
    assert [p.split(":")[1].split()[0] for p in compare(tmp_path / "plain", tmp_path / "evalkit", 2024, [report])] \
        == ["markers", "text"]
    _executed(ours, body.format("x"), chart="trend")
    assert "charts differ" in compare(tmp_path / "plain", tmp_path / "evalkit", 2024, [report])[0]
    ours.with_suffix(".pdf").unlink()
    assert compare(tmp_path / "plain", tmp_path / "evalkit", 2024, [report]) == ["001_2024_报告: missing output"]
