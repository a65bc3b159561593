"""Staggered adoption: ATT(g, t) against the 2 × 2 of group means computed here, the doubly
robust estimator and the TWFE fit against base R (tests/reference_staggered.R), aggregations
against hand-weighted sums, the Goodman-Bacon identity, recovery of simulated effects and a
reduced calibration of the multiplier bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sqresearch.simulate.staggered import staggered_panel
from sqresearch.stats import staggered as st
from sqresearch.stats import staggered_agg as agg
from sqresearch.stats import staggered_twfe as tw

RTOL = 1e-9


def reference_panel() -> pd.DataFrame:
    """The deterministic panel of tests/reference_staggered.R."""
    unit = np.repeat(np.arange(1, 37), 5)
    period = np.tile(np.arange(1, 6), 36)
    g = np.array([3, 4, 0, 0])[(unit - 1) % 4]
    x1 = np.sin(1.3 * unit) + 0.4 * (g > 0) + 0.05 * period * np.cos(unit)
    x2 = np.cos(2.1 * unit)
    d = ((g > 0) & (period >= g)).astype(float)
    y = (0.2 * (unit % 5) + 0.7 * period + 0.3 * x1 * period + 0.5 * np.sin(0.9 * unit * period)
         + d * (1 + 0.5 * (period - g)))
    return pd.DataFrame({"unit": unit, "period": period, "cohort": g, "x1": x1, "x2": x2,
                         "value": y})


def sim(seed=1, cohorts=None, never=10, effect=0.0, periods=8, **kw) -> pd.DataFrame:
    cohorts = {3: 10, 5: 10, 7: 10} if cohorts is None else cohorts
    return staggered_panel(np.random.default_rng(seed), periods, cohorts, never, effect, **kw)


def by_hand(d: pd.DataFrame, g: int, t: int, b: int, comparison: str) -> float:
    """ATT(g, t): the difference of cohort-g and comparison mean changes from b to t."""
    wide = d.pivot(index="unit", columns="period", values="value")
    coh = d.groupby("unit")["cohort"].first()
    change = wide[t] - wide[b]
    comp = coh == 0
    if comparison == "notyet":
        comp |= (coh > max(t, b)) & (coh != g)
    return change[coh == g].mean() - change[comp].mean()


@pytest.mark.parametrize("comparison", ["never", "notyet"])
@pytest.mark.parametrize("base", ["varying", "universal"])
def test_att_gt_is_the_2x2_of_group_means(comparison, base):
    d = sim(seed=3, effect=lambda e, g: 1 + 0.5 * e)
    gt = st.att_gt(d, comparison=comparison, base=base)
    tab = gt.table
    # varying: 3 cohorts × 7 periods; universal: 3 × 8 less the periods before the base
    assert len(tab) == (21 if base == "varying" else 24)
    for r in tab.itertuples():
        want_b = r.group - 1 if (base == "universal" or r.time >= r.group) else r.time - 1
        assert r.base == want_b
        assert_allclose(r.att, by_hand(d, r.group, r.time, r.base, comparison), rtol=RTOL,
                        atol=1e-12)
    # the influence function: Σψ²/N² = s₁²/n₁ + s₀²/n₀, the Welch variance (R did, without
    # the small-sample factors: variances with divisor n)
    raw = st.att_gt(d, comparison=comparison, base=base, small_sample=False)
    assert_allclose(raw.table["att"], tab["att"], rtol=0, atol=0)
    wide = d.pivot(index="unit", columns="period", values="value")
    coh = d.groupby("unit")["cohort"].first().to_numpy()
    for k, r in enumerate(tab.itertuples()):
        change = (wide[r.time] - wide[r.base]).to_numpy()
        comp = (coh == 0) | ((comparison == "notyet") & (coh > max(r.time, r.base))
                             & (coh != r.group))
        assert comp.sum() == r.n_comparison
        for fit, ddof in ((gt, 1), (raw, 0)):
            want = np.sqrt(change[coh == r.group].var(ddof=ddof) / r.n_treated
                           + change[comp].var(ddof=ddof) / comp.sum())
            assert_allclose(np.sqrt(np.sum(fit.influence[:, k] ** 2)) / len(coh), want,
                            rtol=RTOL, atol=1e-15)
    if base == "universal":
        ref = tab["time"] == tab["group"] - 1
        assert (tab.loc[ref, "att"] == 0).all() and ref.sum() == 3
        s = gt.summary(seed=5, resamples=199)
        assert (s.loc[ref, "se"] == 0).all()


# Rscript tests/reference_staggered.R: cell(g, t, b[, notyet = TRUE]) → att, sqrt(Σψ²)/N
R_DR = {("never", 3, 2): (0.0895052195582904, 0.2118037466533008),
        ("never", 3, 3): (1.029025778764245, 0.201793317856757),
        ("never", 3, 4): (1.409626611687927, 0.234276732502991),
        ("never", 3, 5): (1.903028751578683, 0.303008002255644),
        ("never", 4, 2): (-0.0779769312523472, 0.2167564271741801),
        ("never", 4, 3): (0.0457330042585398, 0.2298195555281041),
        ("never", 4, 4): (1.115316521502647, 0.366209583412831),
        ("never", 4, 5): (1.582768706806977, 0.250126048076626),
        ("notyet", 3, 3): (0.976306239808413, 0.189623691519893),
        ("notyet", 3, 4): (1.409626611687927, 0.234276732502991),
        ("notyet", 4, 2): (-0.178389574056576, 0.206285029077306),
        ("notyet", 4, 3): (0.0457330042585398, 0.2298195555281041)}


@pytest.mark.parametrize("comparison", ["never", "notyet"])
def test_doubly_robust_att_and_influence_match_r(comparison):
    gt = st.att_gt(reference_panel(), comparison=comparison, covariates=["x1", "x2"],
                   small_sample=False)
    tab = gt.table.reset_index(drop=True)
    checked = 0
    for (comp, g, t), (att, se_if) in R_DR.items():
        if comp != comparison:
            continue
        k = tab.index[(tab["group"] == g) & (tab["time"] == t)][0]
        assert_allclose(tab.loc[k, "att"], att, rtol=1e-9)
        assert_allclose(np.sqrt(np.sum(gt.influence[:, k] ** 2)) / 36, se_if, rtol=1e-9)
        checked += 1
    assert checked == (8 if comparison == "never" else 4)
    assert gt.caveats == ()
    # the small-sample factors: √(n₁/(n₁ − 1)) on the cohort, √(n₀/(n₀ − 3)) on the comparison
    ss = st.att_gt(reference_panel(), comparison=comparison, covariates=["x1", "x2"])
    coh = gt.unit_cohort
    for k, r in enumerate(tab.itertuples()):
        factor = np.where(coh == r.group, np.sqrt(r.n_treated / (r.n_treated - 1)),
                          np.sqrt(r.n_comparison / (r.n_comparison - 3)))
        assert_allclose(ss.influence[:, k], gt.influence[:, k] * factor, rtol=1e-12)


def test_doubly_robust_without_covariates_is_the_difference_in_means():
    rng = np.random.default_rng(7)
    dy, d = rng.normal(size=30), (np.arange(30) < 12).astype(float)
    att, psi, _ = st._dr_panel(dy, d, np.empty((30, 0)))
    m1, m0 = dy[d == 1].mean(), dy[d == 0].mean()
    assert_allclose(att, m1 - m0, rtol=RTOL)
    want = np.where(d == 1, (dy - m1) * 30 / 12, -(dy - m0) * 30 / 18)
    assert_allclose(psi, want, rtol=1e-9, atol=1e-12)


def test_aggregations_are_the_hand_weighted_sums():
    d = sim(seed=11, cohorts={3: 6, 5: 12, 7: 9}, never=8, effect=lambda e, g: 0.3 * e + g / 10)
    gt = st.att_gt(d)
    tab, n = gt.table, 35
    size = {3: 6, 5: 12, 7: 9}
    att = {(r.group, r.time): r.att for r in tab.itertuples()}
    post = [(g, t) for (g, t) in att if t >= g]
    simple = agg.aggregate(gt, "simple")
    assert_allclose(simple.overall, sum(size[g] * att[g, t] for g, t in post)
                    / sum(size[g] for g, _ in post), rtol=RTOL)
    group = agg.aggregate(gt, "group")
    theta = {g: np.mean([att[g, t] for t in range(g, 9)]) for g in size}
    assert_allclose(group.table["estimate"], [theta[g] for g in (3, 5, 7)], rtol=RTOL)
    assert_allclose(group.overall, sum(size[g] * theta[g] for g in size) / 27, rtol=RTOL)
    dyn = agg.aggregate(gt, "dynamic")
    for r in dyn.table.itertuples():
        cells = [(g, g + r.level) for g in size if (g, g + r.level) in att]
        assert_allclose(r.estimate, sum(size[g] * att[g, t] for g, t in cells)
                        / sum(size[g] for g, _ in cells), rtol=RTOL)
    assert list(dyn.table["level"]) == list(range(-5, 6))
    assert_allclose(dyn.overall, dyn.table["estimate"][dyn.table["level"] >= 0].mean(),
                    rtol=RTOL)
    cal = agg.aggregate(gt, "calendar")
    for r in cal.table.itertuples():
        gs = [g for g in size if g <= r.level]
        assert_allclose(r.estimate, sum(size[g] * att[g, r.level] for g in gs)
                        / sum(size[g] for g in gs), rtol=RTOL)
    # balanced event times: only cohorts observed 3 periods after adoption (3 and 5), event
    # times up to 3 (before adoption, as in R aggte, whatever these cohorts have)
    bal = agg.aggregate(gt, "dynamic", balance_e=3)
    assert list(bal.table["level"]) == list(range(-3, 4))
    for r in bal.table.itertuples():
        cells = [(g, g + r.level) for g in (3, 5) if (g, g + r.level) in att]
        assert_allclose(r.estimate, sum(size[g] * att[g, t] for g, t in cells)
                        / sum(size[g] for g, _ in cells), rtol=RTOL)
    assert list(bal.table["cells"]) == [1, 1, 2, 2, 2, 2, 2]
    # the overall influence function: Σ w_k ψ_k + Σ_k (ATT_k − θ)(1{G = g_k} − p_k)/Σ p
    # (the delta method for a ratio of estimated cohort shares)
    coh = gt.unit_cohort
    keep = np.flatnonzero(tab["time"] >= tab["group"])
    p = np.array([np.mean(coh == g) for g in tab["group"]])[keep]
    a = tab["att"].to_numpy()[keep]
    want = gt.influence[:, keep] @ (p / p.sum()) + sum(
        (ak - simple.overall) * ((coh == g) - pk) / p.sum()
        for g, pk, ak in zip(tab["group"].to_numpy()[keep], p, a, strict=True))
    assert_allclose(simple.overall_influence, want, rtol=1e-9, atol=1e-12)
    assert coh.size == n


def test_bootstrap_se_tracks_the_influence_function_and_is_seeded():
    gt = st.att_gt(sim(seed=2, cohorts={3: 40, 5: 40}, never=40))
    a = agg.aggregate(gt, "dynamic")
    s1 = a.summary(seed=9, resamples=4999)
    s2 = a.summary(seed=9, resamples=4999)
    pd.testing.assert_frame_equal(s1, s2)
    psi = np.column_stack([a.influence, a.overall_influence])
    analytic = np.sqrt(np.mean(psi ** 2, axis=0) / psi.shape[0])
    assert_allclose(s1["se"], analytic, rtol=0.1)
    rad = a.summary(seed=9, resamples=4999, weights="rademacher")
    assert_allclose(rad["se"], analytic, rtol=0.1)
    # the band is wider than the pointwise CIs, and p < α exactly when the CI excludes 0
    lev = s1["level"].notna()
    assert (s1.loc[lev, "crit"] > 1.96).all()
    assert ((s1["p_value"] < 0.05) == ((s1["ci_low"] > 0) | (s1["ci_high"] < 0))).all()


def test_simulated_effects_are_recovered():
    d = sim(seed=21, cohorts={3: 40, 5: 40, 7: 40}, never=40, effect=lambda e, g: 1 + 0.5 * e)
    gt = st.att_gt(d)
    truth = d[d["effect"] != 0].groupby(["cohort", "period"])["effect"].mean()
    dyn = agg.aggregate(gt, "dynamic").summary(seed=4)
    for r in dyn[dyn["level"].notna()].itertuples():
        true = 1 + 0.5 * r.level if r.level >= 0 else 0.0
        assert r.band_low <= true <= r.band_high, r
    simple = agg.aggregate(gt, "simple").summary(seed=4).iloc[-1]
    size = d.groupby("cohort")["unit"].nunique()
    true_simple = sum(size[g] * v for (g, _), v in truth.items()) / sum(
        size[g] for g, _ in truth.index)
    assert simple.ci_low <= true_simple <= simple.ci_high
    # trends that differ with a covariate: the unconditional estimate misses, the DR one not
    d = sim(seed=25, cohorts={4: 80}, never=80, effect=1.0, covariate_trend=1.0)
    naive = agg.aggregate(st.att_gt(d), "simple").summary(seed=1).iloc[-1]
    dr = agg.aggregate(st.att_gt(d, covariates=["x"]), "simple").summary(seed=1).iloc[-1]
    assert not naive.ci_low <= 1.0 <= naive.ci_high
    assert dr.ci_low <= 1.0 <= dr.ci_high


def test_twfe_bacon_identity_and_r():
    ref = reference_panel()
    fit = tw.twfe(ref)
    # Rscript tests/reference_staggered.R: lm(y ~ factor(unit) + factor(period) + D), CR1
    assert_allclose([fit["estimate"], fit["se"]], [1.722702878429437, 0.235496560747258],
                    rtol=1e-9)
    for d in (ref, sim(seed=5, effect=lambda e, g: 0.4 * e),
              sim(seed=6, cohorts={2: 3, 4: 7, 5: 4, 8: 6}, never=0, effect=1.0)):
        b = tw.bacon(d)
        assert_allclose(b["weight"].sum(), 1.0, rtol=1e-12)
        assert_allclose(np.sum(b["weight"] * b["estimate"]), tw.twfe(d)["estimate"],
                        rtol=1e-10)
    # one 2 × 2 by hand: cohort 3 against the never treated, all periods
    d = sim(seed=5, effect=lambda e, g: 0.4 * e)
    post = d["period"] >= 3
    m = d.groupby([d["cohort"], post])["value"].mean()
    row = tw.bacon(d).iloc[0]
    assert (row.type, row.treated, row.control) == ("treated vs never", 3, 0)
    assert_allclose(row.estimate, (m[3, True] - m[3, False]) - (m[0, True] - m[0, False]),
                    rtol=RTOL)


def test_twfe_weights_sum_to_one_and_reproduce_the_coefficient_without_noise():
    d = sim(seed=8, cohorts={2: 5, 4: 5, 6: 5}, never=0, periods=7)
    w = tw.twfe_weights(d)
    assert_allclose(w["weight"].sum(), 1.0, rtol=1e-12)
    # y = unit + period effects + τ(g, t): β_TWFE = Σ w(g, t)·τ(g, t) exactly
    tau = {(r.group, r.time): 1 + 0.7 * r.event_time + r.group / 3 for r in w.itertuples()}
    d["value"] = 0.3 * d["unit"] + np.sin(d["period"]) + [
        tau.get((g, t), 0.0) for g, t in zip(d["cohort"], d["period"], strict=True)]
    assert_allclose(tw.twfe(d)["estimate"], sum(r.weight * tau[r.group, r.time]
                                                for r in w.itertuples()), rtol=1e-9)
    # no never-treated units: the earliest cohort's late cells get negative weights
    neg = w[w["weight"] < 0]
    assert len(neg) > 0 and (neg["group"] == 2).all()


def test_bad_input_gets_a_message():
    d = sim(seed=1)
    early = d.copy()
    early.loc[early["unit"] == 0, "cohort"] = 1
    with pytest.raises(st.StaggeredDesignError, match="adopt in or before the first period"):
        st.att_gt(early)
    with pytest.raises(st.StaggeredDesignError, match="no never-treated units.*'notyet'"):
        st.att_gt(d[d["cohort"] > 0])
    with pytest.raises(st.StaggeredDesignError, match="not balanced"):
        st.att_gt(d.iloc[1:])
    changing = d.copy()
    changing.loc[(changing["unit"] == 0) & (changing["period"] == 8), "cohort"] = 5
    with pytest.raises(st.StaggeredDesignError, match="changes within 1 unit"):
        st.att_gt(changing)
    with pytest.raises(st.StaggeredDesignError, match="comparison 'nyt'"):
        st.att_gt(d, comparison="nyt")
    with pytest.raises(st.StaggeredDesignError, match="no column"):
        st.att_gt(d, covariates=["age"])
    one = sim(seed=1, cohorts={3: 1, 5: 10})
    assert any("cohort 3 has one unit" in c for c in st.att_gt(one).caveats)
    # not-yet-treated only: the last cohort's cells from its adoption on have no comparison
    gt = st.att_gt(d[d["cohort"] > 0], comparison="notyet")
    assert any("left out" in c for c in gt.caveats)
    assert gt.table["time"].max() == 6
    assert isinstance(st.StaggeredDesignError("x", "y"), ValueError)


def test_calibration_reduced():
    """200 panels (3 cohorts of 8 units, 12 never treated, 8 periods): the overall ATT rejects
    at about 5 % with no effect (Monte Carlo band: ≤ 9 %) and its 95 % CI covers a growing
    effect about 95 % of the time (≥ 88 %)."""
    rng = np.random.default_rng(20261201)
    reject, cover = 0, 0
    for i in range(200):
        for effect in (0.0, None):
            pn = staggered_panel(rng, 8, {3: 8, 5: 8, 7: 8}, 12,
                                 0.0 if effect == 0.0 else (lambda e, g: 1 + 0.5 * e))
            gt = st.att_gt(pn)
            s = agg.aggregate(gt, "simple").summary(seed=i, resamples=499).iloc[-1]
            if effect == 0.0:
                reject += s.p_value < 0.05
            else:
                true = pn.loc[pn["effect"] != 0, "effect"].mean()
                cover += s.ci_low <= true <= s.ci_high
    assert reject / 200 <= 0.09
    assert cover / 200 >= 0.88
