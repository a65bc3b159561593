"""Before/after comparisons and the interrupted time series against R
(tests/reference_before_after.R), textbook values, and simulations with known effects."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sqresearch.stats import compare, power
from sqresearch.stats.its import default_lags, interrupted_time_series
from sqresearch.stats.survival import logrank

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


@pytest.mark.parametrize("after, w, p, hl", [
    # R: wilcox.test(after, before, conf.int = TRUE) (exact) -> estimate, conf.int
    (AFTER, 27.0, 0.0299607513229804, [-3.8, -8.0, -0.6]),
    # R: wilcox.test(c(after, 10.2), before, conf.int = TRUE, tol.root = 1e-12) (ties: normal)
    # -> conf.int -7.70000000000008, -0.699999999999947; median(outer(c(after, 10.2), before,
    # "-")) -> -3.9 (R's own estimate is a uniroot point inside the flat stretch around it)
    (AFTER + [10.2], 28.5, 0.0227411585786388, [-3.9, -7.70000000000008, -0.699999999999947]),
])
def test_mann_whitney_matches_wilcox_test(after, w, p, hl):
    r = compare.mann_whitney(BEFORE, after).iloc[0]
    assert_allclose([r.statistic, r.p_value], [w, p], rtol=RTOL)
    assert r.effect == pytest.approx(2 * w / (len(after) * len(BEFORE)) - 1)
    assert -1 <= r.effect_low < r.effect < r.effect_high <= 1
    assert r.estimate_name == "Hodges–Lehmann shift"
    assert_allclose([r.estimate, r.ci_low, r.ci_high], hl, rtol=RTOL)
    assert r.estimate == np.median(np.subtract.outer(after, BEFORE))


def test_hodges_lehmann_ci_follows_r_rules():
    # R: wilcox.test(after, before, conf.int = TRUE, conf.level = 0.9) -> -3.8; -7.3, -1
    r = compare.mann_whitney(BEFORE, AFTER, alpha=0.1).iloc[0]
    assert_allclose([r.estimate, r.ci_low, r.ci_high], [-3.8, -7.3, -1.0], rtol=RTOL)
    # R: wilcox.test(c(1.5, 2.7), c(0.3, 1.1, 2.2), conf.int = TRUE) -> 0.85; -0.7, 2.4 at an
    # achieved conf.level of 0.8 (95 % is not reachable with 2 and 3 values)
    r = compare.mann_whitney([0.3, 1.1, 2.2], [1.5, 2.7]).iloc[0]
    assert_allclose([r.estimate, r.ci_low, r.ci_high], [0.85, -0.7, 2.4], rtol=RTOL)
    assert "80.0 % CI" in r.method
    # R (tests/reference_smallfix.R "large"): wilcox.test(la, lb, conf.int = TRUE,
    # tol.root = 1e-12) -> W, p, conf.int; median(outer(la, lb, "-")) -> -4
    i = np.arange(1, 61)
    lb = ((i * 37) % 101) / 4
    la = ((np.arange(1, 56) * 53) % 97) / 4 - 3
    r = compare.mann_whitney(lb, la).iloc[0]
    assert_allclose([r.statistic, r.p_value, r.ci_low, r.ci_high, r.estimate],
                    [1146.5, 0.00485654266202904, -6.99999999999992, -1.25000000000002, -4.0],
                    rtol=RTOL)
    # R's default tol.root = 1e-4 stops within ~5e-5 of these limits:
    # wilcox.test(c(after, 10.2), before, conf.int = TRUE)$conf.int -> -7.70005459370957,
    # -0.699952188312641
    t = compare.mann_whitney(BEFORE, AFTER + [10.2]).iloc[0]
    assert_allclose([t.ci_low, t.ci_high], [-7.70005459370957, -0.699952188312641], atol=1e-4)


def test_signed_rank_pseudo_median_matches_wilcox_test():
    # R: wilcox.test(dx, dy, paired = TRUE, conf.int = TRUE) (exact) -> 0.46; 0.01, 0.786
    dx = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    dy = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    r = compare.wilcoxon_signed_rank(dy, dx).iloc[0]
    assert_allclose([r.statistic, r.estimate, r.ci_low, r.ci_high], [40, 0.46, 0.01, 0.786],
                    rtol=RTOL)
    # R: wilcox.test(ua, ub, paired = TRUE, conf.int = TRUE, tol.root = 1e-12) (ties: normal)
    w = compare.wilcoxon_signed_rank(UB, UA).iloc[0]
    assert_allclose([w.estimate, w.ci_low, w.ci_high],
                    [0.399999999999948, 0.199999999999497, 0.59999999999966], rtol=RTOL)
    # R (reference_smallfix.R "paired large"): 70 pairs, ties and zero differences
    i = np.arange(1, 71)
    pb = ((i * 31) % 89) / 5
    pa = pb + (((i * 17) % 23) - 8) / 4
    r = compare.wilcoxon_signed_rank(pb, pa).iloc[0]
    assert_allclose([r.statistic, r.p_value, r.ci_low, r.ci_high, r.estimate],
                    [1688.5, 0.000600231622488206, 0.375000000000543, 1.25000000000061, 0.75],
                    rtol=RTOL)
    # R: wilcox.test(c(0.5, 1, 1, 2), c(0, 0, 0, 0), paired = TRUE, conf.int = TRUE,
    # tol.root = 1e-12) widens alpha until the sample can reach it -> 0.75, 1.5 at level 0.8
    r = compare.wilcoxon_signed_rank([0, 0, 0, 0], [0.5, 1, 1, 2]).iloc[0]
    assert_allclose([r.ci_low, r.ci_high], [0.749999999999851, 1.50000000000048], rtol=RTOL)
    assert "80.0 % CI" in r.method


@pytest.mark.parametrize("walsh", [False, True])
def test_pairwise_order_statistics_without_the_matrix(walsh):
    """The selection finds exactly the order statistics of the full sorted matrix, with ties,
    however few candidates it may list at once."""
    rng = np.random.default_rng(5)
    for trial in range(12):
        m, n = rng.integers(1, 120, 2)
        u = np.sort(np.round(rng.normal(size=m), trial % 3))
        v = u if walsh else np.sort(np.round(rng.normal(size=n), trial % 2))
        full = np.add.outer(u, v)
        full = np.sort(full[np.triu_indices(u.size)] if walsh else full.ravel())
        for k in rng.integers(0, full.size, 6):
            got = compare._kth_pairwise_sum(u, v, int(k), walsh, max_cells=int(rng.integers(1, 40)))
            assert got == full[k]


def test_hodges_lehmann_memory_stays_linear():
    """20,000 × 20,000 differences (3.2 GB as a matrix): estimate and CI stay under 100 MB."""
    import tracemalloc

    rng = np.random.default_rng(9)
    b = rng.lognormal(2.0, 1, 20000)
    a = rng.lognormal(1.9, 1, 20000)
    tracemalloc.start()
    r = compare.mann_whitney(b, a).iloc[0]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100e6
    assert r.ci_low < r.estimate < r.ci_high < 0
    # the shift of a lognormal scale change is negative and near the median difference
    assert abs(r.estimate - (np.median(a) - np.median(b))) < 0.5
    tracemalloc.start()
    w = compare.wilcoxon_signed_rank(b, a).iloc[0]  # 2·10⁸ Walsh averages
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100e6 and w.ci_low < w.estimate < w.ci_high


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


def test_mcnemar_matches_r_and_tango():
    mb = [1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0]
    ma = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1]
    r = compare.mcnemar(mb, ma).iloc[0]
    # R: mcnemar.test(table(factor(mb, 0:1), factor(ma, 0:1)), correct = FALSE) -> 4.5,
    # 0.0338948535246893
    assert_allclose([r.statistic, r.p_value], [4.5, 0.0338948535246893], rtol=RTOL)
    assert r.estimate == pytest.approx((7 - 1) / 20)
    # R: tango(7, 1, 20) in tests/reference_smallfix.R (restricted MLE by optimize, limits by
    # uniroot: an independent route to Tango's interval)
    assert_allclose([r.ci_low, r.ci_high], [0.0271613293160446, 0.537295657978913], rtol=RTOL)


@pytest.mark.parametrize("gained, lost, n, alpha, expected", [
    (20, 40, 160, 0.05, [-0.218064243379932, -0.0308645328060924]),  # R: tango(20, 40, 160)
    (7, 1, 21, 0.10, [0.0746307672629858, 0.481622491199807]),  # R: tango(7, 1, 21, 0.9)
    (0, 3, 30, 0.05, [-0.256210832844665, 0.0248647350484613]),  # R: tango(0, 3, 30)
])
def test_tango_ci_matches_r(gained, lost, n, alpha, expected):
    assert_allclose(compare.tango_ci(gained, lost, n, alpha), expected, rtol=RTOL)


def test_tango_closed_forms():
    z = 1.959963984540054
    # no discordant pairs: |Δ| = z²/(n + z²) on both sides (T(Δ)² = n|Δ|/(1 − |Δ|))
    assert_allclose(compare.tango_ci(0, 0, 40), [-z * z / (40 + z * z), z * z / (40 + z * z)])
    # at each limit the score statistic is exactly ∓z
    lo, hi = compare.tango_ci(9, 3, 50)
    for delta, target in ((lo, z), (hi, -z)):
        num, var = compare._tango_statistic(delta, 9, 3, 50)
        assert num / math.sqrt(var) == pytest.approx(target, rel=1e-10)
    # at Δ = 0 it is McNemar's uncorrected statistic
    num, var = compare._tango_statistic(0.0, 9, 3, 50)
    assert (num / math.sqrt(var)) ** 2 == pytest.approx((9 - 3) ** 2 / 12, rel=1e-12)


def test_mcnemar_ci_and_p_agree_on_every_table():
    """CI excludes 0 exactly when p < alpha, over all tables with n = 12 and n = 30."""
    for n in (12, 30):
        for gained in range(n + 1):
            for lost in range(n + 1 - gained):
                before = [0] * gained + [1] * lost + [1] * (n - gained - lost)
                after = [1] * gained + [0] * lost + [1] * (n - gained - lost)
                r = compare.mcnemar(before, after).iloc[0]
                excludes = r.ci_low > 0 or r.ci_high < 0
                assert excludes == (r.p_value < 0.05), (n, gained, lost)
                assert r.ci_low <= r.estimate <= r.ci_high


def test_nps_difference_adds_variances():
    rng = np.random.default_rng(2)
    b, a = rng.integers(0, 11, 400), rng.integers(3, 11, 300)
    r = compare.nps_difference(b, a).iloc[0]
    from sqresearch.stats.describe import nps
    v0, *_, se0, _ = nps(b)
    v1, *_, se1, _ = nps(a)
    assert r.estimate == pytest.approx(v1 - v0)
    assert (r.ci_high - r.ci_low) / 2 == pytest.approx(1.959963984540054 * math.hypot(se0, se1))


def test_nps_adjusted_wald_closed_form():
    # 12 answers: 5 promoters, 3 passives, 4 detractors -> adjusted counts 5.75, 4.75 of 15
    s = [10, 9, 9, 10, 9, 8, 7, 7, 3, 6, 0, 5]
    r = compare.nps_ci(s)
    p, d = 5.75 / 15, 4.75 / 15
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / 15)
    assert r.value == pytest.approx(100 * (5 - 4) / 12)
    assert_allclose([r.low, r.high, r.se], [100 * (p - d) - 1.959963984540054 * se,
                                            100 * (p - d) + 1.959963984540054 * se, se])
    assert r.n == 12 and "adjusted Wald" in r.method
    from sqresearch.stats.describe import nps
    assert_allclose([r.value, r.low, r.high, r.se], nps(s)[:4])  # describe uses it for small n
    # all promoters: the plain Wald interval collapses to a point, the adjusted one does not
    top = compare.nps_ci([10] * 20)
    assert top.high == 100 and top.low < 85
    assert compare.nps_ci([10] * 20, adjust=False).low == 100
    # the difference: adjusted in both periods, z and p from the adjusted centre and SE
    r = compare.nps_difference(s, [10] * 20).iloc[0]
    c0, s0 = compare._nps_moments(5.75, 4.75, 15)
    c1, s1 = compare._nps_moments(20.75, 0.75, 23)
    assert r.estimate == pytest.approx(100 - 100 / 12)
    assert r.statistic == pytest.approx((c1 - c0) / math.hypot(s0, s1))
    assert (r.ci_low + r.ci_high) / 2 == pytest.approx(c1 - c0)
    assert "adjusted Wald" in r.method and (r.ci_low > 0) == (r.p_value < 0.05)


def _nps_exact_coverage(n, shares, adjust):
    """Exact coverage of ``nps_ci`` for the NPS of a trinomial (promoter, detractor shares)."""
    from scipy.stats import multinomial

    pp, pd_ = shares
    truth = 100 * (pp - pd_)
    total = 0.0
    for pro in range(n + 1):
        for det in range(n + 1 - pro):
            s = [10] * pro + [0] * det + [7] * (n - pro - det)
            r = compare.nps_ci(s, adjust=adjust)
            if r.low <= truth <= r.high:
                total += multinomial.pmf([pro, det, n - pro - det], n, [pp, pd_, 1 - pp - pd_])
    return total


def test_nps_interval_coverage_at_small_n():
    """n = 30, 50 % promoters and 20 % detractors (true NPS 30): 2,000 seeded surveys. The
    adjusted interval covers within 93–97 %; plain Wald covers less (simulated 94.0 % vs 93.05 %;
    exact 94.6 % vs 93.5 %)."""
    rng = np.random.default_rng(30)
    hits = {True: 0, False: 0}
    for _ in range(2000):
        s = rng.choice([10, 7, 3], size=30, p=[0.5, 0.3, 0.2])
        for adjust in (True, False):
            r = compare.nps_ci(s, adjust=adjust)
            hits[adjust] += r.low <= 30 <= r.high
    assert 0.93 <= hits[True] / 2000 <= 0.97
    assert hits[False] < hits[True]
    exact_adj = _nps_exact_coverage(30, (0.5, 0.2), True)
    exact_wald = _nps_exact_coverage(30, (0.5, 0.2), False)
    assert 0.93 <= exact_adj <= 0.97 and exact_wald < exact_adj


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


def test_bootstrap_equals_scipy_and_switches_to_percentile_with_ties():
    from scipy import stats

    rng = np.random.default_rng(11)
    b = rng.lognormal(np.log(10), 0.8, 61)
    a = rng.lognormal(np.log(6), 0.8, 50)

    def diff(x, y, axis=-1):
        return np.median(y, axis=axis) - np.median(x, axis=axis)

    def pct(x, y, axis=-1):
        return 100 * (np.median(y, axis=axis) / np.median(x, axis=axis) - 1)

    for method in ("BCa", "percentile"):
        for name, fn in (("median_difference", diff), ("median_pct_change", pct)):
            r = compare.bootstrap(b, a, name, 999, method, seed=5).iloc[0]
            s = stats.bootstrap((b, a), fn, n_resamples=999, method=method.lower(),
                                vectorized=True, rng=np.random.default_rng(5))
            assert_allclose([r.ci_low, r.ci_high], [s.confidence_interval.low,
                                                    s.confidence_interval.high], rtol=1e-12)
            assert r.method.startswith(method)
    tied = compare.bootstrap(np.round(b), a, "median_difference", 999, "BCa", seed=5).iloc[0]
    assert tied.method.startswith("percentile bootstrap (BCa requested")


def test_leave_one_out_medians_and_bounded_batches(monkeypatch):
    from scipy import stats

    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 4, 5, 10, 11):
        x = rng.normal(size=n)
        brute = [np.median(np.delete(x, i)) if n > 1 else np.nan for i in range(n)]
        assert_allclose(compare._loo_medians(x), brute)
    # batches of 7 resamples: the same draws as scipy with batch = 7
    b, a = rng.normal(10, 2, 40), rng.normal(9, 2, 30)
    monkeypatch.setattr("sqresearch.stats.bootstrap._BOOT_CELLS", 7 * 70)  # its module
    r = compare.bootstrap(b, a, "median_difference", 199, "BCa", seed=3).iloc[0]
    s = stats.bootstrap((b, a), lambda x, y, axis=-1: np.median(y, axis=axis) -
                        np.median(x, axis=axis), n_resamples=199, method="bca",
                        vectorized=True, batch=7, rng=np.random.default_rng(3))
    assert_allclose([r.ci_low, r.ci_high], [s.confidence_interval.low,
                                            s.confidence_interval.high], rtol=1e-12)


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
