"""Comparing counties (``evalkit.analysis.region``), the run file's ``counties:`` and the
synthetic city (``evalkit.demo.city``). Numbers are worked out by hand from the tables below."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from evalkit.analysis import region as reg
from evalkit.planner.report import RunError
from evalkit.planner.runfile import RunFileError, load_run_file
from evalkit.results import Results
from evalkit.runtime.executor import Executor

ROOT = Path(__file__).resolve().parents[1]
LIGHT_REPORT = ROOT / "tests" / "fixtures" / "batch" / "headline.ipynb"
"""The light report (the real school report's parameters and headline markers) for the runs whose
tests check what is scored, batched and recorded rather than what a report shows."""


def results(totals: list[float], grades: list[str], shares: dict[str, list[float]], flagged: list[str]) -> Results:
    """One county's Results of 2024: schools s1, s2, … with these totals and grades, indicators
    (max 10 points) with these shares per school, and one flag per school id in ``flagged``."""
    ids = [f"s{i + 1}" for i in range(len(totals))]
    schools = pd.DataFrame({"school_id": ids, "year": 2024, "total": totals, "grade": grades})
    ind = pd.DataFrame([
        {"school_id": sid, "year": 2024, "indicator_id": iid, "indicator_name": f"指标{iid}", "max_points": 10.0,
         "share": values[i], "points": 10.0 * values[i]}
        for iid, values in shares.items() for i, sid in enumerate(ids)
    ])
    flags = pd.DataFrame({"school_id": flagged, "year": 2024, "indicator_id": "A1", "indicator_name": "",
                          "kind": "missing_zero", "message": ""})
    empty = pd.DataFrame()
    return Results(indicators=ind, areas=empty, schools=schools, bonus=empty, vetoes=empty, flags=flags)


@pytest.fixture
def area() -> reg.Region:
    east = results([90, 80, 70, 60], ["好", "较好", "一般", "一般"],
                   {"A1": [1, 1, 0.5, 0.5], "B1": [0.2, 0.4, 0.6, 0.8]}, ["s1"])
    west = results([85, 75, 65], ["好", "好", "较好"], {"A1": [1, 0, 0.5], "B1": [0, 0, 0.3]}, [])
    return reg.Region("云州市", {"东川县": east, "西江县": west})


def test_grade_shares_and_score_distribution_per_county(area: reg.Region) -> None:
    shares = reg.grade_shares(area, 2024, ["好", "较好", "一般", "差"]).set_index("county")
    assert shares.loc["东川县"].tolist() == [4, 0.25, 0.25, 0.5, 0.0]
    assert shares.loc["西江县", "n"] == 3 and shares.loc["西江县", "好"] == pytest.approx(2 / 3)
    dist = reg.score_distribution(area, 2024).set_index("county")
    # 东川县 totals 60 70 80 90: mean 75, sample sd sqrt(500/3) = 12.91, quartiles (linear) 67.5 / 82.5
    assert dist.loc["东川县", ["n", "mean", "median", "p25", "p75"]].tolist() == [4, 75, 75, 67.5, 82.5]
    assert dist.loc["东川县", "sd"] == pytest.approx((500 / 3) ** 0.5)
    assert dist.loc["西江县", ["mean", "min", "max"]].tolist() == [75, 65, 85]


def test_league_table_orders_by_mean_then_median_and_shares_a_rank_only_when_both_tie(area: reg.Region) -> None:
    league = reg.league_table(area, 2024, "好")
    # both means are 75 and both medians 75: one shared rank 1, then by name
    assert league["county"].tolist() == ["东川县", "西江县"] and league["rank"].tolist() == [1, 1]
    assert league["top_share"].tolist() == pytest.approx([0.25, 2 / 3])
    area.counties["西江县"].schools.loc[0, "total"] = 88  # 西江县: 88 75 65 → mean 76
    league = reg.league_table(area, 2024, "好")
    assert league["county"].tolist() == ["西江县", "东川县"] and league["rank"].tolist() == [1, 2]


def test_weakest_indicators_are_region_wide_with_the_county_where_they_are_lowest(area: reg.Region) -> None:
    weak = reg.weakest_indicators(area, 2024, n=2)
    # B1: (0.2+0.4+0.6+0.8+0+0+0.3)/7 = 2.3/7; A1: (1+1+.5+.5+1+0+.5)/7 = 4.5/7
    assert weak["indicator_id"].tolist() == ["B1", "A1"]
    assert weak["mean_share"].tolist() == pytest.approx([2.3 / 7, 4.5 / 7])
    assert weak["worst_county"].tolist() == ["西江县", "西江县"]
    assert weak["worst_share"].tolist() == pytest.approx([0.1, 0.5])


def test_data_quality_flags_a_county_with_more_than_a_tenth_of_its_schools_flagged(area: reg.Region) -> None:
    quality = reg.data_quality(area, 2024).set_index("county")
    assert quality.loc["东川县", ["n", "flagged", "share", "poor"]].tolist() == [4, 1, 0.25, True]
    assert quality.loc["西江县", ["flagged", "poor"]].tolist() == [0, False]


def test_run_file_with_counties(tmp_path: Path) -> None:
    for county in ("东川县", "西江县"):
        (tmp_path / county).mkdir()
        (tmp_path / county / "obs.csv").write_text("x", encoding="utf-8")
    nb = ROOT / "notebooks" / "school_report.ipynb"
    text = (f"region: 云州市\nnotebooks:\n  school_report: {nb}\noutput: out\nexecutor: dask-local:2\n"
            "counties:\n  - name: 东川县\n    data: 东川县/obs.csv\n  - name: 西江县\n    data: [西江县/obs.csv]\n")
    (tmp_path / "run.yaml").write_text(text, encoding="utf-8")
    spec = load_run_file(tmp_path / "run.yaml")
    assert [c.county for c in spec.counties] == ["东川县", "西江县"] and spec.executor == "dask-local:2"
    assert spec.counties[1].data == (tmp_path / "西江县" / "obs.csv",)
    assert spec.counties[0].year_folder(2024) == tmp_path / "out" / "2024" / "东川县"
    assert spec.year_folder(2024) == tmp_path / "out" / "2024"  # a plain run keeps its layout
    assert spec.with_options(cluster="tcp://10.0.0.5:8786").counties[0].executor == "tcp://10.0.0.5:8786"
    with_scheduler = tmp_path / "scheduler.yaml"  # --cluster dask takes the run file's scheduler:
    with_scheduler.write_text(text.replace("executor: dask-local:2", "scheduler: tcp://10.0.0.9:8786"),
                              encoding="utf-8")
    spec = load_run_file(with_scheduler)
    assert spec.executor == "local" and spec.with_options(cluster="dask").counties[1].executor == "tcp://10.0.0.9:8786"
    bad = text.replace("name: 西江县\n    data: [西江县/obs.csv]", "name: 东川县\n    data: [西江县/nope.csv]")
    (tmp_path / "bad.yaml").write_text(bad.replace("executor: dask-local:2", "executor: dask"), encoding="utf-8")
    with pytest.raises(RunFileError) as info:
        load_run_file(tmp_path / "bad.yaml")
    message = str(info.value)
    assert "counties[1].data[0] (第 10 行): 找不到文件" in message
    assert "县名“东川县”重复" in message and "executor (第 5 行): executor: dask 需要调度器地址" in message


def test_synthetic_city_is_seeded_and_counties_differ(tmp_path: Path) -> None:
    from evalkit.demo.city import county_names, generate_city

    a = generate_city(tmp_path / "a", counties=3, years=(2024,), sizes=(40, 60))
    b = generate_city(tmp_path / "b", counties=3, years=(2024,), sizes=(40, 60))
    names = county_names(3)
    for name in names:
        assert (a.parent / name / "observations_2024.csv").read_bytes() == (
            b.parent / name / "observations_2024.csv").read_bytes()
        n = len((a.parent / name / "registry.csv").read_text(encoding="utf-8").splitlines()) - 1
        assert 40 <= n <= 60
    assert len(set(names)) == 3 and len(set(county_names(100))) == 100
    spec = load_run_file(a)
    assert [c.county for c in spec.counties] == names and spec.region == "云州市"


def test_region_run_writes_each_countys_scores_and_one_region_summary_then_skips_it(tmp_path: Path) -> None:
    import re

    from evalkit.demo.city import generate_city
    from evalkit.planner.run import run_batch

    run_file = generate_city(tmp_path, counties=2, years=(2024,), sizes=(3, 3), notebooks=ROOT / "notebooks")
    text = re.sub(r"  (school_report|county_summary): .*\n", "", run_file.read_text(encoding="utf-8"))
    run_file.write_text(text.replace("[ipynb, html]", "[html]"), encoding="utf-8")
    report = run_batch(load_run_file(run_file), progress=False)
    assert [(o.job.kind, o.status) for o in report.outcomes] == [("region_summary", "done")]
    out = tmp_path / "outputs" / "2024"
    assert (out / "东川县" / "scores" / "meta.json").is_file() and (out / "西江县" / "scores" / "meta.json").is_file()
    html = (out / "region" / "区域汇总_2024.html").read_text(encoding="utf-8")
    league = html.split('data-table="league"')[1].split("</table>")[0]
    assert league.count("东川县") == 1 and league.count("西江县") == 1
    assert 'data-table="weakest"' in html and 'data-table="data-quality"' in html
    assert "evalkit.analysis.region" not in html  # the notebook's own note is not part of the report
    again = run_batch(load_run_file(run_file), progress=False)
    assert [o.status for o in again.outcomes] == ["skipped"]


def _shared_registry_city(tmp_path: Path) -> tuple[Path, Path]:
    """A 2-county synthetic city run twice: with each county's own registry (``own.yaml``) and with
    one registry for the city carrying a 县区 column (``shared.yaml``), which also lists two
    schools of 南山县, a county the run does not name."""
    import re

    from evalkit.demo.city import generate_city

    run_file = generate_city(tmp_path, counties=2, years=(2024,), sizes=(3, 3), notebooks=ROOT / "notebooks")
    text = re.sub(r"  (school_report|county_summary): .*\n", "", run_file.read_text(encoding="utf-8"))
    text = re.sub(r"(  region_summary: ).*\n", lambda m: f"{m.group(1)}{LIGHT_REPORT}\n", text)
    text = text.replace("[ipynb, html]", "[html]") + "robustness: false\n"
    own = tmp_path / "own.yaml"
    own.write_text(text.replace("output: outputs", "output: out-own"), encoding="utf-8")
    frames = []
    for county in ("东川县", "西江县"):
        frame = pd.read_csv(tmp_path / county / "registry.csv", dtype=str, keep_default_na=False)
        frames.append(frame.assign(县区=county))
    extra = frames[0].head(2).assign(县区="南山县")
    shared = pd.concat([*frames, extra], ignore_index=True)
    shared.to_csv(tmp_path / "全市名册.csv", index=False, encoding="utf-8")
    text = re.sub(r"    registry: .*\n", "", text).replace("counties:\n", "registry: 全市名册.csv\ncounties:\n")
    shared_file = tmp_path / "shared.yaml"
    shared_file.write_text(text.replace("output: outputs", "output: out-shared"), encoding="utf-8")
    return own, shared_file


def test_one_registry_with_a_county_column_scores_each_county_as_its_own_registry_would(tmp_path: Path) -> None:
    import io

    from evalkit.analysis import start_year
    from evalkit.planner.run import run_batch

    own, shared = _shared_registry_city(tmp_path)
    ids = {c: pd.read_csv(tmp_path / c / "registry.csv", dtype=str)["school_id"].tolist() for c in ("东川县", "西江县")}
    assert set(ids["东川县"]) & set(ids["西江县"]), "the two counties reuse school ids: unique only within a county"
    spec = load_run_file(shared)
    assert [(c.registry, c.registry_county) for c in spec.counties] == [
        (tmp_path / "全市名册.csv", "东川县"), (tmp_path / "全市名册.csv", "西江县")]
    printed = io.StringIO()
    run_batch(load_run_file(own), progress=False, out=io.StringIO())
    run_batch(spec, progress=False, out=printed)
    assert "有 2 所学校的县区不在本次 counties 中，不参加本次评价：南山县（2 所）" in printed.getvalue()
    for county in ("东川县", "西江县"):
        a = Results.load(tmp_path / "out-own" / "2024" / county / "scores")
        b = Results.load(tmp_path / "out-shared" / "2024" / county / "scores")
        cols = ["school_id", "school_name", "total", "grade", "rank"]
        pd.testing.assert_frame_equal(a.schools[cols], b.schools[cols])
        assert sorted(b.extra["registry"]["school_id"]) == sorted(ids[county])  # saved with the scores
        assert "county" not in b.extra["registry"].columns
        # the reports' registry parameter is empty; the saved rows give the start year (2024, as generated)
        assert start_year(b, ids[county][0], "") == 2024


def test_a_shared_registry_without_a_county_column_or_without_a_county_is_refused(tmp_path: Path) -> None:
    from evalkit.planner.run import RunError, run_batch

    _, shared = _shared_registry_city(tmp_path)
    registry = pd.read_csv(tmp_path / "全市名册.csv", dtype=str, keep_default_na=False)
    registry[registry["县区"] != "西江县"].to_csv(tmp_path / "全市名册.csv", index=False, encoding="utf-8")
    with pytest.raises(RunError) as info:
        run_batch(load_run_file(shared), progress=False)
    message = str(info.value)
    assert "【西江县】" in message and "中没有“县区”为“西江县”的学校（名册中的县区：东川县、南山县）" in message
    registry.drop(columns="县区").to_csv(tmp_path / "全市名册.csv", index=False, encoding="utf-8")
    with pytest.raises(RunError) as info:
        run_batch(load_run_file(shared), progress=False)
    assert "没有“县区”列，不能按县拆分" in str(info.value)


def test_registry_ids_repeat_across_counties_but_not_within_one(tmp_path: Path) -> None:
    from evalkit.intake.registry import county_registry, read_registry

    path = tmp_path / "名册.csv"
    path.write_text("学校编号,学校名称,所属县区\n001,甲小学,东川县\n001,乙小学,西江县\n002,丙小学,西江县\n"
                    "002,丁小学,西江县\n", encoding="utf-8")
    frame, issues = read_registry(path)
    errors = [i for i in issues if i.is_error]
    assert [(i.row, i.value) for i in errors] == [(5, "002")]
    assert "学校编号重复（同一县区内）：第 4 行已有编号 002" in errors[0].detail
    assert not [i for i in issues if "县区" in i.detail and i.kind == "missing_column"]  # no warning for it
    west = county_registry(frame, "西江县")
    assert west["school_name"].tolist() == ["乙小学", "丙小学", "丁小学"] and "county" not in west.columns
    plain, _ = read_registry(ROOT / "params" / "registry-example.csv")
    assert "county" not in plain.columns  # a county's own registry keeps its columns as before


class Recording(Executor):
    """A real executor (the kernel pool unless given) that notes every ``run_jobs`` call and
    each job as the executor takes it from the run's feed; ``first_taken`` is set at the first."""

    def __init__(self, inner: Executor | None = None) -> None:
        from evalkit.runtime.kernelpool import KernelPoolExecutor

        self.inner = inner or KernelPoolExecutor()
        self.calls = 0
        self.taken: list[tuple[str, str, str]] = []  # (county folder, kind, school id)
        self.first_taken = threading.Event()

    def start(self, notebooks: list[Path]) -> None:
        self.inner.start(notebooks)

    def run_jobs(self, jobs, on_result, **kw):  # type: ignore[no-untyped-def]
        self.calls += 1

        def watch():  # type: ignore[no-untyped-def]
            for job in jobs:
                self.taken.append((job.outputs["html"].parent.name if job.kind == "region_summary"
                                   else job.work_dir.parent.name, job.kind, job.school_id))
                self.first_taken.set()
                yield job

        self.inner.run_jobs(watch(), on_result, **kw)

    def close(self) -> None:
        self.inner.close()


def light_city(root: Path, region_summary: bool = False) -> Path:
    """A 2-county synthetic city (3 schools each) with the light school report, html, robustness
    off; with or without the real region summary."""
    import re

    from evalkit.demo.city import generate_city

    run_file = generate_city(root, counties=2, years=(2024,), sizes=(3, 3), notebooks=ROOT / "notebooks")
    drop = "county_summary" if region_summary else "county_summary|region_summary"
    text = re.sub(rf"  ({drop}): .*\n", "", run_file.read_text(encoding="utf-8"))
    text = re.sub(r"(  school_report: ).*\n", lambda m: f"{m.group(1)}{LIGHT_REPORT}\n", text)
    run_file.write_text(text.replace("[ipynb, html]", "[html]") + "robustness: false\n", encoding="utf-8")
    return run_file


def test_all_counties_reports_go_to_the_executor_in_one_batch(tmp_path: Path) -> None:
    """Every county's reports go to one ``run_jobs`` call, so a cluster's workers never idle at
    the end of one county; each report is still recorded in its own county's manifest."""
    from evalkit.planner.manifest import Manifest
    from evalkit.planner.run import run_batch

    executor = Recording()
    with executor:
        report = run_batch(load_run_file(light_city(tmp_path)), schools=["001"], progress=False, executor=executor)
    assert executor.calls == 1
    assert sorted(executor.taken) == [("东川县", "school_report", "001"), ("西江县", "school_report", "001")]
    assert sorted(o.status for o in report.outcomes) == ["done", "done"]
    for county in ("东川县", "西江县"):
        manifest = Manifest.load(tmp_path / "outputs" / "2024" / county)
        assert [k for k, v in manifest.reports.items() if v["status"] == "done"] == ["school_report:001"]
        assert manifest.data["run"]["state"] == "finished" and manifest.data["run"]["counts"]["done"] == 1


def test_a_countys_reports_start_before_the_next_county_is_opened_and_the_region_summary_joins_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22: the executor takes the first county's reports while the second county is not
    opened yet (its opening waits here until the executor has taken a job: were the counties all
    opened before the first report, as before, the executor would have taken nothing by then),
    and the region summary runs in the same batch on the same executor, recorded in the region's
    manifest like any report."""
    from evalkit.planner import run
    from evalkit.planner.manifest import Manifest

    executor = Recording()
    opened: list[tuple[str, bool]] = []  # (county, had the executor taken a job when it was opened)
    real = run.open_year

    def open_year(county, *args, **kw):  # type: ignore[no-untyped-def]
        waited = executor.first_taken.wait(timeout=120) if opened else executor.first_taken.is_set()
        opened.append((county.county, waited))
        return real(county, *args, **kw)

    monkeypatch.setattr(run, "open_year", open_year)
    with executor:
        report = run.run_batch(load_run_file(light_city(tmp_path, region_summary=True)), progress=False,
                               executor=executor)
    assert opened == [("东川县", False), ("西江县", True)]
    assert executor.calls == 1
    assert sorted(k for k in executor.taken) == sorted(
        [(c, "school_report", s) for c in ("东川县", "西江县") for s in ("001", "002", "003")]
        + [("region", "region_summary", "")])
    assert executor.taken[0][0] == "东川县"
    assert (report.count("done"), report.count("failed")) == (7, 0)
    region = Manifest.load(tmp_path / "outputs" / "2024" / "region")
    entry = region.reports["region_summary"]
    assert entry["status"] == "done" and entry["seconds"] > 0 and entry["outputs"]["html"] == "区域汇总_2024.html"
    assert region.data["run"]["state"] == "finished"


def test_a_county_that_cannot_be_opened_mid_run_stops_the_run_keeping_what_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second county fails while the first county's reports run (as its documents' template
    might): the error is raised, the reports already finished stay recorded with their files,
    the first county's manifest is marked interrupted and nothing partial is left."""
    from evalkit.planner import run
    from evalkit.planner.manifest import Manifest

    real = run.open_year

    def open_year(county, *args, **kw):  # type: ignore[no-untyped-def]
        if county.county == "西江县":
            raise RunError("【西江县】通报模板无法读取")
        return real(county, *args, **kw)

    monkeypatch.setattr(run, "open_year", open_year)
    with pytest.raises(RunError, match="西江县"):
        run.run_batch(load_run_file(light_city(tmp_path)), progress=False)
    east = tmp_path / "outputs" / "2024" / "东川县"
    manifest = Manifest.load(east)
    assert manifest.data["run"]["state"] == "interrupted"
    for key, entry in manifest.reports.items():
        assert entry["status"] == "done" and (east / entry["outputs"]["html"]).is_file(), key
    assert not [p for p in east.rglob("*") if p.name.startswith(".") and p.name != ".lock"]
    assert not (tmp_path / "outputs" / "2024" / "西江县" / "manifest.json").exists()


def test_the_feed_gives_the_dearest_job_available_and_raises_an_error_of_the_opening() -> None:
    """County summaries (several school reports' time) first, then the region summary, school
    reports in the order opened, trend reports last; an error while opening a later county is
    raised to the executor's side after the jobs already taken."""
    from types import SimpleNamespace

    from evalkit.planner.feed import JobFeed
    from evalkit.runtime.job import Job

    def job(kind: str, county: str, school: str = "") -> Job:
        return Job(key=f"{kind}:{school}", kind=kind, school_id=school, school_name="", year=2024,
                   notebook=Path("x.ipynb"), parameters={}, fingerprints={}, work_dir=Path(county) / ".work")

    east = SimpleNamespace(runnable=[job("school_report", "东", "001"), job("school_trend", "东", "001"),
                                     job("county_summary", "东"), job("school_report", "东", "002")])
    west = SimpleNamespace(runnable=[job("school_report", "西", "001"), job("county_summary", "西")])
    region = SimpleNamespace(runnable=[job("region_summary", "区")])
    go_on = threading.Event()

    def opening():  # type: ignore[no-untyped-def]
        yield east
        go_on.wait(timeout=60)
        yield west
        yield region

    feed = JobFeed(opening())
    jobs = iter(feed)
    first = next(jobs)
    assert (first.kind, str(first.work_dir.parent)) == ("county_summary", "东") and first.priority == 3
    go_on.set()
    feed.join()  # everything opened: the rest is available at once
    rest = [(j.kind, str(j.work_dir.parent), j.school_id) for j in jobs]
    assert rest == [("county_summary", "西", ""), ("region_summary", "区", ""), ("school_report", "东", "001"),
                    ("school_report", "东", "002"), ("school_report", "西", "001"), ("school_trend", "东", "001")]
    assert feed.owner(first) is east and feed.opened == [east, west, region]

    def failing():  # type: ignore[no-untyped-def]
        yield west
        raise RunError("【西江县】学校名册无法读取")

    feed = JobFeed(failing())
    with pytest.raises(RunError, match="西江县"):
        list(feed)
    assert feed.opened == [west]


def test_grade_share_labels_contrast_with_their_bars(area: reg.Region) -> None:
    """Each percentage label: white on the dark blue (好) and near-black (差) bars, black on the
    ochre (较好) and rose (一般) ones, on a patch of its bar's colour hiding the hatch. WCAG 2
    contrast ratios of the chosen colour with the bar's: at least 4.5 (the AA level for text)."""
    from matplotlib.colors import to_hex

    from evalkit.charts.fonts import color
    from evalkit.charts.region import grade_shares, relative_luminance

    grades = ["好", "较好", "一般", "差"]
    shares = reg.grade_shares(area, 2024, grades)
    shares.loc[shares["county"] == "西江县", ["好", "差"]] = [1 / 3, 1 / 3]  # a dark 差 segment too
    ax = grade_shares(shares, grades).axes[0]
    labels = [t for t in ax.texts if t.get_text().endswith("%")]
    assert sorted(t.get_text() for t in labels) == sorted(["25%", "25%", "50%", "33%", "33%", "33%"])
    seen = {}
    for t in labels:
        bar = to_hex(t.get_bbox_patch().get_facecolor()).upper()
        text = to_hex(t.get_color()).upper()
        seen[bar] = text
        hi, lo = sorted([relative_luminance(bar), relative_luminance(text)], reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, (t.get_text(), bar, text)
    assert seen == {color(0).upper(): "#FFFFFF", color(1).upper(): "#000000", color(2).upper(): "#000000",
                    color(3).upper(): "#FFFFFF"}
