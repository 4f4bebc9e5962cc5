"""``evalkit weights``: AHP matrices, entropy and CRITIC from CSV files."""

from __future__ import annotations

from tests.test_mcda import DRINKS, DRINKS_MATRIX, HOUSE, HOUSE_MATRIX

from evalkit.cli.app import main


def _write_matrix(path, names, matrix, fractions=True):  # type: ignore[no-untyped-def]
    def cell(v: float) -> str:
        return f"1/{round(1 / v)}" if fractions and v < 1 else f"{v:g}"

    lines = ["," + ",".join(names)]
    lines += [name + "," + ",".join(cell(v) for v in row) for name, row in zip(names, matrix, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_ahp_inconsistent_matrix_exits_non_zero_and_prints_cr(tmp_path, capsys):
    f = _write_matrix(tmp_path / "house.csv", HOUSE, HOUSE_MATRIX)
    assert main(["weights", "ahp", f]) == 1
    out, err = capsys.readouterr()
    assert "一致性比率 CR = 0.1691" in out  # Saaty (1990): C.R. = 0.169
    assert "最大特征值 λmax = 9.6689" in out
    assert "neighbourhood 与 condition" in err


def test_ahp_consistent_matrix_prints_weights(tmp_path, capsys):
    f = _write_matrix(tmp_path / "drinks.csv", DRINKS, DRINKS_MATRIX)
    assert main(["weights", "ahp", f]) == 0
    out, _ = capsys.readouterr()
    assert "water\t0.3268" in out and "coffee\t0.1775" in out  # Saaty (2008): .327, .177
    assert "一致性比率 CR = 0.0223" in out and "通过一致性检验" in out


def test_ahp_two_experts_and_a_bad_cell(tmp_path, capsys):
    a = _write_matrix(tmp_path / "a.csv", ["x", "y"], [[1, 4], [0.25, 1]])
    b = _write_matrix(tmp_path / "b.csv", ["x", "y"], [[1, 1], [1, 1]])
    assert main(["weights", "ahp", a, b]) == 0
    out, _ = capsys.readouterr()
    assert "2 位专家" in out and "x\t0.6667" in out  # geometric mean 2 → weights 2/3, 1/3
    (tmp_path / "bad.csv").write_text(",x,y\nx,1,three\ny,1/3,1\n", encoding="utf-8")
    assert main(["weights", "ahp", str(tmp_path / "bad.csv")]) == 1
    assert "第 2 行 x 对 y" in capsys.readouterr().err


def test_entropy_and_critic_from_data_csv(tmp_path, capsys):
    # Xu (2004), see tests/test_mcda.py: entropy weights 0.4630 0.3992 0.1378 0.0000
    (tmp_path / "d.csv").write_text(
        "school,c1,c2,c3,c4\nA,30,30,38,29\nB,19,54,86,29\nC,19,15,85,28.9\nD,68,70,60,29\n", encoding="utf-8"
    )
    assert main(["weights", "entropy", str(tmp_path / "d.csv")]) == 0
    out, _ = capsys.readouterr()
    assert "c1\t0.4630" in out and "c4\t0.0000" in out and "4 所学校" in out
    assert main(["weights", "critic", str(tmp_path / "d.csv"), "--lower-better", "c4"]) == 0
    assert "CRITIC" in capsys.readouterr().out
    assert main(["weights", "critic", str(tmp_path / "d.csv"), "--lower-better", "zz"]) == 1
