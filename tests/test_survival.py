"""Kaplan–Meier companions against R (tests/reference_smallfix.R): the log-rank test with more
groups and a lone case at risk, restricted mean survival time and its comparison."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sqresearch.stats import compare
from sqresearch.stats.survival import default_tau, kaplan_meier, logrank, median_sorted, rmst

RTOL = 1e-6
# R: aml (survival), by arm
MAINT_T = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
MAINT_E = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
NONM_T = [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
NONM_E = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]


def test_logrank_three_groups_and_a_lone_case_at_risk():
    t = [1, 2, 3, 4, 5, 6, 7, 2, 8]
    e = np.array([1, 0, 1, 1, 0, 1, 1, 1, 1], bool)
    g = ["a", "b", "a", "b", "c", "b", "a", "c", "a"]
    chi2, p, table = logrank(t, e, g)
    # R: survdiff(Surv(t7, e7) ~ g7) -> chisq 0.128734287092358; obs 4 2 1;
    # exp 4.38611111111111 1.775 0.838888888888889 (the last event, alone at risk, counts)
    assert chi2 == pytest.approx(0.128734287092358, rel=RTOL)
    assert p == pytest.approx(math.exp(-0.128734287092358 / 2), rel=RTOL)  # chi² with 2 df
    assert_allclose(table["observed"], [4, 2, 1])
    assert_allclose(table["expected"], [4.38611111111111, 1.775, 0.838888888888889], rtol=RTOL)


def test_logrank_runs_on_fifty_thousand_cases():
    rng = np.random.default_rng(1)
    n = 50_000
    g = rng.integers(0, 2, n)
    d = rng.exponential(np.where(g == 1, 9.0, 10.0))
    cut = rng.uniform(0, 30, n)
    chi2, p, table = logrank(np.minimum(d, cut), d <= cut, g)
    assert chi2 > 0 and 0 <= p < 0.05
    assert table["observed"].sum() == (d <= cut).sum()
    assert table["expected"].sum() == pytest.approx(table["observed"].sum())


@pytest.mark.parametrize("time, event, tau, expected", [
    # R: summary(survfit(Surv(t, e) ~ 1), rmean = tau)$table[c("rmean", "se(rmean)")]
    (MAINT_T, MAINT_E, 45, [30.7386363636364, 4.11408624001147]),
    (NONM_T, NONM_E, 45, [22.7083333333333, 4.18094198103315]),
    (MAINT_T, MAINT_E, 23, [20.3068181818182, 1.42995018265928]),  # tau at an event time
    (MAINT_T, MAINT_E, 200, [59.825, 25.7188360599767]),  # beyond the data: carried flat
    ([5, 8, 12, 20, 20, 30, 41, 50], [1, 0, 1, 1, 0, 1, 0, 0], 30,
     [22.7916666666667, 3.44833100061679]),
    ([1, 2, 3, 4], [1, 1, 1, 1], 4, [2.5, 0.559016994374947]),  # last term n = d adds 0
])
def test_rmst_matches_survmean(time, event, tau, expected):
    r = rmst(time, np.array(event, bool), tau)
    assert_allclose([r.estimate, r.se], expected, rtol=1e-12 if tau == 4 else RTOL)
    assert r.low == pytest.approx(r.estimate - 1.959963984540054 * r.se)
    assert r.tau == tau and r.n == len(time)


def test_rmst_without_censoring_is_the_mean_of_truncated_times():
    t = np.array([2.0, 3.5, 7.0, 9.0, 12.0])
    r = rmst(t, np.ones(5, bool), 8.0)
    assert r.estimate == pytest.approx(np.minimum(t, 8.0).mean())


def test_rmst_difference_and_ratio():
    # default tau: the smaller of the arms' largest times (R survRM2::rmst2) = 45
    assert default_tau(NONM_T, MAINT_T) == 45
    r = compare.rmst_difference(NONM_T, NONM_E, MAINT_T, MAINT_E).iloc[0]
    m1, s1 = 30.7386363636364, 4.11408624001147  # R values above, tau = 45
    m0, s0 = 22.7083333333333, 4.18094198103315
    se = math.hypot(s1, s0)
    z = 1.959963984540054
    assert list(r.index) == compare.COLUMNS
    assert (r.test, r.estimate_name) == ("RMST difference", "difference in RMST")
    assert_allclose([r.estimate, r.ci_low, r.ci_high, r.statistic],
                    [m1 - m0, m1 - m0 - z * se, m1 - m0 + z * se, (m1 - m0) / se], rtol=RTOL)
    assert r.p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(abs(r.statistic) /
                                                                     math.sqrt(2)))), rel=RTOL)
    assert "τ = 45" in r.method
    q = compare.rmst_ratio(NONM_T, NONM_E, MAINT_T, MAINT_E, tau=45).iloc[0]
    lse = math.hypot(s1 / m1, s0 / m0)
    assert_allclose([q.estimate, q.ci_low, q.ci_high],
                    [m1 / m0, m1 / m0 * math.exp(-z * lse), m1 / m0 * math.exp(z * lse)],
                    rtol=RTOL)


def test_rmst_difference_covers_the_truth():
    """Exponential arms (means 10 and 8) with censoring, tau = 15: true RMST = μ(1 − e^(−15/μ));
    the 95 % CI covers the true difference in about 95 % of 400 simulated studies."""
    rng = np.random.default_rng(17)
    truth = 8 * (1 - math.exp(-15 / 8)) - 10 * (1 - math.exp(-15 / 10))
    hits = 0
    for _ in range(400):
        b, a = rng.exponential(10, 150), rng.exponential(8, 150)
        cb, ca = rng.uniform(5, 40, 150), rng.uniform(5, 40, 150)
        r = compare.rmst_difference(np.minimum(b, cb), b <= cb, np.minimum(a, ca), a <= ca,
                                    tau=15).iloc[0]
        hits += r.ci_low <= truth <= r.ci_high
    assert 0.92 <= hits / 400 <= 0.98


@pytest.mark.parametrize("seed", range(6))
def test_the_median_of_sorted_durations_is_kaplan_meiers_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n = [1, 2, 5, 40, 1000, 20_000][seed]
    # whole hours (many ties, flat stretches at exactly 0.5) or continuous times
    t = np.round(rng.exponential(5, n)) if seed % 2 else rng.exponential(5, n)
    e = rng.random(n) < [1.0, 0.5, 0.7][seed % 3]
    order = np.argsort(t, kind="stable")
    expected = kaplan_meier(t, e, 0.1).median()
    n_got, got = median_sorted(t[order], e[order], 0.1)
    assert n_got == n
    assert got == expected or all(a == b or (math.isnan(a) and math.isnan(b))
                                  for a, b in zip(got, expected, strict=True))
    assert median_sorted(np.empty(0), np.empty(0, bool))[0] == 0
