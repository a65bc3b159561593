"""Before/after comparisons and the interrupted time series against R
(tests/reference_before_after.R), textbook values, and simulations with known effects."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sqresearch import compare, power
from sqresearch.its import default_lags, interrupted_time_series
from sqresearch.survival import logrank

RTOL = 1e-6
BEFORE = [14.2, 9.8, 22.5, 11.1, 17.9, 13.4, 25.7, 10.2, 16.8, 12.5, 19.3, 15.1]
AFTER = [10.4, 8.1, 15.2, 9.9, 12.7, 11.8, 7.4, 13.6, 9.2, 14.1]
UB = [3.1, 2.8, 4.0, 3.5, 2.2, 3.9, 3.3, 2.7, 3.6, 3.0]
UA = [3.6, 3.0, 4.4, 3.4, 2.9, 4.3, 3.9, 2.9, 3.8, 3.7]


def test_welch_matches_t_test():
    r = compare.welch(BEFORE, AFTER).iloc[0]
    # R: t.test(after, before) -> t, df, p, conf.int
    assert_allclose([r.statistic, r.df, r.p_value, r.ci_low, r.ci_high],
                    [-2.6974046154073879, 17.3524895903186831, 0.0150647698308386,
                     -7.9579071126127019, -0.9787595540539645], rtol=RTOL)
    assert r.estimate == pytest.approx(np.mean(AFTER) - np.mean(BEFORE))
    assert r.effect < 0 and r.effect_low < r.effect < r.effect_high


def test_log_ratio_matches_exp_of_t_test_on_logs():
    r = compare.log_ratio(BEFORE, AFTER).iloc[0]
    # R: exp(t.test(log(after), log(before))$conf.int); exp(mean(log a) - mean(log b))
    assert_allclose([r.ci_low, r.ci_high, r.estimate],
                    [0.570224342962990, 0.929969920873141, 0.728211155575930], rtol=RTOL)
    with pytest.raises(ValueError, match="positive"):
        compare.log_ratio([1.0, 0.0], [1.0, 2.0])


@pytest.mark.parametrize("after, w, p", [
    (AFTER, 27.0, 0.0299607513229804),  # R: wilcox.test(after, before) (exact)
    (AFTER + [10.2], 28.5, 0.0227411585786388),  # R: wilcox.test(c(after, 10.2), before) (ties)
])
def test_mann_whitney_matches_wilcox_test(after, w, p):
    r = compare.mann_whitney(BEFORE, after).iloc[0]
    assert_allclose([r.statistic, r.p_value], [w, p], rtol=RTOL)
    assert r.effect == pytest.approx(2 * w / (len(after) * len(BEFORE)) - 1)
    assert -1 <= r.effect_low < r.effect < r.effect_high <= 1


def test_paired_tests_match_r():
    t = compare.paired_t(UB, UA).iloc[0]
    # R: t.test(ua, ub, paired = TRUE) -> t, df, p, conf.int
    assert_allclose([t.statistic, t.df, t.p_value, t.ci_low, t.ci_high],
                    [4.66962194695852961, 9.0, 0.00116921482373217, 0.19591235187182229,
                     0.56408764812817769], rtol=RTOL)
    w = compare.wilcoxon_signed_rank(UB, UA).iloc[0]
    # R: wilcox.test(ua, ub, paired = TRUE) -> V = 54, p = 0.00800430976224058 (ties: normal)
    assert_allclose([w.statistic, w.p_value], [54.0, 0.00800430976224058], rtol=RTOL)


def test_two_proportions_matches_prop_test_and_newcombe():
    r = compare.two_proportions(380, 500, 412, 500).iloc[0]
    # R: prop.test(c(412, 380), c(500, 500), correct = FALSE) -> X-squared 6.216006216, p
    assert_allclose([r.statistic ** 2, r.p_value], [6.2160062160062166, 0.0126600376878244],
                    rtol=RTOL)
    # Newcombe (1998), Stat Med 17:873, Table II example (56/70 vs 48/80), method 10:
    # difference 0.2000, 95 % CI 0.0524 to 0.3339
    t = compare.two_proportions(48, 80, 56, 70).iloc[0]
    assert t.estimate == pytest.approx(0.2)
    assert_allclose([t.ci_low, t.ci_high], [0.0524, 0.3339], atol=5e-5)


def test_mcnemar_matches_r():
    mb = [1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0]
    ma = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1]
    r = compare.mcnemar(mb, ma).iloc[0]
    # R: mcnemar.test(table(factor(mb, 0:1), factor(ma, 0:1))) -> 3.125, 0.077099871743542
    assert_allclose([r.statistic, r.p_value], [3.125, 0.077099871743542], rtol=RTOL)
    assert r.estimate == pytest.approx((7 - 1) / 20)


def test_nps_difference_adds_variances():
    rng = np.random.default_rng(2)
    b, a = rng.integers(0, 11, 400), rng.integers(3, 11, 300)
    r = compare.nps_difference(b, a).iloc[0]
    from sqresearch.describe import nps
    v0, *_, se0, _ = nps(b)
    v1, *_, se1, _ = nps(a)
    assert r.estimate == pytest.approx(v1 - v0)
    assert (r.ci_high - r.ci_low) / 2 == pytest.approx(1.959963984540054 * math.hypot(se0, se1))


def test_logrank_matches_survdiff():
    time = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43,
            45]
    status = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    group = ["Maintained"] * 11 + ["Nonmaintained"] * 12
    chi2, p, table = logrank(time, np.array(status, bool), group)
    # R: survdiff(Surv(time, status) ~ x, data = aml) -> chisq 3.3963886989776; obs 7, 11;
    # exp 10.68933599230072, 7.31066400769928
    assert chi2 == pytest.approx(3.39638869897760, rel=RTOL)
    assert_allclose(table["observed"], [7, 11])
    assert_allclose(table["expected"], [10.68933599230072, 7.31066400769928], rtol=RTOL)


def test_power_mde_matches_r():
    # R: power.t.test(n = 40, sd = 1, power = 0.8, tol = 1e-12)$delta
    assert power.mde_means(40, 40, 1.0) == pytest.approx(0.634299302926519, rel=RTOL)
    # R: power.t.test(n = 25, sd = 2, power = 0.8, type = "paired", tol = 1e-12)$delta
    assert power.mde_means(25, 25, 2.0, paired=True) == pytest.approx(1.1680547140114, rel=RTOL)
    # R: power.prop.test(n = 300, p1 = 0.7, power = 0.8, tol = 1e-12)$p2 - 0.7
    assert power.mde_proportions(0.7, 300, 300) == pytest.approx(0.798927105742109 - 0.7,
                                                                 rel=RTOL)


def test_holm_matches_p_adjust():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.20, 0.001), "holm")
    assert_allclose(compare.holm([0.01, 0.04, 0.03, 0.20, 0.001]),
                    [0.040, 0.090, 0.090, 0.200, 0.005], rtol=RTOL)
    assert np.isnan(compare.holm([0.01, np.nan])[1])


def test_bootstrap_is_seeded_and_covers_a_known_shift():
    rng = np.random.default_rng(11)
    b = rng.lognormal(np.log(10), 0.8, 600)
    a = rng.lognormal(np.log(6), 0.8, 600)  # true medians 10 and 6
    r1 = compare.bootstrap(b, a, "median_difference", 999, "BCa", seed=5).iloc[0]
    r2 = compare.bootstrap(b, a, "median_difference", 999, "BCa", seed=5).iloc[0]
    assert (r1.ci_low, r1.ci_high) == (r2.ci_low, r2.ci_high)
    assert r1.ci_low <= -4 <= r1.ci_high
    pct = compare.bootstrap(b, a, "median_pct_change", 999, "percentile", seed=5).iloc[0]
    assert pct.ci_low <= -40 <= pct.ci_high and "percentile bootstrap" in pct.method


def test_its_matches_r_newey_west():
    y = [50.2, 51.8, 49.5, 52.3, 53.1, 51.0, 54.2, 52.8, 53.9, 55.1, 54.0, 56.3, 55.2, 56.8,
         48.1, 47.5, 46.9, 47.8, 46.2, 45.9, 46.8, 45.1, 44.7, 45.6, 44.0, 43.8, 44.5, 43.1]
    dates = [np.datetime64("2026-01-05") + np.timedelta64(7 * i, "D") for i in range(28)]
    res = interrupted_time_series(dates, y, dates[14], lags=3)  # a lag given: Newey–West
    c = res.coefficients
    # R: coef(lm(y ~ tt + post + since)) (tests/reference_before_after.R)
    assert_allclose(c["estimate"], [50.248571428571388, 0.469450549450552, -8.809450549450565,
                                    -0.822857142857145], rtol=RTOL)
    # R: sqrt(diag(NeweyWest(fit, lag = 3, prewhite = FALSE, adjust = TRUE))), the adjust = FALSE
    #    values of reference_before_after.R times sqrt(28 / 24); coeftest(df = 24) p-values
    #    (tests/reference_its.R, section 4)
    assert_allclose(c["se"], [0.2523158881680617, 0.0254720157384305, 0.2176496922078398,
                              0.0281269188557624], rtol=RTOL)
    assert_allclose(c["p_value"], [3.85936963276409e-40, 1.13515576167650e-15,
                                   1.33164459588833e-23, 2.76949483379257e-20], rtol=RTOL)
    s = res.series
    assert_allclose(s.loc[s.post, "counterfactual"],
                    50.248571428571388 + 0.469450549450552 * np.arange(14, 28), rtol=RTOL)


def test_its_default_lag_rule_and_seasonal_terms():
    assert default_lags(100) == 4 and default_lags(28) == 3
    rng = np.random.default_rng(4)
    dates = [np.datetime64("2026-01-01") + np.timedelta64(i, "D") for i in range(182)]
    weekday = np.array([np.datetime64(d, "D").astype(object).weekday() for d in dates])
    t = np.arange(182)
    y = 20 + 0.01 * t - 3 * (t >= 90) + 2 * (weekday >= 5) + rng.normal(0, 0.5, 182)
    res = interrupted_time_series(dates, y, dates[90], seasonal="weekday")
    level = res.term("post")
    assert level.ci_low <= -3 <= level.ci_high
    assert res.errors == "ar1" and res.lags is None and "AR(1)" in res.lag_rule
    nw = interrupted_time_series(dates, y, dates[90], seasonal="weekday", errors="newey-west")
    assert nw.lags == default_lags(182) and "Newey" in nw.lag_rule
    assert any(c.startswith("weekday_") for c in res.coefficients["term"])


def test_welch_false_positive_rate_is_near_alpha():
    """No true effect: over 2,000 simulated studies the Welch test rejects about 5 % of them."""
    rng = np.random.default_rng(21)
    rejections = sum(compare.welch(rng.lognormal(2, 0.7, 80), rng.lognormal(2, 0.7, 60))
                     .p_value.iloc[0] < 0.05 for _ in range(2000))
    assert 0.035 <= rejections / 2000 <= 0.065


def test_newcombe_interval_covers_the_true_difference():
    rng = np.random.default_rng(8)
    hits = 0
    for _ in range(2000):
        x0, x1 = rng.binomial(200, 0.7), rng.binomial(150, 0.78)
        r = compare.two_proportions(x0, 200, x1, 150).iloc[0]
        hits += r.ci_low <= 0.08 <= r.ci_high
    assert 0.93 <= hits / 2000 <= 0.97


def test_effect_sizes_match_pingouin():
    """Hedges' g (and its CI) and the rank-biserial r against pingouin's own implementations."""
    import pingouin as pg

    r = compare.welch(BEFORE, AFTER).iloc[0]
    g = pg.compute_effsize(AFTER, BEFORE, paired=False, eftype="hedges")
    lo, hi = pg.compute_esci(stat=g, nx=len(AFTER), ny=len(BEFORE), eftype="hedges",
                             confidence=0.95, decimals=12)
    assert_allclose([r.effect, r.effect_low, r.effect_high], [g, lo, hi], rtol=RTOL)
    mw = compare.mann_whitney(BEFORE, AFTER).iloc[0]
    rbc = pg.mwu(AFTER, BEFORE)["RBC"].iloc[0]
    assert abs(mw.effect) == pytest.approx(abs(rbc), rel=RTOL)
    assert mw.effect < 0  # our sign: negative means lower values after
    w = compare.wilcoxon_signed_rank(UB, UA).iloc[0]
    assert abs(w.effect) == pytest.approx(abs(pg.wilcoxon(UA, UB)["RBC"].iloc[0]), rel=RTOL)
    assert w.effect_low < w.effect < w.effect_high
    pt = compare.paired_t(UB, UA).iloc[0]
    d_av = (np.mean(UA) - np.mean(UB)) / np.sqrt((np.var(UA, ddof=1) + np.var(UB, ddof=1)) / 2)
    assert pt.effect == pytest.approx(d_av * (1 - 3 / (4 * 9 - 1)), rel=RTOL)
    lo, hi = pg.compute_esci(stat=pt.effect, nx=10, ny=10, paired=True, eftype="hedges",
                             confidence=0.95, decimals=12)
    assert_allclose([pt.effect_low, pt.effect_high], [lo, hi], rtol=RTOL)
