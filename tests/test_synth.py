"""Synthetic control, its placebos and synthetic DiD against R (tests/reference_synth.R:
quadprog::solve.QP for every simplex fit, base R for the rest), the weights' optimality
conditions, the null calibration of the placebo p-value and the recovery of a known effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sqresearch.simulate.synth import factor_panel
from sqresearch.stats import sdid, synth, synth_placebo
from sqresearch.stats.synth import SynthDataError, simplex_lstsq

RTOL, ATOL = 1e-6, 1e-10
TIDY = {"unit": "unit", "period": "period", "outcome": "value"}


def sc_panel() -> pd.DataFrame:
    """The R script's panel: unit 'u0' (i = 2.5) treated, six donors, periods 1-13, +2 from 11."""
    i = np.array([2.5, 0, 1, 2, 3, 4, 5])[:, None]
    t = np.arange(1, 14)[None, :]
    y = (10 + 0.5 * i + 0.3 * t * (1 + 0.1 * i) + np.sin(1.7 * i + 0.9 * t)
         + ((3 * i + 7 * t + i * t) % 11 - 5) / 10)
    y[0, 10:] += 2
    return pd.DataFrame(y, index=[f"u{k}" for k in range(7)], columns=range(1, 14))


def sdid_panel() -> np.ndarray:
    """The R script's SDID panel: rows 1-10 controls, 11-12 treated; 6 pre, 3 post, +1.5."""
    i = np.arange(1, 13)[:, None]
    t = np.arange(1, 10)[None, :]
    s = (5 + 0.4 * i + 0.2 * t * (1 + 0.05 * i) + np.cos(1.3 * i + 0.7 * t)
         + ((5 * i + 3 * t + 2 * i * t) % 13 - 6) / 10)
    s[10:, 6:] += 1.5
    return s


def simplex_kkt(a, b, ridge, w, tol=1e-8):
    """First-order conditions of min ‖a w − b‖² + ridge‖w‖² on the simplex: the gradient is
    equal (= μ) on the support and ≥ μ off it."""
    g = 2 * a.T @ (a @ w - b) + 2 * ridge * w
    on = w > 1e-9
    mu = g[on].mean()
    scale = max(1.0, np.abs(g).max())
    assert_allclose(g[on], mu, atol=tol * scale)
    assert np.all(g[~on] >= mu - tol * scale)
    assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-12


def test_weights_gaps_and_rmspe_match_quadprog():
    fit = synth.synth_control(sc_panel(), "u0", first_post=11)
    # R: simplex(t(Y[2:7, pre]), Y[1, pre]) = solve.QP(crossprod(a), crossprod(a, b),
    #    cbind(1, diag(6)), c(1, rep(0, 6)), meq = 1)$solution
    assert_allclose(fit.weights["weight"], [9.58991309714583e-02, 0, 4.42878905175011e-01,
                                            3.60280141102085e-01, 0, 1.00941822751445e-01],
                    rtol=RTOL, atol=ATOL)
    # R: f$gap
    assert_allclose(fit.gaps["gap"], [
        -0.44473833796636164, -0.02815308139733119, 0.33146352038723137, 0.00876290321614803,
        -0.24905228704453464, 0.26329432945803433, 0.03553202884598328, 0.09931838380630609,
        -0.07241585858231758, -0.00638942361274886, 2.15029538244938756, 1.78008824641635854,
        2.39712345442874764], rtol=RTOL, atol=ATOL)
    # R: c(f$pre, f$post, mean(f$gap[!pre]))
    assert_allclose([fit.pre_rmspe, fit.post_rmspe, fit.effect],
                    [0.213609955858924, 2.124357569759639, 2.109169027764831], rtol=RTOL)
    assert not fit.poor_fit and fit.caveats == ()
    y = sc_panel().to_numpy()
    simplex_kkt(y[1:, :10].T, y[0, :10], 0.0, fit.weights["weight"].to_numpy())
    s = fit.summary().iloc[0]
    assert (s["n_pre"], s["n_post"], s["donors"]) == (10, 3, 4)
    assert s["ratio"] == pytest.approx(fit.post_rmspe / fit.pre_rmspe)


def test_tidy_input_and_pre_mask_give_the_same_fit():
    wide = sc_panel()
    tidy = wide.rename_axis("unit").reset_index().melt("unit", var_name="period",
                                                       value_name="value")
    a = synth.synth_control(wide, "u0", first_post=11)
    b = synth.synth_control(tidy.sample(frac=1, random_state=1), "u0", 11, **TIDY)
    c = synth.synth_control(wide, "u0", pre=np.arange(1, 14) <= 10)
    assert_allclose(b.weights["weight"], a.weights["weight"], rtol=1e-12, atol=1e-14)
    assert_allclose(c.gaps["gap"], a.gaps["gap"], rtol=1e-12)


def test_covariates_stacked_with_the_weight_of_one_period_match_quadprog():
    i = np.array([2.5, 0, 1, 2, 3, 4, 5])
    cov = pd.DataFrame({"x1": np.cos(i), "x2": (i - 2) ** 2}, index=sc_panel().index)
    fit = synth.synth_control(sc_panel(), "u0", 11, covariates=cov)
    # R: Z <- scale(X) * sqrt(mean(apply(Y[, pre], 2, var)));
    #    simplex(rbind(t(Y[2:7, pre]), t(Z[2:7, ])), c(Y[1, pre], Z[1, ]))
    assert_allclose(fit.weights["weight"], [0, 1.22787964251231e-02, 5.16525821904777e-01,
                                            3.97154356242658e-01, 7.40410254274423e-02, 0],
                    rtol=RTOL, atol=ATOL)


def test_placebo_in_space_ratios_rank_and_p_match_r():
    test = synth_placebo.placebo_in_space(sc_panel(), "u0", 11)
    # R: ratio <- c(f$post / f$pre, sapply(2:7, function(j) sc(j, setdiff(2:7, j)) ...))
    assert_allclose(test.table["ratio"], [9.945030704292856, 1.835107468200904,
                                          1.134387448496050, 1.029181884863833,
                                          0.902631451797258, 0.638776224468034,
                                          1.678057320032651], rtol=RTOL)
    # R: c(sum(ratio >= ratio[1]), sum(ratio >= ratio[1]) / 7) -> 1, 1/7
    assert (test.rank, test.n_units) == (1, 7)
    assert test.p_value == pytest.approx(0.142857142857143, rel=RTOL)
    assert test.summary().iloc[0]["smallest_p"] == pytest.approx(1 / 7)
    assert set(test.gaps["unit"]) == set(sc_panel().index) and len(test.gaps) == 7 * 13


def test_placebo_exclusion_drops_units_with_five_times_the_treated_mspe():
    d = factor_panel(np.random.default_rng(3), effect=3.0)
    test = synth_placebo.placebo_in_space(d, "flagship", 21, exclude_mspe=5, **TIDY)
    t = test.table
    mspe = t["pre_rmspe"] ** 2
    assert_allclose(t["excluded"], mspe > 5 * mspe.iloc[0])
    assert test.n_units == (~t["excluded"]).sum()
    assert test.rank == (t.loc[~t["excluded"], "ratio"] >= t["ratio"].iloc[0]).sum()
    assert t.loc[t["excluded"], "rank"].isna().all()


def test_in_time_placebo_is_the_fit_on_pre_data_with_an_earlier_date():
    d = factor_panel(np.random.default_rng(4), effect=3.0)
    wide = synth.panel_matrix(d, "unit", "period", "value")
    fake = synth.in_time_placebo(d, "flagship", 21, shift=5, **TIDY)
    direct = synth.synth_control(wide.loc[:, :20], "flagship", 16)
    assert_allclose(fake.gaps["gap"], direct.gaps["gap"], rtol=1e-12)
    assert fake.gaps["post"].sum() == 5 and "in-time placebo" in fake.method
    real = synth.synth_control(d, "flagship", 21, **TIDY)
    assert abs(fake.effect) < 1.0 < 2.0 < real.effect  # true effect 3, none before


def test_caveats_for_few_pre_periods_and_a_poor_fit():
    wide = sc_panel()
    few = synth.synth_control(wide.loc[:, :6], "u0", 5)  # 4 pre-periods, 6 donors
    assert any("4 pre-periods for 6 donors" in c for c in few.caveats)
    outside = wide.copy()
    outside.loc["u0"] = outside.loc["u5"] + 3 + np.sin(np.arange(13))  # above every donor
    bad = synth.synth_control(outside, "u0", 11)
    assert bad.poor_fit and bad.pre_rmspe > synth.POOR_FIT_SHARE * bad.treated_pre_sd
    assert any("poor pre-period fit" in c for c in bad.caveats)


def test_bad_panels_get_a_data_error():
    wide = sc_panel()
    holes = wide.copy()
    holes.iloc[3, 4] = np.nan
    with pytest.raises(SynthDataError, match="missing.*balanced"):
        synth.synth_control(holes, "u0", 11)
    with pytest.raises(SynthDataError, match="not in the panel"):
        synth.synth_control(wide, "flagship", 11)
    with pytest.raises(SynthDataError, match="pre-period"):
        synth.synth_control(wide, "u0", 2)
    tidy = wide.rename_axis("unit").reset_index().melt("unit", var_name="period",
                                                       value_name="value")
    with pytest.raises(SynthDataError, match="more than once"):
        synth.synth_control(pd.concat([tidy, tidy.head(1)]), "u0", 11, **TIDY)
    with pytest.raises(SynthDataError, match="more controls than treated"):
        sdid.synth_did(wide, ["u0", "u1", "u2", "u3"], 11)


def test_sdid_matches_quadprog_and_the_closed_form():
    s = sdid_panel()
    fit = sdid.sdid_estimate(s, 10, 6)
    # R: sigma <- sd(apply(co_pre, 1, diff)); zeta_o <- (N1 * T1)^(1/4) * sigma
    assert_allclose([fit["noise_level"], fit["zeta_omega"]],
                    [0.718987232764966, 1.125275831270012], rtol=RTOL)
    # R: simplex(scale(t(co_pre), scale = FALSE), tr_pre - mean(tr_pre), zeta_o^2 * T0)
    assert_allclose(fit["omega"], [1.64751924894856e-01, 2.10521409446041e-01,
                                   4.51382209443834e-02, 0, 0, 1.62617526710017e-01,
                                   2.65937905959628e-01, 7.84412705152555e-02, 0,
                                   7.25917415298187e-02], rtol=RTOL, atol=ATOL)
    # R: simplex(scale(co_pre, scale = FALSE), co_post - mean(co_post), zeta_l^2 * N0)
    assert_allclose(fit["lam"], [4.50895235788966e-01, 0, 0, 0, 0, 5.49104764211035e-01],
                    rtol=RTOL, atol=ATOL)
    # R: (tr_post - sum(lambda * tr_pre)) - sum(omega * (co_post - co_pre %*% lambda))
    assert fit["estimate"] == pytest.approx(1.63642543504031, rel=RTOL)
    # uniform weights: the plain 2x2 DiD, by hand and in R (1.6036622309348)
    uni = sdid.sdid_estimate(s, 10, 6, omega=np.full(10, 0.1), lam=np.full(6, 1 / 6))
    did = (s[10:, 6:].mean() - s[10:, :6].mean()) - (s[:10, 6:].mean() - s[:10, :6].mean())
    assert uni["estimate"] == pytest.approx(did, rel=1e-12)
    assert did == pytest.approx(1.6036622309348, rel=RTOL)


def test_sdid_weights_satisfy_their_optimality_conditions():
    s = factor_panel(np.random.default_rng(5), treated=3, effect=2.0)
    y = synth.panel_matrix(s, "unit", "period", "value").to_numpy()
    y = np.r_[y[3:], y[:3]]  # controls first
    fit = sdid.sdid_estimate(y, 15, 20)
    co_pre, tr_pre = y[:15, :20], y[15:, :20].mean(axis=0)
    co_post = y[:15, 20:].mean(axis=1)
    a = co_pre.T - co_pre.T.mean(axis=0)
    simplex_kkt(a, tr_pre - tr_pre.mean(), fit["zeta_omega"] ** 2 * 20, fit["omega"])
    b = co_pre - co_pre.mean(axis=0)
    simplex_kkt(b, co_post - co_post.mean(), fit["zeta_lambda"] ** 2 * 15, fit["lam"])
    # the intercepts are profiled out: shifting a unit's whole path leaves ω alone
    shifted = y.copy()
    shifted[:15] += np.arange(15)[:, None]
    assert_allclose(sdid.sdid_estimate(shifted, 15, 20)["omega"], fit["omega"], atol=1e-9)


def test_simplex_lstsq_recovers_an_interior_solution_and_handles_scale():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(30, 5))
    w = np.array([0.1, 0.4, 0.0, 0.3, 0.2])
    assert_allclose(simplex_lstsq(a, a @ w), w, atol=1e-10)
    assert_allclose(simplex_lstsq(1e6 * a, 1e6 * (a @ w)), w, atol=1e-9)
    assert_allclose(simplex_lstsq(a[:, :1], a[:, 0]), [1.0])


def test_placebo_p_value_is_uniform_under_the_null():
    """Reduced calibration (benchmarks/calibration_synth.py has the full table): 9 donors, so
    p ∈ {0.1, 0.2, …, 1} and P(p ≤ 0.1) = P(p ≤ 0.2)/2 = 0.1 exactly under exchangeability."""
    rng = np.random.default_rng(20240613)
    p = np.array([synth_placebo.placebo_in_space(
        factor_panel(rng, donors=9, pre=12, post=4), "flagship", 13, pool="all", **TIDY).p_value
        for _ in range(200)])
    # 200 draws, binomial(200, 0.1) sd = 2.1 points; 0.2: 2.8 points. 3-sd bands.
    assert 0.1 - 0.064 <= np.mean(p <= 0.1 + 1e-12) <= 0.1 + 0.064
    assert 0.2 - 0.085 <= np.mean(p <= 0.2 + 1e-12) <= 0.2 + 0.085
    assert 0.5 - 0.107 <= np.mean(p <= 0.5 + 1e-12) <= 0.5 + 0.107


def test_sdid_recovers_a_known_effect_and_covers_it():
    rng = np.random.default_rng(7)
    cover, est = [], []
    treated = ["treated_1", "treated_2", "treated_3"]
    for r in range(25):
        d = factor_panel(rng, treated=3, effect=2.0)
        f = sdid.synth_did(d, treated, 21, placebo_reps=40, seed=r, **TIDY)
        cover.append(f.ci_low <= 2.0 <= f.ci_high)
        est.append(f.estimate)
    assert abs(np.mean(est) - 2.0) < 0.25
    assert np.mean(cover) >= 0.8  # 25 replications, 40 placebo draws each
    s = f.summary().iloc[0]
    assert s["n_treated"] == 3 and s["n_control"] == 15 and s["placebo_reps"] == 40
    assert f.unit_weights["weight"].sum() == pytest.approx(1)
