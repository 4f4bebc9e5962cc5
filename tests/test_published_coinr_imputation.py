"""COINr's imputation vignette, typed in from its published page: the ten-by-four excerpt of the
ASEM data it prints and the imputed values it prints (Becker, W. et al. (2022), *COINr: An R
package for developing composite indicators*, JOSS 7(78), 4567; COINr 1.1.14 documentation,
article "Imputation", https://bluefoxr.github.io/COINr/articles/imputation.html, sections
"Imputation in COINr" (``Impute(df1, f_i = "i_mean")``) and the group median
(``i_median_grp``) example).

The whole ASEM data set is not in the repository (it would be a copy of COINr's ``data/``);
the reproduction of COINr's full ASEM index was checked by hand instead, see
``docs/methods.md`` ("Checked by hand against COINr").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.mcda import treat


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
