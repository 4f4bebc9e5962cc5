"""The bundled demo county: shipped files reproduce from the seed, the county looks like a real
one, and every observation is canonical and in range."""

from __future__ import annotations

import argparse
import re

import pandas as pd
import pytest

from evalkit.demo import DEMO_DATA_DIR, demo_observation_paths, demo_registry_path, demo_years
from evalkit.demo.generator import (
    INDICATOR_ORDER,
    OBSERVATION_COLUMNS,
    REGISTRY_COLUMNS,
    cli_generate,
    generate,
)
from evalkit.framework import load_framework

YEARS = [2022, 2023, 2024]
SHIPPED = ["registry.csv", *(f"observations_{y}.csv" for y in YEARS)]
FW = load_framework()
RATING_IDS = {i.id for i in FW.indicators if i.data_type == "rating"}
SURVEY_IDS = {"C9", "E7"}
ITEMS = {"C5": {"warning", "violation"}, "C7": {"province", "city"}}


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def registry() -> pd.DataFrame:
    return _read(demo_registry_path())


@pytest.fixture(scope="module")
def obs() -> pd.DataFrame:
    return pd.concat([_read(p) for p in demo_observation_paths()], ignore_index=True)


# -- reproducibility and files ------------------------------------------------------------------


def test_generator_reproduces_the_shipped_files_byte_for_byte(tmp_path):
    paths = generate(tmp_path)
    assert [p.name for p in paths] == SHIPPED
    for name in SHIPPED:
        assert (tmp_path / name).read_bytes() == (DEMO_DATA_DIR / name).read_bytes(), name


def test_a_year_does_not_depend_on_the_other_years_generated(tmp_path):
    generate(tmp_path, years=(2024,))
    name = "observations_2024.csv"
    assert (tmp_path / name).read_bytes() == (DEMO_DATA_DIR / name).read_bytes()
    assert not (tmp_path / "observations_2022.csv").exists()


def test_cli_generate_writes_the_seeded_county_and_other_seeds_differ(tmp_path, capsys):
    assert cli_generate(argparse.Namespace(seed=None, output=str(tmp_path / "a"))) == 0
    assert (tmp_path / "a" / "observations_2023.csv").read_bytes() == (
        DEMO_DATA_DIR / "observations_2023.csv"
    ).read_bytes()
    assert "20240901" in capsys.readouterr().out
    assert cli_generate(argparse.Namespace(seed=7, output=str(tmp_path / "b"))) == 0
    assert (tmp_path / "b" / "observations_2023.csv").read_bytes() != (
        tmp_path / "a" / "observations_2023.csv"
    ).read_bytes()
    assert not list((tmp_path / "b").glob(".*.tmp")), "temporary files left behind"


def test_files_are_utf8_with_unix_newlines_and_exact_headers():
    for name in SHIPPED:
        raw = (DEMO_DATA_DIR / name).read_bytes()
        text = raw.decode("utf-8")
        assert "\r" not in text and text.endswith("\n") and not raw.startswith(b"\xef\xbb\xbf")
        header = text.split("\n", 1)[0].split(",")
        assert header == (REGISTRY_COLUMNS if name == "registry.csv" else OBSERVATION_COLUMNS)


def test_demo_paths_api():
    assert demo_years() == YEARS
    assert demo_registry_path() == DEMO_DATA_DIR / "registry.csv"
    assert [p.name for p in demo_observation_paths()] == SHIPPED[1:]
    assert demo_observation_paths(2023) == [DEMO_DATA_DIR / "observations_2023.csv"]
    with pytest.raises(FileNotFoundError, match="2022, 2023, 2024"):
        demo_observation_paths(1999)


# -- the county -----------------------------------------------------------------------------------


def test_county_composition_and_sizes(registry):
    counts = registry["school_type"].value_counts().to_dict()
    assert counts["高中"] == 2 and counts["职高"] == 1
    assert 5 <= counts["初中"] <= 7 and 4 <= counts["九年一贯制"] <= 6 and 18 <= counts["小学"] <= 32
    assert set(counts) == {"高中", "职高", "初中", "九年一贯制", "小学"}
    assert 45 <= len(registry) <= 55  # assessed K-12 units of a county of this kind

    assert registry["school_id"].tolist() == [f"{i:03d}" for i in range(1, len(registry) + 1)]
    assert registry["school_name"].is_unique and registry["school_name"].str.contains("[\u4e00-\u9fff]").all()
    num = registry[["pupils", "staff", "party_members"]].astype(int)
    names = registry["school_name"]
    village = names.str.match(r"^.+镇.+小学$") & ~names.str.contains("中心")
    town = registry["school_name"].str.contains("城关第|实验小学")
    central = registry["school_name"].str.contains("中心小学")
    high = registry["school_type"] == "高中"
    assert village.sum() >= 10 and town.sum() >= 3 and central.sum() >= 4
    assert num.loc[village, "pupils"].between(150, 800).all()
    assert num.loc[village, "party_members"].between(3, 8).all()
    assert num.loc[town, "pupils"].between(1500, 3300).all()
    assert num.loc[central, "party_members"].between(15, 40).all()
    assert num.loc[high, "pupils"].between(2000, 4000).all()
    assert num.loc[high, "party_members"].between(40, 120).all()
    assert (num["staff"] < num["pupils"] / 5).all()
    # joint branches of village primaries; every school has a branch
    assert registry["branch"].str.endswith(("党委", "党总支", "党支部")).all()
    assert registry["branch"].value_counts().max() == 2
    assert (registry["active_from"] == "2022").all() and (registry["active_to"] == "").all()


# -- observations -------------------------------------------------------------------------------


def test_every_school_indicator_year_is_observed_with_the_right_sources(obs, registry):
    assert INDICATOR_ORDER == [i.id for i in FW.indicators]
    assert set(obs["indicator_id"]) <= FW.known_ids
    assert sorted(obs["year"].unique()) == [str(y) for y in YEARS]
    base = obs[obs["indicator_id"].isin(INDICATOR_ORDER)]
    seen = set(zip(base["school_id"], base["year"], base["indicator_id"], strict=True))
    expected = {(s, str(y), i) for s in registry["school_id"] for y in YEARS for i in INDICATOR_ORDER}
    assert seen == expected

    groups = base.groupby(["school_id", "year", "indicator_id"])
    for (_, _, ind), g in groups:
        sources = g["source"].tolist()
        if ind in SURVEY_IDS:
            assert sources == ["survey"]
        elif ind in RATING_IDS:
            insp = g[g["source"] == "inspection"]
            assert sources.count("self") == 1 and 3 <= len(insp) <= 5
            assert insp["rater"].tolist() == [f"R{k}" for k in range(1, len(insp) + 1)]
        elif ind in ITEMS:
            for source in ("self", "inspection"):
                assert set(g.loc[g["source"] == source, "item"]) == ITEMS[ind]
            assert len(g) == 4
        else:
            assert sources == ["self", "inspection"] and (g["rater"] == "").all() and (g["item"] == "").all()
    assert not obs.duplicated(["school_id", "year", "indicator_id", "item", "source", "rater"]).any()


def test_values_are_canonical_and_in_range(obs):
    for ind in FW.indicators:
        values = obs.loc[obs["indicator_id"] == ind.id, "value"]
        if ind.data_type in ("count", "number"):
            assert values.str.fullmatch(r"\d+").all(), ind.id
            assert values.astype(int).max() <= (ind.plausible_max or 1000), ind.id
        elif ind.data_type == "ratio":
            assert values.str.fullmatch(r"0(\.\d{1,3})?|1").all(), ind.id
        elif ind.data_type == "yesno":
            assert set(values) <= {"0", "1"}, ind.id
        elif ind.data_type == "rating":
            assert set(values) <= {"A", "B", "C", "D"}, ind.id
        elif ind.data_type == "level":
            assert set(values) <= {"province", "city", "county", "none"}, ind.id
        elif ind.data_type == "score":
            assert values.str.fullmatch(r"\d{1,3}\.\d").all(), ind.id
            assert values.astype(float).between(0, 100).all(), ind.id
        else:  # pragma: no cover - a new data type needs a check here
            raise AssertionError(ind.data_type)

    special = obs[obs["indicator_id"].str.match("^[XV]")]
    assert (special["source"] == "inspection").all() and (special["evidence"] != "").all()
    x1 = special.loc[special["indicator_id"] == "X1", "value"]
    assert set(x1) <= {"national", "province", "city"}
    assert special.loc[special["indicator_id"].isin(["X2", "X3"]), "value"].isin(["1", "2"]).all()
    vetoes = special[special["indicator_id"].str.startswith("V")]
    assert set(vetoes["indicator_id"]) <= {"V1", "V2", "V3", "V4"} and (vetoes["value"] == "1").all()
    per_year = special.groupby("year")
    assert per_year["indicator_id"].apply(lambda s: s.str.startswith("X").sum()).between(3, 20).all()
    assert vetoes.groupby("year").size().between(1, 3).all()
    # V5 (parents' satisfaction < 50) happens through E7, in one year
    e7 = obs.loc[obs["indicator_id"] == "E7", "value"].astype(float)
    assert 1 <= (e7 < 50).sum() <= 3
    # Chinese evidence notes on some rows, and evidence only on a minority of them
    noted = (obs["evidence"] != "").mean()
    assert 0.05 < noted < 0.4
    assert obs.loc[obs["evidence"] != "", "evidence"].str.contains("[\u4e00-\u9fff]").all()


def _insp(obs: pd.DataFrame, ind: str, item: str = "") -> pd.Series:
    rows = obs[(obs["indicator_id"] == ind) & (obs["source"] == "inspection") & (obs["item"] == item)]
    return rows["value"].astype(float)


def test_per_school_counts_follow_assessment_practice(obs):
    assert _insp(obs, "A1").between(6, 14).all()
    assert _insp(obs, "A3").between(9, 12).all()
    assert _insp(obs, "D2").between(2, 8).all()
    assert _insp(obs, "E4").between(2, 4).all()
    assert _insp(obs, "E6").between(1, 4).all()
    assert _insp(obs, "E3").between(0.6, 0.95).all()
    assert _insp(obs, "C5", "warning").between(0, 2).all() and (_insp(obs, "C5", "warning") == 0).mean() > 0.7
    city = obs[(obs["indicator_id"] == "C7") & (obs["source"] == "inspection") & (obs["item"] == "city")]
    assert city.groupby("year")["value"].apply(lambda s: s.astype(int).sum()).between(5, 15).all()


def test_self_assessment_is_slightly_inflated_and_small_schools_miss_meetings(obs, registry):
    numeric = obs[obs["indicator_id"].isin(["A1", "A3", "A5", "B5", "D2"]) & (obs["rater"] == "")]
    wide = numeric.pivot_table(
        index=["school_id", "year", "indicator_id"], columns="source", values="value", aggfunc="first"
    ).astype(float)
    diff = wide["self"] - wide["inspection"]
    assert (diff >= 0).all() and 0.2 < diff.mean() < 1.0

    small = set(registry.loc[registry["party_members"].astype(int) < 10, "school_id"])
    for ind in ("A1", "A3", "B5"):
        rows = obs[(obs["indicator_id"] == ind) & (obs["source"] == "inspection")]
        is_small = rows["school_id"].isin(small)
        values = rows["value"].astype(float)
        assert values[is_small].mean() < values[~is_small].mean(), ind


def test_scored_grade_distribution_is_plausible_and_schools_are_consistent(obs, registry):
    from evalkit.scoring import score

    frame = obs.assign(year=obs["year"].astype(int), value=obs["value"].astype(object))
    reg = registry.assign(
        **{c: registry[c].astype(int) for c in ("pupils", "staff", "party_members", "active_from")},
        active_to=pd.to_numeric(registry["active_to"]),
    )
    schools = score(frame, FW, reg).schools
    for year, s in schools.groupby("year"):
        # targets 好 20–35%, 较好 30–45%, 一般 20–35%, 差 ≤ 10%; a school's margin either way
        share = s["grade"].value_counts(normalize=True)
        assert 0.175 <= share.get("好", 0) <= 0.35, year
        assert 0.275 <= share.get("较好", 0) <= 0.475, year
        assert 0.175 <= share.get("一般", 0) <= 0.375, year
        assert share.get("差", 0) <= 0.1 and 1 <= s["veto"].sum() <= 3, year
    totals = schools.pivot(index="school_id", columns="year", values="base")
    # a latent quality that drifts: schools keep their standing from year to year, the county improves
    assert totals[2022].corr(totals[2023]) > 0.6 and totals[2023].corr(totals[2024]) > 0.6
    assert totals[2022].mean() < totals[2024].mean()


def test_row_order_is_stable_school_then_framework_order(obs):
    order = {ind: k for k, ind in enumerate([*INDICATOR_ORDER, "X1", "X2", "X3", "V1", "V2", "V3", "V4"])}
    for _, g in obs.groupby("year", sort=False):
        keys = list(zip(g["school_id"], g["indicator_id"].map(order), strict=True))
        assert keys == sorted(keys)
    assert all(re.fullmatch(r"\d{3}", s) for s in obs["school_id"].unique())
