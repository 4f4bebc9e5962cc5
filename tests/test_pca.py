"""PCA weights (evalkit.mcda.pca) against COINr's published get_PCA output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.mcda.pca import PCADataError, pca_weights

# COINr's vignette "Analysis" (docs/articles/analysis.html, COINr 1.x, bluefoxr/COINr): PCA of the
# raw ASEM indicators in each group of the "Sust" sub-index, get_PCA(coin, dset = "Raw",
# iCodes = "Sust", out2 = "list"): "Removing 1 rows" (Environ), "14 rows" (Social), "7 rows"
# (SusEcFin); wts Environ -0.581 0.214 -0.543 -0.313 0.473, Social -0.417 -0.324 0.401 -0.191
# 0.302 …, SusEcFin 0.472 0.451 -0.492 -0.227 -0.53; summary(Social PCA) prints the standard
# deviations and proportions of variance below. Data: COINr's ASEM_iData (data/ASEM_iData.rda,
# MIT licence), the 19 indicators of "Sust" as tests/fixtures/coinr_asem_sustainability.csv.
ASEM_GROUPS = {
    "Environ": ["CO2", "Forest", "MatCon", "PrimEner", "Renew"],
    "Social": ["CPI", "FemLab", "FreePress", "NGOs", "Palma", "Poverty", "TertGrad", "TolMin", "WomParl"],
    "SusEcFin": ["GDPGrow", "NEET", "PrivDebt", "PubDebt", "RDExp"],
}


def asem_sustainability() -> pd.DataFrame:
    path = Path(__file__).parent / "fixtures" / "coinr_asem_sustainability.csv"
    return pd.read_csv(path, dtype={"uCode": str}).set_index("uCode")


def test_pca_weights_coinr_get_pca_asem():
    data = asem_sustainability()
    published = {
        "Environ": ([-0.581, 0.214, -0.543, -0.313, 0.473], 1),
        "Social": ([-0.417, -0.324, 0.401, -0.191, 0.302], 14),
        "SusEcFin": ([0.472, 0.451, -0.492, -0.227, -0.53], 7),
    }
    for group, (wts, dropped) in published.items():
        r = pca_weights(data[ASEM_GROUPS[group]])
        assert r.n_dropped == dropped and r.n_rows == 51 - dropped
        # R's prcomp returns the axis with whichever sign LAPACK gives; evalkit orients it so the
        # loadings sum to ≥ 0 — all three published vectors sum to < 0, so they come out negated
        assert sum(wts) < 0
        assert r.weights.round(3).tolist()[: len(wts)] == [-w + 0.0 for w in wts]
        assert np.isclose((r.weights**2).sum(), 1.0)
    social = pca_weights(data[ASEM_GROUPS["Social"]])
    sdev = [2.2042, 1.1256, 0.9788, 0.78834, 0.77153, 0.56836, 0.42463, 0.36068, 0.25760]
    share = [0.5398, 0.1408, 0.1065, 0.06905, 0.06614, 0.03589, 0.02003, 0.01445, 0.00737]
    cumulative = [0.5398, 0.6806, 0.7871, 0.85611, 0.92225, 0.95814, 0.97817, 0.99263, 1.0]
    assert np.allclose(social.sdev, sdev, rtol=0, atol=5e-5)
    # R rounds the proportions to 5 decimals, then prints 4 significant digits (0.106446 → 0.1065)
    assert np.allclose(social.variance_share, share, rtol=0, atol=6e-5)
    assert np.allclose(social.cumulative_share, cumulative, rtol=0, atol=6e-5)


def test_pca_refuses_a_constant_column_and_too_few_rows():
    with pytest.raises(PCADataError, match="b 各行取值相同"):
        pca_weights(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]}))
    with pytest.raises(PCADataError, match="2 行完整数据"):
        pca_weights(pd.DataFrame({"a": [1.0, np.nan], "b": [2.0, 3.0]}))
