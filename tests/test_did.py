"""Difference-in-differences, its checks, and ANCOVA against R
(tests/reference_control_group.R), and simulations with known effects and CI coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sqresearch.stats import did, robust

RTOL = 1e-6
E = [0.3, -0.5, 0.1, 0.8, -0.2, 0.4, -0.7, 0.2, 0.5, -0.1, 0.3, -0.4, 0.6, -0.3, 0.2, -0.6,
     0.1, 0.9, -0.2, 0.4, -0.8, 0.3, 0.5, -0.1, 0.2, -0.4, 0.7, -0.5, 0.0, 0.3, -0.3, 0.6,
     -0.2, 0.1, -0.6, 0.4, 0.5, -0.1, 0.2, -0.7, 0.3, 0.0, -0.4, 0.8, -0.3, 0.1, 0.2, -0.5]


def panel() -> pd.DataFrame:
    unit = np.repeat(np.arange(1, 9), 6)
    period = np.tile(np.arange(1, 7), 8)
    treated = (unit <= 3).astype(float)
    post = (period >= 4).astype(float)
    y = 10 + 0.5 * unit + 0.3 * period - 2 * treated * post + np.array(E)
    return pd.DataFrame({"y": y, "unit": unit, "period": period, "treated": treated,
                         "post": post})


def test_did_and_hc1_cluster_errors_match_sandwich():
    d = panel()
    fit = did.cluster_ols(d["y"], did.design_2x2(d), d["unit"])
    # R: coef(lm(y ~ treated * post)); sqrt(diag(vcovCL(fit, cluster = ~unit, type = "HC1")))
    assert_allclose(fit.beta, [13.646666666666672, -2.002222222222218, 0.839999999999999,
                               -1.851111111111114], rtol=RTOL)
    assert_allclose(fit.se, [0.389015703915945, 0.499397094684858, 0.130690694848783,
                             0.181258753490574], rtol=RTOL)
    t = fit.term("treated:post")
    # R: coeftest(fit, vcov. = V, df = 7) -> t, p
    assert_allclose([t["t"], t["p_value"]], [-10.2125336043833, 1.86213967918290e-05],
                    rtol=RTOL)


def test_twfe_matches_r():
    d = panel()
    fit = did.cluster_ols(d["y"], did.design_twfe(d, "unit", "period"), d["unit"])
    t = fit.term("treated:post")
    # R: lm(y ~ factor(unit) + factor(period) + treated:post); vcovCL(type = "HC1")
    assert_allclose([t["estimate"], t["se"]], [-1.851111111111113, 0.206198674294401],
                    rtol=RTOL)


def test_event_study_matches_r():
    d = panel()
    d["rel"] = np.where(d["treated"] == 1, d["period"] - 4, np.nan)
    x, terms = did.design_event(d, "unit", "period", "rel")
    fit = did.cluster_ols(d["y"], x, d["unit"])
    assert terms == ["event:-3", "event:-2", "event:0", "event:1", "event:2"]
    idx = [fit.names.index(t) for t in terms]
    # R: event-study block of tests/reference_control_group.R
    assert_allclose(fit.beta[idx], [-0.239999999999994, -0.806666666666668, -2.173333333333333,
                                    -2.360000000000004, -2.066666666666668], rtol=RTOL,
                    atol=1e-12)
    assert_allclose(fit.se[idx], [0.594461349707700, 0.544627918550732, 0.726874801511448,
                                  0.425465770295475, 0.591903514707512], rtol=RTOL)
    w = robust.wald_test(fit, ["event:-3", "event:-2"], test="F")
    # R: linearHypothesis(es, c("ev0 = 0", "ev1 = 0"), vcov. = Ve, test = "F")$F
    assert w["statistic"] == pytest.approx(1.14826426315529, rel=RTOL) and w["q"] == 2


def test_ancova_matches_lm_and_car_anova():
    from sqresearch.stats.ancova import ancova

    pre = [3.8, 4.1, 3.5, 4.0, 3.9, 3.6, 4.2, 3.7, 3.9, 4.0, 3.6, 3.8, 4.1, 3.7, 3.9, 3.5]
    post = [3.9, 4.0, 3.6, 4.1, 3.8, 3.7, 4.2, 3.8, 4.2, 4.3, 3.9, 4.1, 4.4, 4.0, 4.2, 3.8]
    group = ["control"] * 8 + ["coached"] * 8
    r = ancova(pd.DataFrame({"pre": pre, "post": post, "arm": group}), "post", "pre", "arm",
               treated_level="coached", vcov="classical")
    # R: summary(lm(post ~ group + pre))$coefficients[2, ]; car::Anova(type = 2) F values
    assert_allclose([r["estimate"], r["se"], r["t"], r["p_value"]],
                    [0.257473544973545, 0.0298655715001915, 8.62108213706524,
                     9.77188691603312e-07], rtol=RTOL)
    assert_allclose([r["F_group"], r["F_pre"]], [74.3230572140253, 150.1486609495524],
                    rtol=RTOL)


def test_smd_and_flags():
    assert did.smd([1, 2, 3], [1, 2, 3]) == 0
    assert did.smd([2, 3, 4], [1, 2, 3]) == pytest.approx(1.0)
    assert [did.balance_flag(v) for v in (0.05, -0.2, 0.4)] == ["good", "acceptable",
                                                                "imbalanced"]


def _simulated_panel(rng, effect, units=20, periods=10, treated_units=8):
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    tr = (u < treated_units).astype(float)
    post = (t >= periods // 2).astype(float)
    unit_fx = rng.normal(0, 1, units)[u]
    shock = rng.normal(0, 0.5, units)[u] * t / periods  # unit-specific drift: clustering matters
    y = 5 + unit_fx + 0.1 * t + effect * tr * post + shock + rng.normal(0, 0.5, u.size)
    return pd.DataFrame({"y": y, "unit": u, "period": t, "treated": tr, "post": post})


def test_clustered_did_ci_covers_the_true_effect_about_95_percent():
    rng = np.random.default_rng(101)
    hits, runs = 0, 600
    for _ in range(runs):
        d = _simulated_panel(rng, effect=-1.0)
        t = did.cluster_ols(d["y"], did.design_2x2(d), d["unit"]).term("treated:post")
        hits += t["ci_low"] <= -1.0 <= t["ci_high"]
    assert 0.925 <= hits / runs <= 0.975, hits / runs


