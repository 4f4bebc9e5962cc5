"""PCA weights (evalkit.mcda.pca) against a published worked example of PCA on the correlation
matrix: ``prcomp(USArrests, scale = TRUE)`` in James, Witten, Hastie & Tibshirani (2013), *An
Introduction to Statistical Learning*, §10.4 "Lab 1: Principal Components Analysis", p. 401–404.

Data: USArrests (McNeil 1977, *Interactive Data Analysis*, Wiley), typed into
``tests/fixtures/pca/usarrests.csv`` from a published listing; provenance and the lab's printed
output in ``tests/fixtures/pca/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.mcda.pca import PCADataError, pca_weights

USARRESTS = Path(__file__).parent / "fixtures" / "pca" / "usarrests.csv"

# ISLR (2013) §10.4: pr.out$sdev, pve = pr.var / sum(pr.var), and pr.out$rotation as R prints them
ISLR_SDEV = [1.5748783, 0.9948694, 0.5971291, 0.4164494]
ISLR_PVE = [0.62006039, 0.24744129, 0.08914080, 0.04335752]
ISLR_ROTATION = {  # criterion: PC1 … PC4
    "Murder": [-0.5358995, 0.4181809, -0.3412327, 0.64922780],
    "Assault": [-0.5831836, 0.1879856, -0.2681484, -0.74340748],
    "UrbanPop": [-0.2781909, -0.8728062, -0.3780158, 0.13387773],
    "Rape": [-0.5434321, -0.1673186, 0.8177779, 0.08902432],
}


def usarrests() -> pd.DataFrame:
    return pd.read_csv(USARRESTS).set_index("State")


def test_fixture_is_the_published_table():
    data = usarrests()
    assert data.shape == (50, 4) and list(data.columns) == ["Murder", "Assault", "UrbanPop", "Rape"]
    # ISLR p. 402: apply(USArrests, 2, mean) and apply(USArrests, 2, var)
    assert data.mean().round(3).tolist() == [7.788, 170.760, 65.540, 21.232]
    assert np.allclose(data.var(), [18.97047, 6945.16571, 209.51878, 87.72916], rtol=0, atol=5e-6)


def test_pca_weights_islr_usarrests():
    r = pca_weights(usarrests())
    assert r.n_rows == 50 and r.n_dropped == 0
    assert np.allclose(r.sdev, ISLR_SDEV, rtol=0, atol=5e-8)
    assert np.allclose(r.variance_share, ISLR_PVE, rtol=0, atol=5e-9)
    assert np.allclose(r.cumulative_share, np.cumsum(ISLR_PVE), rtol=0, atol=1e-8)
    # summary(pr.out): cumulative proportion 0.6201 0.8675 0.95664 1.00000
    assert r.cumulative_share.round(4).tolist() == [0.6201, 0.8675, 0.9566, 1.0]
    # COINr's weights are the PC1 loadings; R prints PC1 with every loading negative, evalkit
    # orients each axis so its loadings sum to ≥ 0, so the weights are ISLR's PC1 negated
    assert r.weights.round(4).tolist() == [0.5359, 0.5832, 0.2782, 0.5434]
    assert np.allclose(r.weights, [-ISLR_ROTATION[c][0] for c in r.weights.index], rtol=0, atol=5e-8)
    assert np.isclose((r.weights**2).sum(), 1.0)
    # every component: R's column, or R's column negated where R's sums to < 0 (PC1, PC2, PC3)
    for k in range(4):
        published = np.array([ISLR_ROTATION[c][k] for c in r.loadings.index])
        expected = published if published.sum() >= 0 else -published
        assert np.allclose(r.loadings.iloc[:, k], expected, rtol=0, atol=5e-8), r.loadings.columns[k]


def test_a_reversed_criterion_gets_a_negative_weight_and_nothing_else_moves():
    # 100 − UrbanPop (percent not urban) reverses that column's correlations: its loading changes
    # sign on every component and the variances stay as published (ISLR values above)
    data = usarrests()
    data["UrbanPop"] = 100 - data["UrbanPop"]
    r = pca_weights(data)
    assert np.allclose(r.sdev, ISLR_SDEV, rtol=0, atol=5e-8)
    assert r.weights.round(4).tolist() == [0.5359, 0.5832, -0.2782, 0.5434]


def test_rows_with_a_missing_value_are_dropped_as_na_omit_does():
    data = usarrests()
    data.loc["Alaska", "Rape"] = np.nan
    data.loc["Texas", "Murder"] = np.nan
    r = pca_weights(data)
    assert (r.n_rows, r.n_dropped) == (48, 2)
    same = pca_weights(usarrests().drop(index=["Alaska", "Texas"]))
    assert np.allclose(r.sdev, same.sdev) and np.allclose(r.weights, same.weights)
    assert not np.allclose(r.sdev, ISLR_SDEV, rtol=0, atol=1e-4)  # the two states mattered


def test_pca_refuses_a_constant_column_and_too_few_rows():
    with pytest.raises(PCADataError, match="b 各行取值相同"):
        pca_weights(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]}))
    with pytest.raises(PCADataError, match="2 行完整数据"):
        pca_weights(pd.DataFrame({"a": [1.0, np.nan], "b": [2.0, 3.0]}))
