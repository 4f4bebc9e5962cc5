"""Outlier treatment exactly as COINr's default ``Treat()``, one test per rule.

Source: COINr (Becker, W. et al., MIT licence, github.com/bluefoxr/COINr), file ``R/treat.R``
— functions ``Treat.numeric``, ``Treat.data.frame`` (the defaults), ``winsorise``,
``check_SkewKurt``, ``skew``, ``kurt``, ``log_CT`` — and the vignette ``vignettes/treat.Rmd``
(rendered output in ``docs/articles/treat.html``), whose printed values are used below.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evalkit.mcda import treat


def excel_skew(x: np.ndarray) -> float:
    """Excel SKEW written out: n/((n−1)(n−2)) Σ((x−mean)/s)³, s the sample sd."""
    n, s = len(x), x.std(ddof=1)
    return n / ((n - 1) * (n - 2)) * float(np.sum(((x - x.mean()) / s) ** 3))


def excel_kurt(x: np.ndarray) -> float:
    """Excel KURT written out."""
    n, s = len(x), x.std(ddof=1)
    a = n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * float(np.sum(((x - x.mean()) / s) ** 4))
    return a - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


VIGNETTE = np.array([*range(1, 11), 30, 100], dtype=float)
"""``x <- c(1:10, 30, 100)`` of vignettes/treat.Rmd."""


def test_skew_and_kurtosis_are_coinrs_type_2_as_printed_in_the_vignette():
    """R/treat.R ``skew``/``kurt`` (e1071 type 2). vignettes/treat.Rmd prints
    ``skew(x) 3.063241`` and ``kurt(x) 9.741391`` for ``c(1:10, 30, 100)``."""
    assert round(treat.skewness(VIGNETTE), 6) == 3.063241
    assert round(treat.kurtosis(VIGNETTE), 6) == 9.741391
    assert treat.skewness(VIGNETTE) == pytest.approx(excel_skew(VIGNETTE), rel=1e-12)
    assert treat.kurtosis(VIGNETTE) == pytest.approx(excel_kurt(VIGNETTE), rel=1e-12)
    # R/treat.R: "need min 3 points" (skew) and "min 4 points" (kurt); missing values removed
    assert math.isnan(treat.skewness(np.array([1.0, 2.0])))
    assert math.isnan(treat.kurtosis(np.array([1.0, 2.0, 9.0])))
    with_nan = np.append(VIGNETTE, np.nan)
    assert treat.skewness(with_nan) == treat.skewness(VIGNETTE)


def test_check_fails_only_when_skew_and_kurtosis_are_both_beyond():
    """R/treat.R ``check_SkewKurt``: ``(abs(sk) < skew_thresh) | (kt < kurt_thresh)``, defaults
    2 and 3.5 (``Treat.data.frame``'s ``f_pass_para``). 30 zeros and 5 ones: skew
    √35·(150/49)/(30/7)^1.5 · √(35·34)/33 = 2.1338 ≥ 2, but kurtosis
    ((36)(r−3)+6)·34/(33·32) with r = 35·(6510/2401)/(30/7)² = 31/6 gives 84·34/1056 = 2.705
    < 3.5: passes, untreated."""
    x = np.array([0.0] * 30 + [1.0] * 5)
    assert treat.skewness(x) == pytest.approx(2.1338, abs=1e-4)
    assert treat.kurtosis(x) == pytest.approx(84 * 34 / 1056, rel=1e-12)
    assert treat.check_skew_kurt(x) is True
    out, rec = treat.treat_outliers(pd.Series(x))
    assert rec.method == "none" and out.tolist() == x.tolist()
    # the vignette's vector fails (Pass FALSE, skew 3.06, kurt 9.74)
    assert treat.check_skew_kurt(VIGNETTE) is False


def test_vignette_example_one_point_winsorised_as_printed():
    """vignettes/treat.Rmd: ``Treat(x, f1 = "winsorise", f1_para = list(winmax = 2))`` — "one
    point from x has been Winsorised (reassigned the next highest value)"; the treated vector
    prints ``Skew 1.712038``, ``Kurt 1.815781``, ``Pass TRUE``."""
    out, rec = treat.treat_outliers(pd.Series(VIGNETTE), winmax=2)
    assert out.tolist() == [*range(1, 11), 30.0, 30.0]
    assert rec.method == "winsorise" and rec.details["nwin"] == 1 and rec.to_meta()["n_changed"] == 1
    assert round(rec.details["after"]["skew"], 6) == 1.712038
    assert round(rec.details["after"]["kurt"], 6) == 1.815781
    assert rec.details["passes"] is True


def test_winsorised_points_are_counted_once_so_four_rounds_fit_in_winmax_5():
    """R/treat.R ``winsorise``: ``nwin <- sum(length(imax) + length(imin))`` — the points at the
    maximum *in the current round*, which already include the points winsorised before (they
    tie at the new maximum). The issue's case: adding up the rounds (1 + 2 + 3 = 6 ≥ 5) stops
    after three rounds and falls back to the log; COINr counts 1, 2, 3, 4 distinct points and
    passes in round four.

    x = 30 zeros and 1, 2, 4, 8, 16 (n = 35, default winmax 5, skew ≥ 0 throughout: the high
    side):

    ====== ================================ ====== ====== ============ ====
    round  values above 0 after the round   skew   kurt   check        nwin
    ====== ================================ ====== ====== ============ ====
    0      1, 2, 4, 8, 16                   4.259  19.355 fails        0
    1      16 → 8:  1, 2, 4, 8, 8           3.286  10.177 fails        1
    2      8, 8 → 4: 1, 2, 4, 4, 4          2.692   5.980 fails        2
    3      4, 4, 4 → 2: 1, 2, 2, 2, 2       2.316   3.740 fails        3
    4      2, 2, 2, 2 → 1: 1, 1, 1, 1, 1    2.134   2.705 passes       4
    ====== ================================ ====== ====== ============ ====

    Round 4 by hand: mean 5/35 = 1/7; deviations 6/7 (five times) and −1/7 (30 times):
    Σd² = (5·36 + 30)/49 = 30/7, Σd³ = (5·216 − 30)/343 = 150/49, Σd⁴ = (5·1296 + 30)/2401 =
    6510/2401; skew = √35 · (150/49) / (30/7)^1.5 · √(35·34)/33 = 2.134; r = 35 Σd⁴/(Σd²)² =
    31/6, kurtosis = (36 · (31/6 − 3) + 6) · 34 / (33 · 32) = 84 · 34/1056 = 2.705 < 3.5: passes.
    Four distinct points changed (the values 2, 4, 8 and 16 all become 1): 30 zeros and five
    ones.
    """
    x = np.array([0.0] * 30 + [1.0, 2.0, 4.0, 8.0, 16.0])
    out, rec = treat.treat_outliers(pd.Series(x))
    assert rec.method == "winsorise"
    assert out.tolist() == [0.0] * 30 + [1.0] * 5
    assert rec.details["nwin"] == 4
    assert rec.to_meta()["n_changed"] == 4
    assert rec.changed == {31: (2.0, 1.0), 32: (4.0, 1.0), 33: (8.0, 1.0), 34: (16.0, 1.0)}
    # the table above, computed with Excel's formulas written out (a different code path)
    y = x.copy()
    shapes = []
    for _ in range(5):
        shapes.append((round(excel_skew(y), 3), round(excel_kurt(y), 3)))
        y[y == y.max()] = y[y < y.max()].max()
    assert shapes == [(4.259, 19.355), (3.286, 10.177), (2.692, 5.98), (2.316, 3.74), (2.134, 2.705)]


def test_log_ct_of_the_original_values_when_winmax_is_reached():
    """R/treat.R ``Treat.numeric``: when ``f_pass`` still fails after ``f1``, ``f2`` is applied to
    the *original* x (``combine_treat = FALSE``: "x1 <- x"); the default ``f2`` is ``log_CT``:
    ``log(x - min(x) + 0.01*(max(x) - min(x)))``. Same x as above with ``winmax = 3``: the loop
    stops at nwin = 3 (still failing), so x becomes ln(x − 0 + 0.01·16) = ln(x + 0.16):
    0 → ln 0.16 = −1.8326, 16 → ln 16.16 = 2.7826; the result is kept (its check recorded)."""
    x = np.array([0.0] * 30 + [1.0, 2.0, 4.0, 8.0, 16.0])
    out, rec = treat.treat_outliers(pd.Series(x), winmax=3)
    assert rec.method == "log"
    assert out.to_numpy() == pytest.approx(np.log(x + 0.16), rel=1e-12)
    assert out.iloc[0] == pytest.approx(-1.8326, abs=1e-4) and out.iloc[-1] == pytest.approx(2.7826, abs=1e-4)
    assert rec.details["nwin_tried"] == 3
    assert rec.details["passes"] == treat.check_skew_kurt(np.log(x + 0.16))
    # without a fallback (COINr with f2 = NULL: "x2 <- x1") the winsorised values are kept
    kept, rec2 = treat.treat_outliers(pd.Series(x), winmax=3, log_fallback=False)
    assert rec2.method == "winsorise" and rec2.details["passes"] is False
    assert kept.tolist() == [0.0] * 30 + [1.0, 2.0, 2.0, 2.0, 2.0]


def test_negative_skew_winsorises_the_minimum():
    """R/treat.R ``winsorise``: ``if(skew(x) >= 0)`` the maximum, ``else`` "skew is negative,
    implies low outliers": ``x[imin] <- min(x[-imin])``. The mirror image of the vector above:
    −16, −8, −4, −2 all become −1 (four rounds, nwin 4)."""
    x = -np.array([0.0] * 30 + [1.0, 2.0, 4.0, 8.0, 16.0])
    out, rec = treat.treat_outliers(pd.Series(x))
    assert rec.method == "winsorise" and rec.details["nwin"] == 4
    assert out.tolist() == [-0.0] * 30 + [-1.0] * 5


def test_tied_extremes_are_winsorised_together_and_may_exceed_winmax():
    """R/treat.R ``winsorise``: ``imax <- which(x == max(x))`` — every point tied at the maximum
    takes ``max(x[-imax])`` in one round ("it is possible we Winsorise two points at once if
    they are tied"); the loop tests ``nwin < winmax`` only before a round, so with winmax 1
    both 100s of 1…20, 100, 100 (skew 2.82, kurtosis 7.13: fails) become 20 (nwin 2)."""
    x = pd.Series([*range(1, 21), 100.0, 100.0])
    assert treat.check_skew_kurt(x.to_numpy()) is False
    out, rec = treat.treat_outliers(x, winmax=1)
    assert out.tolist() == [*range(1, 21), 20.0, 20.0]
    assert rec.details["nwin"] == 2 and set(rec.changed) == {20, 21}


def test_defaults_are_coinrs_and_zero_winmax_goes_straight_to_the_log():
    """R/treat.R ``Treat.data.frame`` defaults (and R/qfuncs.R ``qTreat.data.frame``'s:
    ``winmax = 5, skew_thresh = 2, kurt_thresh = 3.5, f2 = "log_CT"``); the vignette sets
    ``winmax = 0`` "to force it to be log-transformed"."""
    import inspect

    sig = inspect.signature(treat.treat_outliers).parameters
    assert (sig["winmax"].default, sig["skew_max"].default, sig["kurt_max"].default) == (5, 2.0, 3.5)
    assert sig["log_fallback"].default is True
    out, rec = treat.treat_outliers(pd.Series(VIGNETTE), winmax=0)
    assert rec.method == "log" and rec.details["nwin_tried"] == 0
    assert out.to_numpy() == pytest.approx(np.log(VIGNETTE - 1 + 0.99), rel=1e-12)


def test_missing_values_are_left_out_and_stay_missing():
    """``Treat.data.frame`` passes ``na.rm = TRUE`` to ``winsorise``, ``check_SkewKurt`` and
    ``log_CT``: missing values are ignored by the check and the extremes and stay missing."""
    x = pd.Series([np.nan, *VIGNETTE, np.nan])
    out, rec = treat.treat_outliers(x, winmax=2)
    assert math.isnan(out.iloc[0]) and math.isnan(out.iloc[-1])
    assert out.iloc[1:-1].tolist() == [*range(1, 11), 30.0, 30.0]
    assert set(rec.changed) == {12}


def test_undefined_check_leaves_the_indicator_untreated():
    """R/treat.R ``Treat.numeric``: "f_pass has returned NA. Returning untreated vector." — with
    two values skew and kurtosis are NA (``skew``: "need min 3 points"), and a constant vector
    has no spread (0/0 in R is NaN, ``abs(NaN) < 2`` is NA). With three values the type-2
    skewness is at most √3·(1/√2)... = 1.732 < 2, so ``TRUE | NA`` passes."""
    assert treat.check_skew_kurt(np.array([1.0, 50.0])) is None
    assert treat.check_skew_kurt(np.array([5.0] * 6)) is None
    assert treat.check_skew_kurt(np.array([1.0, 1.0, 50.0])) is True
    assert treat.skewness(np.array([1.0, 1.0, 50.0])) == pytest.approx(math.sqrt(3), rel=1e-12)
    for x in (pd.Series([1.0, 50.0]), pd.Series([5.0] * 6)):
        out, rec = treat.treat_outliers(x)
        assert rec.method == "none" and out.tolist() == x.tolist() and rec.details["passes"] is None
