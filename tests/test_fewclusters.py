"""Few-cluster inference: the fast WCR bootstrap against a brute-force refit loop (and
wildboottest when installed), test-inversion CIs at the α boundary, randomization inference
against assignments listed by hand, the choice rule, and a small size calibration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sqresearch import simulate
from sqresearch.stats import did
from sqresearch.stats import fewclusters as fc


def brute_force(y, x: pd.DataFrame, g, term: str, beta0: float, v: np.ndarray):
    """Refit every bootstrap sample: t* for each row of weights v, and the sample t."""
    y = np.asarray(y, dtype=float)
    xm = x.to_numpy(dtype=float)
    g = pd.factorize(np.asarray(g))[0]
    n, k = xm.shape
    n_g = g.max() + 1
    j = list(x.columns).index(term)

    def fit(yy):
        b = np.linalg.lstsq(xm, yy, rcond=None)[0]
        e = yy - xm @ b
        s = np.zeros((n_g, k))
        for i in range(n):
            s[g[i]] += xm[i] * e[i]
        bread = np.linalg.inv(xm.T @ xm)
        vc = n_g / (n_g - 1) * (n - 1) / (n - k) * bread @ (s.T @ s) @ bread
        return b[j], math.sqrt(vc[j, j])

    xr = np.delete(xm, j, axis=1)
    yr = y - beta0 * xm[:, j]
    fitted = xr @ np.linalg.lstsq(xr, yr, rcond=None)[0]
    ur = yr - fitted
    draws = []
    for row in v:
        b, s = fit(fitted + beta0 * xm[:, j] + ur * row[g])
        draws.append((b - beta0) / s)
    b, s = fit(y)
    return np.array(draws), (b - beta0) / s


def small_panel(seed=3):
    d = simulate.did_panel(np.random.default_rng(seed), 8, 3, periods=6, effect=0.8)
    return d, {"2x2": did.design_2x2(d), "twfe": did.design_twfe(d, "unit", "period")}


@pytest.mark.parametrize("design", ["2x2", "twfe"])
def test_wcr_enumerated_equals_brute_force(design):
    d, designs = small_panel()
    x = designs[design]
    r = fc.wild_cluster_restricted(d["value"], x, d["unit"], weights="rademacher", seed=None)
    assert r.enumerated and r.resamples == 256 and r.weights == "rademacher"
    v, enumerated = fc.wild_weights(8, "rademacher", 9999, None)
    assert enumerated and len({tuple(row) for row in v}) == 256
    fit = did.cluster_ols(d["value"], x, d["unit"]).term("treated:post")
    assert_allclose([r.estimate, r.se, r.t], [fit["estimate"], fit["se"], fit["t"]], rtol=1e-12)
    for beta0 in (0.0, 0.7, -1.3):
        draws, t = brute_force(d["value"], x, d["unit"], "treated:post", beta0, v)
        assert_allclose(r.t_draws(beta0), draws, rtol=1e-10, atol=1e-10)
        p = np.mean(np.abs(draws) >= abs(t) * (1 - fc.TIE_RTOL))
        assert r.p_at(beta0) == p
    assert r.p_value == r.p_at(0.0) and (r.p_value * 256).is_integer()


def test_wcr_webb_draws_equal_brute_force_and_do_not_depend_on_batching(monkeypatch):
    d, designs = small_panel(5)
    x = designs["twfe"]
    r = fc.wild_cluster_restricted(d["value"], x, d["unit"], resamples=499, seed=11)
    assert r.weights == "webb" and not r.enumerated and r.resamples == 499
    v, _ = fc.wild_weights(8, "webb", 499, 11)
    assert set(np.unique(np.round(v ** 2, 12))) == {0.5, 1.0, 1.5}
    draws, t = brute_force(d["value"], x, d["unit"], "treated:post", 0.0, v)
    assert_allclose(r.t_draws(), draws, rtol=1e-10, atol=1e-10)
    assert r.p_value == np.mean(np.abs(draws) >= abs(t) * (1 - fc.TIE_RTOL))
    monkeypatch.setattr("sqresearch.stats.wildboot._BATCH_ELEMENTS", 50)  # 16 draws a batch
    again = fc.wild_cluster_restricted(d["value"], x, d["unit"], resamples=499, seed=11)
    assert_allclose(again.t_draws(), r.t_draws(), rtol=1e-12)
    assert (again.p_value, again.ci_low, again.ci_high) == (r.p_value, r.ci_low, r.ci_high)


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
def test_wcr_ci_is_the_test_inverted(weights):
    d, designs = small_panel(7)
    r = fc.wild_cluster_restricted(d["value"], designs["2x2"], d["unit"], weights=weights,
                                   resamples=999, seed=2)
    assert r.ci_low < r.estimate < r.ci_high
    assert r.p_at(r.estimate) == 1.0
    eps = 1e-9 * (abs(r.ci_low) + abs(r.ci_high))
    assert r.p_at(r.ci_low) >= 0.05 > r.p_at(r.ci_low - eps)
    assert r.p_at(r.ci_high) >= 0.05 > r.p_at(r.ci_high + eps)
    inside = np.linspace(r.ci_low, r.ci_high, 101)
    assert (r.p_at(inside) >= 0.05).all()
    assert (r.ci_low <= 0 <= r.ci_high) == (r.p_value >= 0.05)
    assert r.interval(0.95) == (r.ci_low, r.ci_high)  # any level, the same draws
    lo90, hi90 = r.interval(0.90)
    assert r.ci_low <= lo90 <= hi90 <= r.ci_high and r.p_at(lo90) >= 0.10
    tidy = r.summary()
    assert tidy.shape[0] == 1 and {"estimate", "p_value", "ci_low", "method"} <= set(tidy)


def test_wcr_matches_wildboottest_under_full_enumeration():
    wbt = pytest.importorskip("wildboottest.wildboottest")
    d, designs = small_panel(9)
    x = designs["2x2"]
    r = fc.wild_cluster_restricted(d["value"], x, d["unit"], weights="rademacher", seed=None)
    R = (np.array(x.columns) == "treated:post").astype(float)
    b = wbt.WildboottestCL(X=x.to_numpy(), Y=d["value"].to_numpy(), cluster=d["unit"].to_numpy(),
                           R=R, B=9999, seed=1, parallel=False)
    b.get_scores(bootstrap_type="11", impose_null=True)
    b.get_weights("rademacher")
    b.get_numer()
    b.get_denom()
    b.get_tboot()
    b.get_vcov()
    b.get_tstat()
    b.get_pvalue(pval_type="two-tailed")
    assert b.B == 256
    assert_allclose(np.sort(np.abs(np.ravel(b.t_boot))), np.sort(np.abs(r.t_draws())),
                    rtol=1e-9)
    assert float(np.ravel(b.t_stat)[0]) == pytest.approx(r.t, rel=1e-10)
    # wildboottest counts |t*| > |t| strictly, so the draws v = ±1 that reproduce |t| count or
    # not as rounding falls; with ties counted its draws give our p exactly
    their_t = np.ravel(b.t_boot)
    assert r.p_value == np.mean(np.abs(their_t) >= abs(r.t) * (1 - fc.TIE_RTOL))
    assert r.p_value - 2 / 256 - 1e-12 <= float(b.pvalue) <= r.p_value


def did_fit(frame: pd.DataFrame) -> float:
    fit = did.cluster_ols(frame["value"], did.design_2x2(frame), frame["unit"])
    return float(fit.beta[fit.names.index("treated:post")])


def twfe_fit(frame: pd.DataFrame) -> float:
    fit = did.cluster_ols(frame["value"], did.design_twfe(frame, "unit", "period"),
                          frame["unit"])
    return float(fit.beta[fit.names.index("treated:post")])


def tiny_panel(unbalanced: bool) -> pd.DataFrame:
    d = simulate.did_panel(np.random.default_rng(4), 5, 2, periods=4, effect=1.5)
    if unbalanced:
        d = d.drop(index=[0, 7, 9, 18]).reset_index(drop=True)  # units 0, 1, 2, 4
    return d


@pytest.mark.parametrize("unbalanced", [False, True])
def test_ri_exact_enumeration_by_hand(unbalanced):
    d = tiny_panel(unbalanced)
    r = fc.randomization_inference(d, unit="unit", seed=None)
    assert r.exact and r.assignments == r.total_assignments == 10
    assert r.granularity == r.min_p == 0.1 and r.can_reject is False
    assert r.estimate == pytest.approx(did_fit(d), abs=1e-12)
    by_hand = []
    for chosen in itertools.combinations(range(5), 2):  # the ten assignments, listed
        by_hand.append(did_fit(d.assign(treated=d["unit"].isin(chosen).astype(float))))
    assert_allclose(np.sort(r.estimates()), np.sort(by_hand), atol=1e-12)
    p = np.mean(np.abs(by_hand) >= abs(did_fit(d)) - 1e-12)
    assert r.p_value == pytest.approx(p)
    assert "can never reject" in r.note and math.isinf(r.ci_low) and math.isinf(r.ci_high)


def test_ri_callable_twfe_and_ci_inversion():
    d = simulate.did_panel(np.random.default_rng(8), 9, 3, periods=4, effect=1.0)
    r = fc.randomization_inference(d, unit="unit", estimator=twfe_fit, seed=None)
    assert r.exact and r.assignments == 84 and r.can_reject
    listed = [twfe_fit(d.assign(treated=d["unit"].isin(c).astype(float)))
              for c in itertools.combinations(range(9), 3)]
    assert r.p_value == pytest.approx(np.mean(np.abs(listed) >= abs(r.estimate) - 1e-12))
    builtin = fc.randomization_inference(d, unit="unit", seed=None)  # balanced: same estimate
    assert builtin.p_value == r.p_value
    assert_allclose([builtin.ci_low, builtin.ci_high], [r.ci_low, r.ci_high], rtol=1e-9)
    assert r.interval(0.95) == (r.ci_low, r.ci_high)
    assert r.ci_low < r.estimate < r.ci_high
    eps = 1e-9 * (abs(r.ci_low) + abs(r.ci_high))
    assert r.p_at(r.ci_low) >= 0.05 > r.p_at(r.ci_low - eps)
    assert r.p_at(r.ci_high) >= 0.05 > r.p_at(r.ci_high + eps)
    # inverting under a constant effect: testing β0 on y equals testing 0 on y − β0·D
    shifted = d.assign(value=d["value"] - 0.4 * d["treated"] * d["post"])
    assert fc.randomization_inference(shifted, unit="unit", seed=None, ci=False).p_value == (
        pytest.approx(builtin.p_at(0.4)))
    with pytest.raises(ValueError, match="not linear"):
        fc.randomization_inference(d, unit="unit", estimator=lambda f: did_fit(f) ** 2,
                                   seed=None)


def test_ri_sampled_assignments_are_seeded():
    d = simulate.did_panel(np.random.default_rng(2), 20, 8, periods=4)
    a = fc.randomization_inference(d, unit="unit", resamples=999, seed=5, ci=False)
    b = fc.randomization_inference(d, unit="unit", resamples=999, seed=5, ci=False)
    assert not a.exact and a.assignments == 1000 and a.total_assignments == math.comb(20, 8)
    assert a.p_value == b.p_value and a.p_value >= 1 / 1000 and "random" in a.method
    assert a.summary().shape[0] == 1


def test_choose_inference():
    assert fc.choose_inference(40, 15, 25)[0] == "cluster_robust_t"
    assert fc.choose_inference(40, 8, 32)[0] == "wild_cluster_bootstrap_wcr"
    assert fc.choose_inference(20, 8, 12)[0] == "wild_cluster_bootstrap_wcr"
    assert fc.choose_inference(12, 2, 10)[0] == "randomization_inference"
    rule, why = fc.choose_inference(50, 46, 4)
    assert rule == "randomization_inference" and "4 control" in why
    with pytest.raises(ValueError):
        fc.choose_inference(12, 2, 9)


def test_calibration_few_treated_clusters():
    """Under a true null: CR1 t over-rejects with 2 treated of 12; RI does not; WCR with 8 of 20
    holds its level. (Full grid: benchmarks/calibration_did.py.)"""
    rng = np.random.default_rng(20240611)
    reps = 200
    t_rej = ri_rej = wcr_rej = 0
    for i in range(reps):
        d = simulate.did_panel(rng, 12, 2)
        t_rej += did.cluster_ols(d["value"], did.design_2x2(d), d["unit"]).term(
            "treated:post")["p_value"] < 0.05
        ri_rej += fc.randomization_inference(d, unit="unit", seed=None, ci=False).p_value < 0.05
        d20 = simulate.did_panel(rng, 20, 8)
        wcr_rej += fc.wild_cluster_restricted(d20["value"], did.design_2x2(d20), d20["unit"],
                                              resamples=399, seed=i, ci=False).p_value < 0.05
    assert t_rej / reps > 0.10
    assert ri_rej / reps <= 0.08
    assert wcr_rej / reps <= 0.08
