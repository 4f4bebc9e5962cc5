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
    assert main(["weights", "ahp", f, "--decimals", "3"]) == 0
    out, _ = capsys.readouterr()
    assert "water\t0.327" in out and "coffee\t0.177" in out and "一致性比率 CR = 0.022\n" in out  # as printed


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


# Tuş & Aytaç Adalı (2019), see tests/test_mcda.py: CRITIC 0.157 0.249 0.168 0.121 0.154 0.151,
# here with the five alternatives numbered 001…005 as schools are in the documented layout
CRITIC_ROWS = [[5000, 3, 3, 4, 3, 2], [680, 5, 3, 2, 2, 1], [2000, 3, 2, 3, 4, 3], [600, 4, 3, 1, 2, 2],
               [800, 2, 4, 3, 3, 4]]
CRITIC_WEIGHTS = [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]


def _weights_printed(out: str) -> dict[str, str]:
    lines = out.splitlines()
    start = lines.index("指标\t权重") + 1
    rows = []
    for line in lines[start:]:
        parts = line.split("\t")
        if len(parts) != 2:
            break
        rows.append(parts)
    return dict(rows)


def test_numeric_looking_ids_are_never_a_criterion(tmp_path, capsys):
    body = "\n".join(f"{k + 1:03d}," + ",".join(str(v) for v in row) for k, row in enumerate(CRITIC_ROWS))
    f = tmp_path / "critic.csv"
    f.write_text("学校编号,c1,c2,c3,c4,c5,c6\n" + body + "\n", encoding="utf-8")
    assert main(["weights", "critic", str(f), "--decimals", "3"]) == 0
    w = _weights_printed(capsys.readouterr().out)
    assert list(w) == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert [float(v) for v in w.values()] == CRITIC_WEIGHTS
    # Xu (2004) entropy, ids 001…004: 0.4630 0.3992 0.1378 0.0000 — and more decimals on request
    f2 = tmp_path / "entropy.csv"
    f2.write_text("id,c1,c2,c3,c4\n001,30,30,38,29\n002,19,54,86,29\n003,19,15,85,28.9\n004,68,70,60,29\n",
                  encoding="utf-8")
    assert main(["weights", "entropy", str(f2), "--decimals", "6"]) == 0
    out = capsys.readouterr().out
    w = _weights_printed(out)
    assert list(w) == ["c1", "c2", "c3", "c4"] and "4 所学校，4 个指标；编号列：id" in out
    assert [round(float(v), 4) for v in w.values()] == [0.4630, 0.3992, 0.1378, 0.0]
    assert all(len(v.split(".")[1]) == 6 for v in w.values())


def test_id_column_named_by_id_and_read_from_xlsx(tmp_path, capsys):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "说明"
    wb.active["A1"] = "第一张表不是数据"
    ws = wb.create_sheet("数据")
    ws.append(["c1", "c2", "c3", "编号", "c4", "c5", "c6"])
    for k, row in enumerate(CRITIC_ROWS):
        ws.append([*row[:3], k + 1, *row[3:]])  # ids stored as numbers 1…5: still ids
    path = tmp_path / "critic.xlsx"
    wb.save(path)
    assert main(["weights", "critic", str(path), "--sheet", "数据", "--id", "编号", "--decimals", "3"]) == 0
    w = _weights_printed(capsys.readouterr().out)
    assert list(w) == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert [float(v) for v in w.values()] == CRITIC_WEIGHTS
    assert main(["weights", "critic", str(path), "--sheet", "数据表"]) == 1
    assert "没有工作表“数据表”（有：说明、数据）" in capsys.readouterr().err
    assert main(["weights", "critic", str(path), "--sheet", "数据", "--id", "学校"]) == 1
    assert "没有编号列“学校”" in capsys.readouterr().err


def test_a_text_cell_in_a_criterion_is_reported_with_its_cell(tmp_path, capsys):
    f = tmp_path / "bad.csv"
    f.write_text("id,a,b\n001,1,x\n002,2,9.2e-06\n003,３,\n004,n/a,4\n", encoding="utf-8")
    assert main(["weights", "entropy", str(f)]) == 1
    err = capsys.readouterr().err
    # every bad cell, with its Excel reference; e-notation, full-width digits and blanks are fine
    assert "单元格 C2（b）：“x”不是数字" in err and "单元格 B5（a）：“n/a”不是数字" in err
    assert "C3" not in err and "B4" not in err and "C4" not in err


def test_topsis_opricovic_tzeng_from_the_command_line(tmp_path, capsys):
    # Opricovic & Tzeng (2004), see tests/test_mcda.py: criterion 1 cost, equal weights, min-max
    # normalisation → closeness 0.500, 0.617, 0.500: ranks 2, 1, 2 (ties share the better rank)
    f = tmp_path / "alt.csv"
    f.write_text("方案,f1,f2\n001,1,3000\n002,2,3750\n003,5,4500\n", encoding="utf-8")
    assert main(["weights", "topsis", str(f), "--cost", "f1", "--normalisation", "minmax", "--decimals", "3"]) == 0
    out = capsys.readouterr().out
    assert "方案\t贴近度\t排名\n001\t0.500\t2\n002\t0.617\t1\n003\t0.500\t2" in out
    assert "成本型指标：f1" in out and "等权" in out
    # explicit weights are scaled to sum 1; the same case with 1:1 gives the same closeness
    assert main(["weights", "topsis", str(f), "--cost", "f1", "--normalisation", "minmax", "--decimals", "3",
                 "--weights", "f1=1,f2=1"]) == 0
    assert "002\t0.617\t1" in capsys.readouterr().out
    assert main(["weights", "topsis", str(f), "--weights", "f1=1"]) == 1
    assert "未给出指标 f2 的权重" in capsys.readouterr().err
    assert main(["weights", "topsis", str(f), "--cost", "f9"]) == 1
    assert "没有指标 f9" in capsys.readouterr().err


def test_pca_from_the_command_line_prints_variance_and_loadings(tmp_path, capsys):
    # prcomp(USArrests, scale = TRUE), James et al. (2013) ISLR §10.4 (tests/test_pca.py,
    # tests/fixtures/pca/README.md): sdev 1.5748783 0.9948694 0.5971291 0.4164494, PVE 0.62006039
    # 0.24744129 0.08914080 0.04335752, PC1 -0.5358995 -0.5831836 -0.2781909 -0.5434321 (printed
    # by evalkit oriented to sum ≥ 0)
    from tests.test_pca import USARRESTS, usarrests

    assert main(["weights", "pca", str(USARRESTS), "--decimals", "4"]) == 0
    out, err = capsys.readouterr()
    assert "主成分分析（标准化后按相关矩阵，50 所学校，4 个指标；编号列：State）" in out
    assert ("PC1\t1.5749\t0.6201\t0.6201\nPC2\t0.9949\t0.2474\t0.8675\n"
            "PC3\t0.5971\t0.0891\t0.9566\nPC4\t0.4164\t0.0434\t1.0000\n") in out
    assert "解释 62.0% 的方差" in out
    assert _weights_printed(out) == {"Murder": "0.5359", "Assault": "0.5832", "UrbanPop": "0.2782",
                                     "Rape": "0.5434"}
    assert err == ""
    # a missing cell drops its row (na.omit); a reversed criterion (100 − UrbanPop) loads negatively
    data = usarrests()
    data["UrbanPop"] = 100 - data["UrbanPop"]
    data.loc["Alaska", "Rape"] = None
    f = tmp_path / "reversed.csv"
    data.to_csv(f)
    assert main(["weights", "pca", str(f), "--decimals", "3"]) == 0
    out, err = capsys.readouterr()
    assert "49 所学校，1 行因有缺失值未参与，4 个指标；编号列：State" in out
    assert _weights_printed(out)["UrbanPop"].startswith("-")
    assert "UrbanPop 的权重为负" in err
