"""Statistics against independent references: R (tests/reference.R), NIST StRD, textbooks.

Each expected number carries the R call that produced it.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sqresearch.stats import describe, weights
from sqresearch.stats.survival import kaplan_meier

RTOL = 1e-6
X = [12.1, 3.4, 8.8, 25.0, 7.7, 5.5, 14.2, 9.9, 31.6, 2.2, 6.1, 18.4]


# --- NIST StRD univariate sets (certified mean and sd) ----------------------------------------

def _numacc(c: float) -> np.ndarray:
    return np.array([c + 0.2] + [c + 0.1, c + 0.3] * 500)


@pytest.mark.parametrize("data, mean, sd, min_lre", [
    (np.array([10000001.0, 10000003.0, 10000002.0]), 10000002.0, 1.0, 14),  # NumAcc1
    (_numacc(1.0), 1.2, 0.1, 13),  # NumAcc2
    (_numacc(1000000.0), 1000000.2, 0.1, 9),  # NumAcc3: a one-pass variance fails here
    (_numacc(10000000.0), 10000000.2, 0.1, 8),  # NumAcc4
])
def test_nist_univariate(data, mean, sd, min_lre):
    s = describe.summary(data).iloc[0]
    assert describe.lre(s["mean"], mean) >= min_lre
    assert describe.lre(s["sd"], sd) >= min_lre
    assert s["n"] == data.size and s["missing"] == 0


def test_summary_counts_missing_and_quantiles():
    s = describe.summary([*X, np.nan]).iloc[0]
    assert s["n"] == 12 and s["missing"] == 1
    # R: quantile(x, c(0.5, 0.9), type = 7) -> 9.35, 24.34 ; sd(x) -> 8.93970967598552
    assert_allclose([s["p50"], s["p90"], s["sd"]], [9.35, 24.34, 8.93970967598552], rtol=RTOL)


def test_mean_ci_matches_t_test():
    m, lo, hi, n = describe.mean_ci(X)
    # R: t.test(x)$conf.int -> 6.39497945834239, 17.75502054165761
    assert_allclose([lo, hi], [6.39497945834239, 17.75502054165761], rtol=RTOL)
    assert n == 12 and m == pytest.approx(np.mean(X))


@pytest.mark.parametrize("x, n, alpha, expected", [
    (37, 50, 0.05, (0.604468427351512, 0.841284725064476)),  # prop.test(37, 50, correct=FALSE)
    (0, 20, 0.05, (0.0, 0.161125158052819)),  # prop.test(0, 20, correct=FALSE)
    (412, 500, 0.10, (0.794264195922296, 0.850248290997566)),  # ... conf.level = 0.9
])
def test_wilson_matches_prop_test(x, n, alpha, expected):
    p, lo, hi = describe.wilson_ci(x, n, alpha)
    assert p == x / n
    assert_allclose([lo, hi], expected, rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("events, exposure, expected", [
    (17, 2345, (4.22308165015236, 11.60709885539728)),  # poisson.test(17, 2345)$conf.int*1000
    (0, 500, (0.0, 7.37775890822787)),  # poisson.test(0, 500)$conf.int * 1000
])
def test_poisson_rate_matches_poisson_test(events, exposure, expected):
    rate, lo, hi = describe.poisson_rate_ci(events, exposure, 1000)
    assert rate == pytest.approx(1000 * events / exposure)
    assert_allclose([lo, hi], expected, rtol=RTOL, atol=1e-12)


def test_quantile_ci_uses_binomial_ranks():
    a = np.sort(X)
    q, lo, hi, n = describe.quantile_ci(X, 0.5)
    # R: qbinom(c(0.025, 0.975), 12, 0.5) -> 3, 9 ; ranks 3 and 9 + 1 = 10
    assert (q, lo, hi, n) == (pytest.approx(9.35), a[2], a[9], 12)
    big = np.arange(1.0, 201.0)
    _, lo, hi, _ = describe.quantile_ci(big, 0.9)
    # R: qbinom(c(0.025, 0.975), 200, 0.9) -> 171, 188 ; ranks 171 and 189
    assert (lo, hi) == (171.0, 189.0)


def test_quantile_ci_coverage_is_at_least_nominal():
    """Simulated: the order-statistic interval for the median of an exponential covers the true
    median (ln 2) in at least 95 % of samples (it is conservative)."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(2000):
        _, lo, hi, _ = describe.quantile_ci(rng.exponential(size=40), 0.5)
        hits += lo <= math.log(2) <= hi
    assert 0.95 <= hits / 2000 <= 0.985


def test_nps_and_its_standard_error():
    s = [10, 9, 9, 8, 7, 6, 10, 3, 9, 7, 0, 10, 8, 9, 5] * 8  # n = 120: the plain Wald interval
    value, lo, hi, se, n = describe.nps(s)
    # R: 100*(mean(s>=9) - mean(s<=6)); 100*sqrt(((p+d) - (p-d)^2)/n) -> 20, 21.4993539954628/√8
    assert_allclose([value, se], [20.0, 21.4993539954628 / math.sqrt(8)], rtol=RTOL)
    assert_allclose([lo, hi], [20 - 1.959963984540054 * se, 20 + 1.959963984540054 * se],
                    rtol=RTOL)
    assert n == 120


# --- Kaplan-Meier ------------------------------------------------------------------------------

AML_TIME = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_STATUS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]


def test_km_median_matches_survfit_aml():
    km = kaplan_meier(AML_TIME, np.array(AML_STATUS, bool))
    # R: quantile(survfit(Surv(time, status) ~ 1, data = aml), 0.5) -> 27, 18, 48
    assert km.median() == (27.0, 18.0, 48.0)
    assert km.n == 23 and km.events == 18


def test_km_curve_and_bands_match_survfit():
    km = kaplan_meier([5, 8, 12, 20, 20, 30, 41, 50], np.array([1, 0, 1, 1, 0, 1, 0, 0], bool))
    t = km.table
    # R: fit3 <- survfit(Surv(c(5,8,12,20,20,30,41,50), c(1,0,1,1,0,1,0,0)) ~ 1); fit3$surv etc.
    assert_allclose(t["surv"], [0.875, 0.875, 0.729166666666667, 0.583333333333333,
                                0.388888888888889, 0.388888888888889, 0.388888888888889],
                    rtol=RTOL)
    assert_allclose(t["lower"], [0.673381936505955, 0.673381936505955, 0.467993475615377,
                                 0.312712864864888, 0.141022004386293, 0.141022004386293,
                                 0.141022004386293], rtol=RTOL)
    assert_allclose(t["upper"], 1.0)
    # R: quantile(fit3, 0.5) -> 30, 12, NA (upper limit not reached)
    med, lo, hi = km.median()
    assert (med, lo) == (30.0, 12.0) and math.isnan(hi)


def test_km_median_on_a_flat_stretch_at_one_half_is_the_midpoint():
    km = kaplan_meier([1, 2, 3, 4], np.ones(4, bool))
    # R: quantile(survfit(Surv(1:4, rep(1, 4)) ~ 1), 0.5) -> 2.5, 1, NA
    med, lo, hi = km.median()
    assert (med, lo) == (2.5, 1.0) and math.isnan(hi)


def test_km_recovers_a_known_median_under_censoring():
    """Exponential durations (true median ln 2 / 0.1) with heavy administrative censoring: the
    KM median is close to the truth, while the naive median over finished cases is biased low."""
    rng = np.random.default_rng(3)
    d = rng.exponential(10, 20000)
    cut = rng.uniform(0, 25, d.size)
    km = kaplan_meier(np.minimum(d, cut), d <= cut)
    truth = 10 * math.log(2)
    med, lo, hi = km.median()
    assert lo <= truth <= hi
    assert np.median(d[d <= cut]) < 0.8 * truth


# --- weights -----------------------------------------------------------------------------------

@pytest.mark.parametrize("matrix, expected, ri", [
    # R: ahp(A3, 0.58) in tests/reference.R (eigen(); w, lambda, CI, CR)
    ([[1, "1/2", "1/3"], [2, 1, "1/2"], [3, 2, 1]],
     [0.16342411856642786, 0.29696133121249740, 0.53961455022107474, 3.00920271271428197,
      0.00460135635714098, 0.00793337302955342], 0.58),
    # R: ahp(A4, 0.90)
    ([[1, 5, 3, 7], ["1/5", 1, "1/3", 3], ["1/3", 3, 1, 5], ["1/7", "1/3", "1/5", 1]],
     [0.5650090537990473, 0.1175042500413985, 0.2622012055608733, 0.0552854905986810,
      4.1169824434472684, 0.0389941478157561, 0.0433268309063957], 0.90),
])
def test_ahp_matches_r_eigen(matrix, expected, ri):
    r = weights.ahp(matrix)
    n = len(matrix)
    assert_allclose(r.weights, expected[:n], rtol=RTOL)
    assert_allclose([r.lambda_max, r.ci, r.cr], expected[n:], rtol=RTOL)
    assert r.consistent


def test_ahp_flags_inconsistent_judgements():
    b4 = [[1, 9, "1/9", 5], ["1/9", 1, 7, "1/3"], [9, "1/7", 1, 3], ["1/5", 3, "1/3", 1]]
    r = weights.ahp(b4)
    # R: ahp(B4, 0.90) -> CR 2.3404938264216
    assert r.cr == pytest.approx(2.3404938264216, rel=RTOL)
    assert not r.consistent


def test_ahp_saaty_random_index_table():
    assert weights.SAATY_RI == (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48,
                                1.56, 1.57, 1.59)


@pytest.mark.parametrize("bad, message", [
    ([[1, 2], [2, 1]], "not reciprocal"),
    ([[1, 2, 3], ["1/2", 1]], "square"),
    ([[2, 1], [1, 1]], "diagonal"),
    ([[1, "x"], [1, 1]], "numbers or fractions"),
    ([[1, -2], ["-1/2", 1]], "positive"),
])
def test_ahp_rejects_malformed_matrices(bad, message):
    with pytest.raises(ValueError, match=message):
        weights.parse_matrix(bad)


def test_entropy_weights_match_r():
    x = [[12, 0.71, 4.1], [8, 0.65, 4.3], [15, 0.80, 3.9], [10, 0.74, 4.0], [9, 0.69, 4.4]]
    w = weights.entropy_weights(x, [False, True, True])
    # R: entropy weights block in tests/reference.R
    assert_allclose(w, [0.271855628362881, 0.346651563432647, 0.381492808204472], rtol=RTOL)


def test_entropy_gives_no_weight_to_a_constant_indicator():
    w = weights.entropy_weights([[1, 5], [2, 5], [3, 5]], [True, True])
    assert_allclose(w, [1.0, 0.0])


def test_composite_index_ranks_and_scales():
    import pandas as pd

    values = pd.DataFrame({"frt": [10.0, 20.0, 15.0], "fcr": [0.8, 0.6, 0.7]},
                          index=["a", "b", "c"])
    idx = weights.composite_index(values, {"frt": "lower", "fcr": "higher"}, "expert",
                                  expert={"frt": 60, "fcr": 40})
    s = idx.scores.set_index("unit")
    # a is best on both (100), b worst on both (0), c halfway on both (50)
    assert_allclose(s.loc[["a", "b", "c"], "index"], [100.0, 0.0, 50.0])
    assert s.loc["a", "rank"] == 1 and s.loc["b", "rank"] == 3
    assert_allclose(idx.weights["weight"], [0.6, 0.4])


# --- ANCOVA with HC2 and Lin's estimator (tests/reference_smallfix.R) ---------------------------

def _trial():
    import pandas as pd

    pre = [3.8, 4.1, 3.5, 4.0, 3.9, 3.6, 4.2, 3.7, 3.9, 4.0, 3.6, 3.8, 4.1, 3.7, 3.9, 3.5]
    post = [3.9, 4.0, 3.6, 4.1, 3.8, 3.7, 4.2, 3.8, 4.2, 4.3, 3.9, 4.1, 4.4, 4.0, 4.2, 3.8]
    x = ((np.arange(1, 17) * 7) % 11) / 10  # R: ((1:16 * 7) %% 11) / 10
    return pd.DataFrame({"pre": pre, "post": post, "x": x,
                         "arm": ["control"] * 8 + ["coached"] * 8})


@pytest.mark.parametrize("kw, df, expected", [
    # R: coeftest(fit, vcov = vcovHC(fit, type = "HC2"), df = fit$df.residual)["treat", ]
    ({}, 13, [0.257473544973545, 0.0283523844086276, 9.08119547416957, 5.43874334605496e-07]),
    ({"covariates": ["x"]}, 12,  # fit <- lm(post ~ treat + pre + x)
     [0.260493347576964, 0.029287380849746, 8.89438864176288, 1.25044592544655e-06]),
    ({"lin": True}, 12,  # fit <- lm(post ~ treat * I(pre - mean(pre)))
     [0.258258928571429, 0.0257589454455178, 10.0259899659971, 3.48225428730352e-07]),
    # lm(post ~ treat * (I(pre - mean(pre)) + I(x - mean(x))))
    ({"lin": True, "covariates": ["x"]}, 10,
     [0.261399291497976, 0.0336218706823835, 7.77468017670231, 1.51094916281874e-05]),
])
def test_ancova_hc2_and_lin_match_sandwich(kw, df, expected):
    from sqresearch.stats.ancova import ancova

    r = ancova(_trial(), "post", "pre", "arm", treated_level="coached", **kw)
    assert_allclose([r["estimate"], r["se"], r["t"], r["p_value"]], expected, rtol=RTOL)
    assert r["vcov"] == "HC2" and r["df"] == df
    if df == 13:
        crit = 2.1603686564627917  # R: qt(0.975, 13)
        assert_allclose([r["ci_low"], r["ci_high"]], [r["estimate"] - crit * r["se"],
                                                      r["estimate"] + crit * r["se"]],
                        rtol=1e-12)


def test_ancova_keeps_type_ii_f_and_the_classical_option():
    from sqresearch.stats.ancova import ancova

    r = ancova(_trial(), "post", "pre", "arm", "coached", ["x"], lin=True)
    # R: car::Anova(lm(post ~ treat + pre + x), type = 2)[c("treat", "pre"), "F value"]
    assert_allclose([r["F_group"], r["F_pre"]], [80.5925388010959, 161.222201919798], rtol=RTOL)
    c = ancova(_trial(), "post", "pre", "arm", "coached", vcov="classical")
    # R: summary(lm(post ~ group + pre))$coefficients[2, ] (tests/test_did.py)
    assert_allclose([c["se"], c["p_value"]], [0.0298655715001915, 9.77188691603312e-07],
                    rtol=RTOL)
    with pytest.raises(ValueError, match="vcov"):
        ancova(_trial(), "post", "pre", "arm", "coached", vcov="HC9")
