"""A published composite index reproduced end to end through a framework file and the CLI: the
ASEM Sustainable Connectivity index, COINr's example (Becker, W., Benavente, D., Dominguez
Torreiro, M., Moura, C., Neves, A., Saisana, M., Vertesy, D. (2022), *COINr: An R package for
developing composite indicators*, JOSS 7(78), 4567; R package COINr, MIT licence).

COINr builds it with ``build_example_coin()`` (``R/examples.R``): ``Denominate`` (iMeta's
denominators) → ``Impute`` (``i_mean_grp`` by ``EurAsia_group``) → ``Screen`` (data
availability ≥ 0.9 on the imputed set: no unit removed) → ``Treat`` (defaults, winmax 5) →
``Normalise`` (min-max 0–100) → ``Aggregate`` (arithmetic means, weights 1). The framework
``tests/data/published/asem-coinr/asem.yaml`` says the same; the data and its provenance:
that folder's README.md.

The publisher's numbers compared at each stage are those printed in COINr's rendered vignettes
(``docs/articles/*.html``, the output of ``vignettes/*.Rmd``):

- imputed — ``imputation.Rmd`` (``Impute(df1, f_i = "i_mean")`` and ``i_median_grp``);
- treated — ``treat.Rmd`` (``Treat(ASEM_iData[c("Flights", "Goods", "Services")])``,
  ``Dets_Table``);
- normalised — ``normalise.Rmd`` (min-max 0–100 of ``Ship``, ten units);
- aggregated — ``aggregate.Rmd`` (``signif(…, 3)`` of the last 11 columns, five units) and
  ``results.Rmd`` (``get_results`` top six and ``get_unit_summary`` of IND, two decimals).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.mcda import treat

HERE = Path(__file__).resolve().parent / "data" / "published" / "asem-coinr"
AGGREGATES = ["Index", "Conn", "Sust", "Physical", "ConEcFin", "Political", "Instit", "P2P", "Environ",
              "Social", "SusEcFin"]

# results.Rmd: get_results(coin, dset = "Aggregated", tab_type = "Aggs"); head(df_results)
RESULTS_HEAD = {
    "CHE": [68.38, 62.79, 73.98, 63.41, 32.87, 74.78, 85.94, 56.93, 77.21, 87.85, 56.88],
    "NLD": [64.82, 61.94, 67.70, 64.87, 46.62, 84.55, 71.74, 41.92, 58.73, 86.58, 57.78],
    "DNK": [64.80, 57.10, 72.51, 50.52, 30.43, 78.13, 75.35, 51.04, 69.83, 86.40, 61.29],
    "NOR": [64.47, 57.44, 71.50, 58.18, 25.70, 80.03, 89.46, 33.80, 70.90, 87.00, 56.59],
    "BEL": [63.54, 63.99, 63.09, 71.97, 48.22, 80.84, 75.60, 43.32, 53.01, 86.17, 50.09],
    "SWE": [63.00, 53.87, 72.12, 51.51, 23.87, 80.98, 74.51, 38.50, 66.37, 87.74, 62.27],
}
# results.Rmd: get_unit_summary(coin, usel = "IND", Levels = c(4,3,2), dset = "Aggregated")
IND_SUMMARY = dict(zip(AGGREGATES, [39.79, 28.60, 50.99, 18.78, 6.38, 51.90, 59.84, 6.07, 75.34, 22.74, 54.88],
                       strict=True))
IND_RANKS = dict(zip(AGGREGATES, [45, 44, 43, 48, 49, 33, 37, 47, 6, 51, 36], strict=True))
# aggregate.Rmd: dset_aggregated[(nc - 10):nc] |> head(5) |> signif(3)  (units in uCode order)
AGG_COLUMNS = ["ConEcFin", "Environ", "Instit", "P2P", "Physical", "Political", "Social", "SusEcFin", "Conn",
               "Sust", "Index"]
AGGREGATED_HEAD = {
    "AUS": [12.6, 31.9, 52.4, 39.50, 34.8, 52.5, 71.9, 55.7, 38.4, 53.2, 45.8],
    "AUT": [26.2, 69.5, 77.5, 54.10, 41.1, 78.2, 72.8, 62.9, 55.4, 68.4, 61.9],
    "BEL": [48.2, 53.0, 75.6, 43.30, 72.0, 80.8, 86.2, 50.1, 64.0, 63.1, 63.5],
    "BGD": [13.3, 81.7, 26.5, 5.85, 22.9, 32.4, 27.5, 64.6, 20.2, 57.9, 39.0],
    "BGR": [24.6, 55.7, 75.9, 27.10, 28.4, 67.5, 53.3, 61.7, 44.7, 56.9, 50.8],
}
# normalise.Rmd: Normalise(coin, dset = "Raw", indiv_specs = …) — Ship keeps the default
# min-max 0–100 (printed to 7 significant digits)
SHIP_NORMALISED = {"AUS": 66.14497, "AUT": 0.0, "BEL": 97.14314, "BGD": 45.80661, "BGR": 37.40495,
                   "BRN": 35.38920, "CHE": 0.0, "CHN": 100.0, "CYP": 55.21211, "CZE": 0.0}
# treat.Rmd: Treat(ASEM_iData[c("Flights", "Goods", "Services")])$Dets_Table
TREAT_TABLE = {
    "Flights": {"before": (2.103287, 4.508879), "nwin": 1, "after": (1.900658, 3.3360647)},
    "Goods": {"before": (2.649973, 8.266610), "nwin": 2, "after": (1.140608, 0.1572047)},
    "Services": {"before": (1.701085, 2.375656), "nwin": None, "after": None},
}


def signif(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}")


def data_file(name: str) -> Path:
    path = HERE / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} 不存在：ASEM 数据须按 {HERE / 'README.md'} 从 COINr 的 data/ASEM_iData.rda 转出 / "
            "the ASEM data file is missing (see the README)"
        )
    return path


@pytest.fixture(scope="module")
def stages(tmp_path_factory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("asem") / "asem.xlsx"
    run = subprocess.run(
        [sys.executable, "-m", "evalkit.cli.app", "score", str(data_file("asem-data.csv")),
         "-f", str(HERE / "asem.yaml"), "-r", str(data_file("asem-registry.csv")), "-o", str(out)],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    book = pd.read_excel(out, sheet_name=None)
    return {name: frame.set_index("学校编号") for name, frame in book.items() if name.startswith("阶段")}


def aggregates(stages: dict[str, pd.DataFrame]) -> pd.DataFrame:
    agg = stages["阶段6 汇总"].rename(columns={"base": "Index"})
    return agg[AGGREGATES]


def test_index_sub_indices_and_pillars_match_get_results(stages):
    agg = aggregates(stages)
    for unit, published in RESULTS_HEAD.items():
        assert agg.loc[unit].round(2).tolist() == published, unit
    assert agg.loc["IND"].round(2).to_dict() == IND_SUMMARY
    ranks = agg.rank(ascending=False, method="min").loc["IND"].astype(int).to_dict()
    assert ranks == IND_RANKS
    top = agg["Index"].sort_values(ascending=False).index[:6].tolist()
    assert top == list(RESULTS_HEAD)
    assert len(agg) == 51


def test_aggregated_data_set_matches_the_aggregate_vignette(stages):
    agg = aggregates(stages)
    for unit, published in AGGREGATED_HEAD.items():
        assert [signif(v, 3) for v in agg.loc[unit, AGG_COLUMNS]] == published, unit


def test_normalised_stage_matches_the_normalise_vignette(stages):
    ship = 100 * stages["阶段5 标准化"]["Ship"]
    treated, imputed = stages["阶段4 极端值处理"]["Ship"], stages["阶段3 插补"]["Ship"]
    assert (treated == imputed).all()  # Ship passes the check, so its normalised raw value is comparable
    for unit, published in SHIP_NORMALISED.items():
        assert signif(ship[unit], 7) == published, unit


def test_stages_chain_denominate_impute_treat_normalise(stages):
    raw, den = stages["阶段1 原始值"], stages["阶段2 分母折算"]
    # Flights ÷ Population (iMeta's Denominator), no unit factor
    assert den["Flights"].to_numpy() == pytest.approx((raw["Flights"] / raw["Population"]).to_numpy(), rel=1e-12)
    # LAO has no Energy: its Elec ratio is missing and imputed with the Asia mean (COINr: NA / x is NA)
    imp = stages["阶段3 插补"]
    reg = pd.read_csv(data_file("asem-registry.csv")).set_index("学校编号")["学校类型"]
    asia = [u for u in reg.index[reg == "Asia"] if u != "LAO"]
    assert np.isnan(den.loc["LAO", "Elec"])
    assert imp.loc["LAO", "Elec"] == pytest.approx(den.loc[asia, "Elec"].mean(), rel=1e-12)


def test_treatment_matches_the_treat_vignettes_details_table():
    raw = pd.read_csv(data_file("asem-data.csv")).pivot(index="学校编号", columns="指标编号", values="值")
    for code, published in TREAT_TABLE.items():
        out, rec = treat.treat_outliers(raw[code].astype(float))
        before = rec.details["before"]
        assert (round(before["skew"], 6), round(before["kurt"], 6)) == pytest.approx(published["before"], abs=1e-6)
        if published["nwin"] is None:
            assert rec.method == "none"
            continue
        assert rec.method == "winsorise" and rec.details["nwin"] == published["nwin"]
        assert int((out != raw[code]).sum()) == published["nwin"]  # distinct points changed
        after = rec.details["after"]
        assert (after["skew"], after["kurt"]) == pytest.approx(published["after"], abs=1e-6)


def test_imputation_matches_the_imputation_vignette():
    """imputation.Rmd prints ``df1 <- ASEM_iData[37:46, 36:39]`` (Pat, CultServ, CultGood,
    Tourist) and its imputations: column means (``i_mean``) and medians within rows groups
    a (first five) and b (``i_median_grp``)."""
    nan = np.nan
    df1 = pd.DataFrame({
        "Pat": [23.7, 583.5, 3.6, 249.8, nan, 64.2, 0.3, nan, 46.5, 7.2],
        "CultServ": [0.13405, 2.20754, 0.05780, 1.79800, nan, 1.15292, 0.00266, 0.08905, 0.34615, 0.03553],
        "CultGood": [nan, 16.182, 0.985, nan, nan, 7.555, 0.046, nan, 1.213, 1.256],
        "Tourist": [11.519, 24.040, 6.509, 17.242, 3.315, 26.757, 0.404, 2.907, 3.370, 0.966],
    })
    means = {c: treat.impute_by_group(df1[c], None, "mean")[0] for c in df1}
    assert round(means["Pat"][4], 2) == 122.35 and round(means["Pat"][7], 2) == 122.35
    assert round(means["CultServ"][4], 7) == 0.6470778
    assert round(means["CultGood"][0], 4) == 4.5395
    groups = pd.Series(["a"] * 5 + ["b"] * 5)
    medians = {c: treat.impute_by_group(df1[c], groups, "median")[0] for c in df1}
    assert medians["Pat"][4] == pytest.approx(136.75) and medians["Pat"][7] == pytest.approx(26.85)
    assert medians["CultServ"][4] == pytest.approx(0.966025)
    assert medians["CultGood"][0] == pytest.approx(8.5835) and medians["CultGood"][7] == pytest.approx(1.2345)
    assert medians["Tourist"].tolist() == df1["Tourist"].tolist()
