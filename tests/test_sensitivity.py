"""The pre-trend Wald test and the relative-magnitude (Δ^RM) bounds against closed forms
computed here, the identified set against a linear programme, and the bounds' coverage under a
pre-trend violation the restriction allows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import optimize, stats

from sqresearch.stats import sensitivity

NAMES = ["event:-3", "event:-2", "event:0", "event:1"]
COEF = pd.Series([0.10, -0.05, 0.80, 1.00], index=NAMES)
VCOV = pd.DataFrame([[0.040, 0.010, 0.005, 0.004],
                     [0.010, 0.030, 0.006, 0.005],
                     [0.005, 0.006, 0.050, 0.020],
                     [0.004, 0.005, 0.020, 0.060]], index=NAMES, columns=NAMES)
PRE, POST = ["event:-3", "event:-2"], ["event:0", "event:1"]


def test_pretrend_wald_is_the_quadratic_form_with_chi2_and_f():
    t = sensitivity.pretrend_wald(COEF, VCOV, PRE, df_denom=11)
    b = np.array([0.10, -0.05])
    v = np.array([[0.040, 0.010], [0.010, 0.030]])
    w = b @ np.linalg.inv(v) @ b  # β'V⁻¹β by hand
    # by hand: det = 0.0011; V⁻¹ = [[0.03, -0.01], [-0.01, 0.04]] / 0.0011
    assert w == pytest.approx((0.03 * 0.01 + 2 * 0.01 * 0.005 + 0.04 * 0.0025) / 0.0011,
                              rel=1e-12)
    assert t.wald == pytest.approx(w, rel=1e-12) and t.q == 2
    assert t.chi2_p == pytest.approx(math.exp(-w / 2), rel=1e-12)  # χ²₂ survival
    assert t.f == pytest.approx(w / 2, rel=1e-12)
    assert t.f_p == pytest.approx(stats.f.sf(w / 2, 2, 11), rel=1e-12)
    assert t.p_value == t.f_p and t.f_p > t.chi2_p  # few clusters: F is the cautious one
    assert list(t.summary()["test"]) == ["chi2", "F"]
    plain = sensitivity.pretrend_wald(b, v, PRE)
    assert plain.p_value == pytest.approx(t.chi2_p) and math.isnan(plain.f_p)


def test_bounds_at_mbar_zero_are_the_parallel_trends_ci():
    r = sensitivity.rm_bounds(COEF, VCOV, PRE, POST)
    est = (0.80 + 1.00) / 2
    se = math.sqrt((0.050 + 0.060 + 2 * 0.020) / 4)
    row = r.table.iloc[0]
    assert row["mbar"] == 0 and row["id_low"] == row["id_high"] == pytest.approx(est)
    assert_allclose([row["ci_low"], row["ci_high"]],
                    [est - 1.959963984540054 * se, est + 1.959963984540054 * se], rtol=1e-12)
    assert r.se == pytest.approx(se) and "Bonferroni" in r.method and "not" in r.method


def test_bounds_widen_with_mbar():
    r = sensitivity.rm_bounds(COEF, VCOV, PRE, POST, mbar=(0, 0.25, 0.5, 1, 2, 4))
    t = r.table
    assert np.all(np.diff(t["ci_high"]) > 0) and np.all(np.diff(t["ci_low"]) < 0)
    assert np.all(np.diff(t["id_high"]) > 0) and np.all(np.diff(t["id_low"]) < 0)
    assert np.all(t["ci_low"] <= t["id_low"]) and np.all(t["id_high"] <= t["ci_high"])


def test_identified_set_is_the_linear_programme():
    """max/min of l'δ_post over |δ_t − δ_{t−1}| ≤ M̄ m̂ (δ_0 = 0), by scipy's linprog."""
    lw = np.array([0.2, 0.3, 0.5])
    coef = pd.Series([0.3, -0.1, 0.2, 1.0, 1.2, 1.5], index=list("abcdef"))
    vcov = pd.DataFrame(np.diag([0.02, 0.03, 0.02, 0.05, 0.05, 0.06]), index=coef.index,
                        columns=coef.index)
    r = sensitivity.rm_bounds(coef, vcov, list("abc"), list("def"), weights=lw, mbar=(1.5,))
    m_hat = max(abs(-0.1 - 0.3), abs(0.2 + 0.1), abs(0 - 0.2))
    assert r.max_pre_change == pytest.approx(m_hat)
    # variables δ_1..δ_3; constraints −c ≤ δ_t − δ_{t−1} ≤ c
    c = 1.5 * m_hat
    d = np.array([[1, 0, 0], [-1, 1, 0], [0, -1, 1]], dtype=float)
    a_ub, b_ub = np.vstack([d, -d]), np.full(6, c)
    hi = -optimize.linprog(-lw, A_ub=a_ub, b_ub=b_ub, bounds=(None, None)).fun
    lo = optimize.linprog(lw, A_ub=a_ub, b_ub=b_ub, bounds=(None, None)).fun
    theta = lw @ [1.0, 1.2, 1.5]
    row = r.table.iloc[0]
    assert_allclose([row["id_low"], row["id_high"]], [theta - hi, theta - lo], rtol=1e-9)


def test_breakdown_value_by_hand_two_pre_two_post():
    r = sensitivity.rm_bounds(COEF, VCOV, PRE, POST)
    # pre changes: δ_{-2} − δ_{-3} = −0.15 (var 0.04 + 0.03 − 2·0.01 = 0.05),
    #              δ_0 − δ_{-2} = 0.05 (var 0.03); Bonferroni z at 1 − 0.05/(4·2)
    zb = stats.norm.ppf(1 - 0.05 / 8)
    m_up = max(0.15 + zb * math.sqrt(0.05), 0.05 + zb * math.sqrt(0.03))
    # l = (½, ½): L_1 = 1, L_2 = ½, S = 1.5
    est, se = 0.9, math.sqrt(0.15 / 4)
    mstar = (est - stats.norm.ppf(1 - 0.05 / 4) * se) / (m_up * 1.5)
    assert r.max_pre_change_upper == pytest.approx(m_up, rel=1e-12)
    assert r.slope_factor == pytest.approx(1.5)
    assert r.breakdown == pytest.approx(mstar, rel=1e-12)
    at = sensitivity.rm_bounds(COEF, VCOV, PRE, POST, mbar=(mstar - 1e-9, mstar + 1e-9))
    assert list(at.table["excludes_zero"]) == [True, False]
    assert r.table.loc[r.table["mbar"] <= mstar, "excludes_zero"].all()
    flat = sensitivity.rm_bounds(COEF * 0.1, VCOV, PRE, POST)
    assert math.isnan(flat.breakdown) and not flat.table["excludes_zero"].any()


def test_coverage_under_a_linear_pre_trend_the_restriction_allows():
    """δ_t = c·t (every change is c, so Δ^RM(M̄) holds for M̄ ≥ 1); β̂ ~ N(τ + δ, Σ)."""
    rng = np.random.default_rng(11)
    sigma = VCOV.to_numpy()
    delta = 0.3 * np.array([-2, -1, 1, 2])
    tau = np.array([0, 0, 1.0, 1.0])
    draws = rng.multivariate_normal(tau + delta, sigma, size=2000)
    hits = {1.0: 0, 2.0: 0}
    naive = 0
    for b in draws:
        t = sensitivity.rm_bounds(b, sigma, PRE, POST, mbar=(0, 1, 2)).table
        naive += t["ci_low"][0] <= 1.0 <= t["ci_high"][0]
        for k, m in ((1, 1.0), (2, 2.0)):
            hits[m] += t["ci_low"][k] <= 1.0 <= t["ci_high"][k]
    # MC sd of a 95 % rate over 2,000 draws: 0.5 points
    assert hits[1.0] / 2000 >= 0.94 and hits[2.0] / 2000 >= 0.94
    assert naive / 2000 < 0.5  # parallel trends wrongly assumed: the trend biases θ by 0.45
