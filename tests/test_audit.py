"""The framework audit (evalkit.analysis.audit): published worked examples for Cronbach's α,
ICC(2,k) and Kendall's W, and its findings on the demo county (with a planted lenient rater)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.analysis import audit
from evalkit.framework import load_framework
from evalkit.observations import coerce_observations
from evalkit.robustness import build_model
from evalkit.scoring import score

# Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
# reliability. Psychological Bulletin 86(2), 420–428. Table 2: six targets rated by four judges.
SHROUT_FLEISS = pd.DataFrame(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    columns=["J1", "J2", "J3", "J4"], dtype=float,
)


def test_icc2k_reproduces_shrout_and_fleiss_table_4() -> None:
    """Shrout & Fleiss (1979) Table 4: ICC(2,4) = .62 for the Table 2 data."""
    icc, lo, hi = audit.icc2k(SHROUT_FLEISS)
    assert icc == pytest.approx(0.62, abs=0.005)
    assert lo < icc < hi


def test_cronbach_alpha_reproduces_shrout_and_fleiss_icc_3k() -> None:
    """Cronbach's α equals the consistency ICC(3,k) (McGraw & Wong 1996, Psychological Methods
    1(1), 30–46): for the judges of Shrout & Fleiss' Table 2 as items, Table 4 gives ICC(3,4) = .91."""
    alpha, lo, hi = audit.cronbach_alpha(SHROUT_FLEISS)
    assert alpha == pytest.approx(0.91, abs=0.005)
    assert lo < alpha < hi


def test_cronbach_alpha_of_a_hand_worked_table() -> None:
    """Items A, B, C for five respondents: item variances 0.7, 0.8, 0.7 (sum 2.2), variance of
    the totals (10, 9, 13, 8, 12) 4.3: α = 3/2 × (1 − 2.2/4.3) = 0.73256."""
    items = pd.DataFrame({"A": [3, 2, 4, 3, 4], "B": [4, 3, 4, 2, 4], "C": [3, 4, 5, 3, 4]}, dtype=float)
    assert audit.cronbach_alpha(items)[0] == pytest.approx(1.5 * (1 - 2.2 / 4.3), abs=1e-9)


def test_kendall_w_reproduces_the_strawberry_example() -> None:
    """InfluentialPoints, "Kendall coefficient of concordance" (worked example I): four raters
    rank eight farms' strawberries; rank sums 31 12 12 15 22 5 22 25, SS = 500,
    W = 500 / (4² (8³ − 8) / 12) = 0.744."""
    ranks = pd.DataFrame({
        "A": [8, 4, 2, 3, 5, 1, 6, 7], "B": [7, 3, 1, 4, 5, 2, 6, 8],
        "C": [8, 2, 5, 6, 7, 1, 4, 3], "D": [8, 3, 4, 2, 5, 1, 6, 7],
    }, dtype=float)
    w, lo, hi = audit.kendall_w(ranks, n_resamples=200)
    assert w == pytest.approx(500 / 672, abs=1e-9)
    assert lo <= w <= hi


# --------------------------------------------------------------------------- the demo county


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    from evalkit.api import demo_inputs
    from evalkit.intake import read_observations
    from evalkit.intake.registry import load_registry

    data, reg = demo_inputs()
    fw = load_framework()
    registry = load_registry(reg)
    obs = coerce_observations(read_observations(data, fw, registry).observations)
    return obs, fw, registry, score(obs, fw, registry)


def _marks(obs, fw, results):  # type: ignore[no-untyped-def]
    return build_model(obs, fw, results, 2024).marks


def test_a_planted_lenient_inspector_is_flagged(demo) -> None:  # type: ignore[no-untyped-def]
    """Inspector R2 of the demo's 2024 data made lenient: each of R2's ratings one grade better
    (D→C, C→B, B→A). R2 alone is flagged, above the others; the demo as generated flags no one."""
    obs, fw, registry, results = demo
    assert not audit.rater_leniency(_marks(obs, fw, results))["flag"].any()

    planted = obs.copy()
    r2 = (planted["year"] == 2024) & (planted["rater"] == "R2")
    planted.loc[r2, "value"] = planted.loc[r2, "value"].map({"D": "C", "C": "B", "B": "A", "A": "A"})
    assert (planted.loc[r2, "value"] != obs.loc[r2, "value"]).sum() > 20
    res = score(planted, fw, registry)
    table = audit.rater_leniency(_marks(planted, fw, res)).set_index("rater")
    assert table["flag"].tolist() == [False, True, False, False, False]
    assert table.at["R2", "mean_deviation"] > 0.05 and table.at["R2", "z"] > 2
    assert "R2" in table.at["R2", "advice"] and "偏宽" in table.at["R2", "advice"]
    findings = audit.audit_findings(res, 2024, _marks(planted, fw, res))
    assert "评分人 R2" in findings.loc[findings["topic"] == "评分人宽严", "subject"].tolist()


def test_demo_audit_findings(demo) -> None:  # type: ignore[no-untyped-def]
    """D6 廉政问题: every demo school has full marks (zero variance); the rating items' raters
    agree well (ICC(2,k) ≥ 0.75 over the 48 schools × 3 raters every school had)."""
    obs, fw, _, results = demo
    nd = audit.non_discriminating(results, 2024).set_index("indicator_id")
    assert nd.at["D6", "flag"] and nd.at["D6", "variance"] == 0 and "所有学校得分相同" in nd.at["D6", "advice"]
    assert not nd.at["A1", "flag"]
    areas, dropped = audit.cronbach_by_area(results, 2024)
    assert len(areas) == 5 and areas["alpha"].between(-1, 1).all()
    assert set(dropped["indicator_id"]) == {i.id for i in fw.indicators}
    irr = audit.inter_rater(_marks(obs, fw, results), n_resamples=50)
    assert irr["indicator_id"].tolist() == ["A6", "B2", "C1"]
    assert (irr["n_schools"] == 48).all() and (irr["n_raters"] == 3).all()
    assert (irr["icc"] >= 0.75).all() and (irr["kendall_w"].between(0, 1)).all()
    corr = audit.indicator_correlations(results, 2024)
    assert corr.shape == (37, 37) and corr.loc["D6"].isna().all()


def test_redundant_and_negative_pairs_are_flagged(demo) -> None:  # type: ignore[no-untyped-def]
    """A copy of A1's points as A2's gives r = 1 (redundant); A3 = max − A1 gives r = −1 within
    area A (pulling against its area)."""
    _, _, _, results = demo
    ind = results.indicators.copy()
    a1 = ind[(ind["indicator_id"] == "A1")].set_index(["school_id", "year"])["points"]
    for target, f in (("A2", lambda p: p), ("A3", lambda p: 4 - p)):
        at = ind["indicator_id"] == target
        ind.loc[at, "points"] = f(a1.reindex(pd.MultiIndex.from_frame(ind.loc[at, ["school_id", "year"]]))).to_numpy()
    from dataclasses import replace

    pairs = audit.redundant_pairs(replace(results, indicators=ind), 2024)
    got = {(r.indicator_a, r.indicator_b): r.kind for r in pairs.itertuples()}
    assert got[("A1", "A2")] == "redundant" and got[("A1", "A3")] == "redundant"
    assert np.isclose(pairs.set_index(["indicator_a", "indicator_b"]).at[("A1", "A3"), "r"], -1.0)


def test_vectorised_w_for_the_bootstrap_equals_scipys_friedman_w() -> None:
    """The bootstrap's many-samples W (with ties: ratings on a 4-point scale) is the same
    number as the point estimate from scipy's tie-corrected Friedman χ²."""
    rng = np.random.default_rng(5)
    samples = rng.integers(0, 4, size=(20, 12, 3)).astype(float)
    many = audit._w_many(samples)
    for b in range(len(samples)):
        assert many[b] == pytest.approx(audit.kendall_w(pd.DataFrame(samples[b]), n_resamples=0)[0], abs=1e-12)


def test_tie_sums_count_each_run_of_equal_ratings() -> None:
    """Worked by hand: a rater's column (1, 1, 2, 2, 2) has runs of 2 and 3: (8 − 2) + (27 − 3)
    = 30; a column without ties adds 0; a column of four equal values and one other adds
    64 − 4 = 60. Two raters per sample: (30 + 0) and (60 + 30)."""
    x = np.array([
        [[1, 5], [1, 4], [2, 3], [2, 2], [2, 1]],
        [[7, 2], [7, 2], [7, 9], [7, 9], [3, 9]],
    ], dtype=float)
    assert audit._tie_sums(x).tolist() == [30.0, 90.0]


def test_trim_mean_is_scipys_to_the_last_bit() -> None:
    """The leniency's trimmed mean takes scipy's steps, so its numbers (and the flags on them)
    are scipy's exactly: 2 to 12 marks, with and without ties, at 20% cut."""
    from scipy import stats

    rng = np.random.default_rng(11)
    for size in range(1, 13):
        for _ in range(30):
            a = rng.choice([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 0.1, 0.7], size=size)
            assert audit._trim_mean(a, 0.2) == float(stats.trim_mean(a, 0.2))
    assert audit._trim_mean(np.array([1.0, 2.0, 3.0, 4.0, 100.0]), 0.2) == 3.0  # 1 and 100 cut


def test_run_checks_gives_the_tables_each_check_gives(demo) -> None:  # type: ignore[no-untyped-def]
    """The audit report computes every check once (run_checks); each table is the one its check
    function gives, and the findings are those of audit_findings (which skips W's bootstrap:
    no finding uses W's interval)."""
    obs, fw, _, results = demo
    marks = _marks(obs, fw, results)
    tables = audit.run_checks(results, 2024, marks, n_resamples=50)
    areas, dropped = audit.cronbach_by_area(results, 2024)
    pd.testing.assert_frame_equal(tables.areas, areas)
    pd.testing.assert_frame_equal(tables.dropped, dropped)
    pd.testing.assert_frame_equal(tables.correlations, audit.indicator_correlations(results, 2024))
    pd.testing.assert_frame_equal(tables.pairs, audit.redundant_pairs(results, 2024))
    pd.testing.assert_frame_equal(tables.discrimination, audit.non_discriminating(results, 2024))
    pd.testing.assert_frame_equal(tables.inter_rater, audit.inter_rater(marks, n_resamples=50))
    pd.testing.assert_frame_equal(tables.leniency, audit.rater_leniency(marks))
    pd.testing.assert_frame_equal(tables.shape, audit.distribution_shape(results, 2024))
    pd.testing.assert_frame_equal(tables.outliers, audit.outlier_schools(results, 2024))
    findings = audit.findings_of(tables)
    pd.testing.assert_frame_equal(findings, audit.audit_findings(results, 2024, marks))
    assert "D6 廉政问题" in "".join(findings["subject"])  # every school full marks: does not discriminate
    without = audit.run_checks(results, 2024)
    assert without.inter_rater.empty and without.leniency.empty
    assert "评分人一致性" not in set(audit.findings_of(without)["topic"])
