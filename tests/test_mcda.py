"""The numerics of evalkit.mcda against published values (each test names its source)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.mcda import ahp, fuzzy, objective, treat
from evalkit.mcda.topsis import topsis

# Saaty (2008) "Decision making with the analytic hierarchy process", Int. J. Services Sciences
# 1(1):83-98, Table 2 "Which drink is consumed more in the US?" (rows/columns: coffee, wine, tea,
# beer, sodas, milk, water). Derived priorities printed there: .177 .019 .042 .116 .190 .129 .327;
# CR 0.022 with Saaty's RI (the value AHPy's test suite also reproduces, tests/test_ahpy.py).
DRINKS = ["coffee", "wine", "tea", "beer", "sodas", "milk", "water"]
DRINKS_MATRIX = [
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
]

# Saaty (1990) "How to make a decision: the analytic hierarchy process", European Journal of
# Operational Research 48:9-26, the house example, Table 2 (eight criteria: size, transportation,
# neighbourhood, age, yard, modern facilities, general condition, financing): priorities
# .173 .054 .188 .018 .031 .036 .167 .333, λmax = 9.669, C.I. = 0.238, C.R. = 0.169 — inconsistent.
HOUSE = ["size", "transport", "neighbourhood", "age", "yard", "facilities", "condition", "financing"]
HOUSE_MATRIX = [
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
]


def test_random_index_is_saatys_table():
    # Saaty (1980) The Analytic Hierarchy Process, McGraw-Hill: RI for n = 1..10
    assert [ahp.RANDOM_INDEX[n] for n in range(1, 11)] == [0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def test_ahp_drinks_saaty_2008():
    r = ahp.ahp_weights(DRINKS_MATRIX, DRINKS)
    assert [round(w, 3) for w in r.weights] == [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
    assert round(r.cr, 3) == 0.022
    assert r.consistent
    assert ahp.require_consistent(r) is r


def test_ahp_house_saaty_1990_is_refused_with_the_worst_pair():
    r = ahp.ahp_weights(HOUSE_MATRIX, HOUSE)
    assert [round(w, 3) for w in r.weights] == [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]
    assert round(r.lambda_max, 3) == 9.669
    assert round(r.ci, 3) == 0.238
    assert round(r.cr, 3) == 0.169
    # neighbourhood is judged 6× as important as general condition, though their weights are
    # nearly equal (.188 vs .167): by far the largest deviation |ln(a_ij w_j / w_i)|
    assert r.worst_pair == ("neighbourhood", "condition")
    with pytest.raises(ahp.InconsistentMatrix, match=r"CR = 0\.169.*neighbourhood 与 condition"):
        ahp.require_consistent(r)


def test_ahp_consistent_matrix_has_cr_zero_by_both_methods():
    w = np.array([0.5, 0.3, 0.2])
    a = w[:, None] / w[None, :]
    for method in ("eigenvector", "geometric"):
        r = ahp.ahp_weights(a, ["x", "y", "z"], method=method)
        assert np.allclose(r.weights, w)
        assert abs(r.lambda_max - 3) < 1e-9 and abs(r.cr) < 1e-9


def test_ahp_geometric_mean_close_to_eigenvector_on_drinks():
    g = ahp.ahp_weights(DRINKS_MATRIX, DRINKS, method="geometric")
    e = ahp.ahp_weights(DRINKS_MATRIX, DRINKS)
    assert np.abs(np.array(g.weights) - np.array(e.weights)).max() < 0.01
    # row geometric means by hand for water: (2·9·9·3·2·3·1)^(1/7)
    gm = np.exp(np.log(np.array(DRINKS_MATRIX)).mean(axis=1))
    assert g.weights[-1] == pytest.approx(gm[-1] / gm.sum())


def test_ahp_experts_geometric_mean():
    m1 = [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]
    m2 = [[1, 8, 1], [1 / 8, 1, 1 / 8], [1, 8, 1]]
    combined = ahp.combine_experts([m1, m2])
    assert combined[0, 1] == pytest.approx(4.0)  # √(2·8)
    assert combined[1, 0] == pytest.approx(0.25)
    assert combined[0, 2] == pytest.approx(2.0)  # √(4·1)


def test_ahp_rejects_non_reciprocal_matrix():
    with pytest.raises(ahp.MatrixError, match="不互反"):
        ahp.check_matrix([[1, 3], [3, 1]], ["a", "b"])
    with pytest.raises(ahp.MatrixError, match="方阵"):
        ahp.check_matrix([[1, 3, 1], [1 / 3, 1, 1]], ["a", "b"])


def test_entropy_xu_2004_and_zavadskas_podvezko_2016():
    # Xu (2004) EJOR 156(2):530-532 — weights 0.4630, 0.3992, 0.1378, 0.0000 (sum normalisation);
    # the values crispyn's tests reproduce (tests/test_weighting_methods.py)
    x = pd.DataFrame([[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]])
    assert objective.entropy_weights(x).round(4).tolist() == [0.4630, 0.3992, 0.1378, 0.0]
    # Zavadskas & Podvezko (2016) IJITDM 15(2):267-283 — 0.1146, 0.1981, 0.4185, 0.2689
    x = pd.DataFrame([[3.0, 100, 10, 7], [2.5, 80, 8, 5], [1.8, 50, 20, 11], [2.2, 70, 12, 9]])
    assert objective.entropy_weights(x).round(4).tolist() == [0.1146, 0.1981, 0.4185, 0.2689]


def test_critic_tus_aytac_adali_2019():
    # Tuş & Aytaç Adalı (2019) Opsearch 56(2):528-538, CRITIC weights of the time-and-attendance
    # software problem: 0.157, 0.249, 0.168, 0.121, 0.154, 0.151 (min-max normalisation)
    x = pd.DataFrame([[5000, 3, 3, 4, 3, 2], [680, 5, 3, 2, 2, 1], [2000, 3, 2, 3, 4, 3],
                      [600, 4, 3, 1, 2, 2], [800, 2, 4, 3, 3, 4]])
    assert objective.critic_weights(x).round(3).tolist() == [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]


def test_topsis_opricovic_tzeng_2004():
    # Opricovic & Tzeng (2004) EJOR 156(2):445-455, the three-alternative example (criterion 1
    # cost, criterion 2 benefit, equal weights): TOPSIS 0.500, 0.617, 0.500 (min-max
    # normalisation; the reference pymcdm's TestTOPSIS reproduces)
    x = pd.DataFrame({"f1": [1.0, 2.0, 5.0], "f2": [3000.0, 3750.0, 4500.0]})
    c = topsis(x, {"f1": 0.5, "f2": 0.5}, benefit={"f1": False}, normalisation="minmax")
    assert c.round(3).tolist() == [0.5, 0.617, 0.5]


def test_topsis_vector_normalisation_by_hand():
    x = pd.DataFrame({"a": [1.0, 2.0, 5.0], "b": [3000.0, 3750.0, 4500.0]})
    c = topsis(x, {"a": 0.5, "b": 0.5}, benefit={"a": False})
    # by hand: r_a = x/√30, r_b = x/√43312500; v = r/2; ideal (min a, max b)
    ra, rb = np.array([1, 2, 5]) / np.sqrt(30) / 2, np.array([3000, 3750, 4500]) / np.sqrt(43312500) / 2
    dp = np.sqrt((ra - ra.min()) ** 2 + (rb - rb.max()) ** 2)
    dm = np.sqrt((ra - ra.max()) ** 2 + (rb - rb.min()) ** 2)
    assert np.allclose(c, dm / (dp + dm))


# 司守奎、孙玺菁《数学建模算法与应用》(国防工业出版社, 2011) 第 8 章 服装评判例 (Example8_4):
# factors 花色、式样、耐穿程度、价格; grades 很欢迎、较欢迎、不太欢迎、不欢迎. With the
# main-factor model M(∧,∨) the book prints B1 = (0.2, 0.3, 0.4, 0.1) (不太欢迎) and
# B2 = (0.35, 0.4, 0.2, 0.1) (较欢迎); reproduced at e-com-net.com/article/1276296104417181696.htm.
CLOTHES_R = np.array([[0.2, 0.5, 0.2, 0.1], [0.7, 0.2, 0.1, 0.0], [0.0, 0.4, 0.5, 0.1], [0.2, 0.3, 0.5, 0.0]])
CLOTHES_GRADES = ["很欢迎", "较欢迎", "不太欢迎", "不欢迎"]


def test_fuzzy_clothing_example_main_factor_model():
    r = np.stack([CLOTHES_R, CLOTHES_R])  # two customer groups, one matrix
    b1 = fuzzy.compose(r[:1], [0.1, 0.2, 0.3, 0.4], "max_min")
    b2 = fuzzy.compose(r[1:], [0.4, 0.35, 0.15, 0.1], "max_min")
    assert b1.round(4).tolist() == [[0.2, 0.3, 0.4, 0.1]]
    assert b2.round(4).tolist() == [[0.35, 0.4, 0.2, 0.1]]
    assert fuzzy.max_membership(np.vstack([b1, b2]), CLOTHES_GRADES).tolist() == ["不太欢迎", "较欢迎"]


def test_fuzzy_weighted_average_on_the_same_example_by_hand():
    b = fuzzy.compose(CLOTHES_R[None], [0.1, 0.2, 0.3, 0.4])
    # b_j = Σ a_i r_ij: 0.1·0.2 + 0.2·0.7 + 0.3·0 + 0.4·0.2 = 0.24, ...
    assert b.round(4).tolist() == [[0.24, 0.33, 0.39, 0.04]]
    assert fuzzy.weighted_score(b, [1.0, 0.8, 0.6, 0.4]).round(4).tolist() == [0.754]


def test_fuzzy_membership_from_bands_and_ratings():
    m = fuzzy.membership_from_bands(np.array([0.95, 0.8, 0.5, np.nan]), [0.9, 0.75, 0.6, 0.4])
    assert m[0].tolist() == [1, 0, 0, 0]
    assert np.allclose(m[1], [1 / 3, 2 / 3, 0, 0])
    assert np.allclose(m[2], [0, 0, 0.5, 0.5])
    assert np.isnan(m[3]).all()
    assert fuzzy.membership_from_ratings(np.array([[3, 1, 1, 0]])).tolist() == [[0.6, 0.2, 0.2, 0.0]]


def test_coinr_skew_kurt_check_and_winsorisation():
    # COINr's winsorise() example (R/treat.R): x <- c(1:10, 30, 100) fails the check
    x = pd.Series([*range(1, 11), 30, 100], dtype=float)
    assert abs(x.skew()) >= 2 and x.kurt() >= 3.5
    assert not treat.passes(x.to_numpy())
    out, rec = treat.treat_outliers(x)
    assert rec.method == "winsorise"
    # by hand: skew > 0, so the maximum 100 takes the next value 30; then skew is 1.71 < 2: done
    s = pd.Series([*range(1, 11), 30, 30], dtype=float)
    assert abs(s.skew()) < 2
    assert out.tolist() == s.tolist()
    assert rec.changed == {11: (100.0, 30.0)}


def test_log_fallback_when_winsorisation_is_not_enough():
    x = pd.Series([1.0] * 20 + [50.0, 100.0, 1000.0, 10000.0])
    out, rec = treat.treat_outliers(x, winmax=1)
    assert rec.method == "log"
    span = 10000.0 - 1.0
    assert out.iloc[-1] == pytest.approx(np.log(10000.0 - 1.0 + 0.01 * span))


def test_impute_by_group_mean_and_normalise_by_group():
    v = pd.Series([1.0, np.nan, 3.0, 10.0, np.nan, np.nan])
    g = pd.Series(["a", "a", "a", "b", "b", "c"])
    out, rec = treat.impute_by_group(v, g)
    assert out.tolist() == [1.0, 2.0, 3.0, 10.0, 10.0, np.mean([1.0, 3.0, 10.0])]
    assert set(rec.changed) == {1, 4, 5}
    n, _ = treat.normalise(out, "minmax", groups=g)
    assert n.tolist() == [0.0, 0.5, 1.0, 1.0, 1.0, 1.0]
