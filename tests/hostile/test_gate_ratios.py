"""Values that can be read two ways, and values outside what an indicator can be (issue 10 item 2).

A bare number in a rate column is read in its column's style — fractions (0.85) or
percentages (85) — decided by the column's unambiguous values, else by the sheet's other rate
columns; each reading that is a decision is logged with its cell, and what cannot be decided is
refused with its cell (see :mod:`evalkit.intake.ratios`). Legitimate variants score exactly as
the clean data does.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalkit.api import score_files
from evalkit.demo import demo_observation_paths, demo_registry_path
from evalkit.framework import load_framework
from evalkit.intake import GateError, read_observations
from evalkit.scoring import score

FW = load_framework()
SCHOOLS = ["004", "006", "021", "033"]


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    d = tmp_path_factory.mktemp("ratios")
    reg = pd.read_csv(demo_registry_path(), dtype=str, keep_default_na=False)
    reg[reg["school_id"].isin(SCHOOLS)].to_csv(d / "registry.csv", index=False)
    obs = pd.read_csv(demo_observation_paths(2024)[0], dtype=str, keep_default_na=False)
    obs = obs[obs["school_id"].isin(SCHOOLS)].reset_index(drop=True)
    obs.to_csv(d / "obs.csv", index=False)
    clean = score_files([d / "obs.csv"], FW, d / "registry.csv")
    return {"dir": d, "registry": d / "registry.csv", "obs": obs, "clean": clean}


def rows_of(obs: pd.DataFrame, indicator: str) -> list[int]:
    """The frame rows of an indicator, in file order (self and inspection per school)."""
    return obs.index[obs["indicator_id"] == indicator].tolist()


def with_values(obs: pd.DataFrame, indicator: str, values: list[str]) -> pd.DataFrame:
    out = obs.copy()
    rows = rows_of(out, indicator)
    assert len(rows) == len(values)
    out.loc[rows, "value"] = values
    return out


def read(county, frame: pd.DataFrame, name: str = "obs.csv"):
    path = county["dir"] / name
    frame.to_csv(path, index=False)
    return path, read_observations(path, FW, county["registry"])


def cell(obs: pd.DataFrame, index: int) -> str:
    return f"G{index + 2}"


def value_at(result, c: str):
    return result.observations.set_index("cell").loc[c, "value"]


def action_at(result, c: str) -> str:
    return result.normalisations.set_index("cell").loc[c, "action"]


def totals(results) -> dict[str, float]:
    return dict(zip(results.schools["school_id"], results.schools["total"], strict=True))


# --------------------------------------------------------------------------- decided by the column


def test_a_rate_column_written_as_percentages_scores_as_the_fractions(county):
    a2 = county["obs"].loc[rows_of(county["obs"], "A2"), "value"].astype(float)
    percent = [f"{v * 100:g}" for v in a2]  # 85.3, 85, 100, 100, 100, 100, 80.8, 80
    path, result = read(county, with_values(county["obs"], "A2", percent))
    assert result.errors == []
    first = cell(county["obs"], rows_of(county["obs"], "A2")[0])
    assert action_at(result, first) == "按百分数理解（85.3 → 0.853）"
    assert totals(score_files([path], FW, county["registry"])) == totals(county["clean"])


def test_a_one_in_a_percent_column_is_one_percent_and_logged(county):
    values = ["85", "90", "1", "95", "88", "92", "80", "97"]
    _, result = read(county, with_values(county["obs"], "A2", values))
    c = cell(county["obs"], rows_of(county["obs"], "A2")[2])
    assert result.errors == []
    assert value_at(result, c) == 0.01
    assert action_at(result, c) == "按本列其他值（百分数，如 85、90、95）理解为 1%（1 → 0.01）"


def test_a_one_in_a_fraction_column_is_one_hundred_percent_and_logged(county):
    values = ["0.85", "0.9", "1", "0.95", "0.88", "0.92", "0.8", "0.97"]
    _, result = read(county, with_values(county["obs"], "A2", values))
    c = cell(county["obs"], rows_of(county["obs"], "A2")[2])
    assert result.errors == [] and value_at(result, c) == 1.0
    assert action_at(result, c) == "按本列其他值（0–1 的小数，如 0.85、0.9、0.95）理解为 100%（1 → 1）"


def test_a_fraction_among_percentages_is_read_as_the_column_reads(county):
    values = ["85", "90", "0.5", "95", "88", "92", "80", "97"]
    _, result = read(county, with_values(county["obs"], "A2", values))
    c = cell(county["obs"], rows_of(county["obs"], "A2")[2])
    assert value_at(result, c) == 0.005
    assert action_at(result, c).startswith("按本列其他值（百分数，如 85、90、95）理解为 0.5%")


def test_one_point_two_in_a_fraction_column_is_refused_with_its_cell(county):
    values = ["0.85", "0.9", "1.2", "0.95", "0.88", "0.92", "0.8", "0.97"]
    path, result = read(county, with_values(county["obs"], "A2", values))
    c = cell(county["obs"], rows_of(county["obs"], "A2")[2])
    assert [(p.kind, p.cell, p.value) for p in result.errors] == [("out_of_range", c, "1.2")]
    assert result.errors[0].detail.startswith(
        "的值 1.2 超过 1：本列按 0–1 的小数填写（如 0.85、0.9、0.95），"
        "按小数理解为 120%，超过 100%；若指 1.2% 请写“1.2%”"
    )
    assert c not in set(result.normalisations["cell"])  # no half-made reading left in the log
    with pytest.raises(GateError):
        score_files([path], FW, county["registry"])


def test_a_column_of_ones_takes_the_style_of_the_sheets_other_rate_columns(county):
    values = ["1"] * 8  # A2 alone cannot tell; A4, B4, C4 … of the same sheet are fractions
    _, result = read(county, with_values(county["obs"], "A2", values))
    c = cell(county["obs"], rows_of(county["obs"], "A2")[0])
    assert result.errors == [] and value_at(result, c) == 1.0
    assert action_at(result, c).startswith("按本表各比率列其他值（0–1 的小数，如 ")


def test_a_percent_sign_is_never_in_doubt(county):
    values = ["85.3%", "85%", "100%", "100%", "100%", "100%", "80.8%", "80%"]
    path, result = read(county, with_values(county["obs"], "A2", values))
    assert result.errors == []
    assert totals(score_files([path], FW, county["registry"])) == totals(county["clean"])


def test_full_width_percentages_score_the_same(county):
    a2 = county["obs"].loc[rows_of(county["obs"], "A2"), "value"].astype(float)
    wide = [f"{v * 100:g}％".translate(str.maketrans("0123456789.", "０１２３４５６７８９．")) for v in a2]
    path, result = read(county, with_values(county["obs"], "A2", wide))
    assert result.errors == []
    assert totals(score_files([path], FW, county["registry"])) == totals(county["clean"])


# --------------------------------------------------------------------------- not enough to decide


def tiny(tmp_path: Path, values: list[str], indicator: str = "A2") -> object:
    """A long CSV holding one rate column only (no other rate column to learn from)."""
    rows = ["school_id,year,indicator_id,source,value"]
    rows += [f"00{i + 1},2024,{indicator},inspection,{v}" for i, v in enumerate(values)]
    path = tmp_path / "tiny.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return read_observations(path, FW, None, year=2024)


def test_a_lone_one_is_refused_with_its_cell(tmp_path):
    result = tiny(tmp_path, ["1", "0.9"])
    assert [(p.kind, p.cell) for p in result.errors] == [("ambiguous_value", "E2")]
    assert result.errors[0].detail.startswith("的值 1 无法判断是 100% 还是 1%（本列可供判断的数值不足 2 个）")


def test_a_column_mixing_fractions_and_percentages_is_refused_cell_by_cell(tmp_path):
    result = tiny(tmp_path, ["0.85", "92", "0.9", "88", "0"])
    assert [(p.kind, p.cell) for p in result.errors] == [("ambiguous_value", f"E{r}") for r in (2, 3, 4, 5)]
    assert "本列既有 0–1 的小数（如 0.85、0.9），又有大于 1 的百分数（如 92、88）" in result.errors[0].detail
    assert result.observations["value"].tolist() == [0.0]  # 0 reads the same either way


def test_a_bare_fraction_in_a_short_column_is_read_as_a_fraction_and_logged(tmp_path):
    result = tiny(tmp_path, ["0.92"])
    assert result.errors == []
    assert result.normalisations[["cell", "action"]].values.tolist() == [["E2", "按小数理解（0.92 → 92%）"]]
    assert result.observations["value"].tolist() == [0.92]


# --------------------------------------------------------------------------- outside the possible range


@pytest.mark.parametrize(
    ("indicator", "value", "start"),
    [
        ("A2", "150", "的值 150 超过 100%"),
        ("A2", "-5", "的值 -5 为负数"),
        ("A2", "101%", "的值 101% 超过 100%"),
        ("C9", "120", "的值 120 超过满分 100"),
        ("B1", "2", "的值 2 不是“是/否”"),
        ("A1", "-1", "的值 -1 为负数"),
        ("A1", "2.5", "的值 2.5 不是整数"),
    ],
)
def test_values_outside_what_the_indicator_can_be_are_refused(county, indicator, value, start):
    obs = county["obs"].copy()
    row = rows_of(obs, indicator)[0]
    obs.loc[row, "value"] = value
    _, result = read(county, obs, f"range_{indicator}.csv")
    assert [(p.cell, p.indicator_id) for p in result.errors] == [(cell(obs, row), indicator)]
    assert result.errors[0].detail.startswith(start)


# --------------------------------------------------------------------------- tables in the contract


def contract(county) -> pd.DataFrame:
    return county["obs"].assign(year=2024, value=county["obs"]["value"].map(_number))


def _number(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text


def test_a_contract_table_reads_ratios_as_fractions_without_a_note(county):
    from evalkit.intake import validate_observations
    from evalkit.intake.registry import load_registry

    registry = load_registry(county["registry"])
    validated = validate_observations(contract(county), FW, registry)
    assert validated.intake.normalisations.empty  # 1 is 100% by the contract: nothing to log
    assert totals(score(validated, FW, registry)) == totals(county["clean"])


def test_a_percentage_in_a_contract_table_is_refused(county):
    frame = contract(county)
    row = rows_of(frame, "A2")[0]
    frame.loc[row, "value"] = 85.0
    with pytest.raises(GateError) as err:
        score(frame, FW)
    assert [(p.kind, p.cell) for p in err.value.errors] == [("out_of_range", f"G{row + 2}")]
    assert "的值 85 超过 1" in err.value.errors[0].detail


# --------------------------------------------------------------------------- messy but legitimate


def test_ids_typed_as_numbers_units_and_spaces_score_the_same(county):
    obs = county["obs"].copy()
    obs["school_id"] = obs["school_id"].str.lstrip("0")  # 004 → 4: the registry keeps the zeros
    a1 = rows_of(obs, "A1")
    obs.loc[a1, "value"] = obs.loc[a1, "value"] + "次 "
    path, result = read(county, obs, "messy.csv")
    assert result.errors == []
    assert totals(score_files([path], FW, county["registry"])) == totals(county["clean"])
