"""Drift charts with an estimated baseline: the conditional ARL, its mixture over the baseline's
error, the restart after a signal, and a reduced calibration through ``baseline_alerts``
(full table: benchmarks/calibration_drift.py). R spc checks of the known-baseline ARLs stay in
tests/test_alerts.py."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from sqresearch.stats import alerts_drift as ad

LAM = 0.2


def _h(c, lam=LAM):
    return c * math.sqrt(lam / (2 - lam))


# --- the run-length pieces against R spc and closed forms ---------------------------------

def test_alarm_rate_with_a_known_baseline_is_one_over_the_textbook_arl():
    h = _h(2.8)
    assert 1 / ad.alarm_rate("ewma", h, r=80) == pytest.approx(ad.ewma_arl(LAM, 2.8), rel=1e-12)
    assert 1 / ad.alarm_rate("ewma", h, r=80) == pytest.approx(409.871947608428, rel=1e-6)
    # xewma.arl(0.2, 2.8, 0, zr=0, sided="one") = 409.871947608428
    assert 1 / ad.alarm_rate("cusum", 4.0, k=0.5, r=80) == pytest.approx(335.367577627242,
                                                                          rel=1e-6)
    # xcusum.arl(0.5, 4, 0, sided="one") = 335.367577627242


def test_conditional_arl_of_n_mean_sd_scores_is_the_rescaled_chart():
    # z ~ N(1, 2²): the EWMA of z/2 has limit h/2 and mean 0.5 —
    # xewma.arl(0.1, 2.5, 0.5, zr=0, sided="one") = 22.4878923841078
    arl = ad.conditional_arl("ewma", 2 * _h(2.5, 0.1), 1.0, 2.0, lam=0.1, r=80)
    assert arl == pytest.approx(22.4878923841078, rel=1e-6)
    # CUSUM k = 0.5, h = 5 on N(1, 1) scaled by 3: xcusum.arl(0.5, 5, 1, sided="one")
    arl = ad.conditional_arl("cusum", 15.0, 3.0, 3.0, k=1.5, r=80)
    assert arl == pytest.approx(10.3759753002077, rel=1e-6)
    # t scores with huge df are normal scores
    a, b = (ad.conditional_arl("ewma", _h(2.6), 0.3, 1.2, df=df) for df in (1e8, math.inf))
    assert a == pytest.approx(b, rel=1e-6)


def test_conditional_arl_of_t_scores_agrees_with_simulated_run_lengths():
    """z = Φ⁻¹(F_6(T)), T ~ N(0.2, 1.1²): mean of 20,000 simulated run lengths."""
    df, mean, sd, h = 6.0, 0.2, 1.1, _h(2.4)
    arl = float(ad.conditional_arl("ewma", h, mean, sd, df=df))
    rng = np.random.default_rng(11)
    n = 20_000
    s, rl, live, t = np.zeros(n), np.zeros(n), np.arange(n), 0
    while live.size and t < 5_000:
        t += 1
        z = -stats.norm.isf(stats.t.cdf(rng.normal(mean, sd, live.size), df))
        s[live] = np.maximum(0.0, (1 - LAM) * s[live] + LAM * z)
        hit = s[live] > h
        rl[live[hit]], live = t, live[~hit]
    se = rl.std(ddof=1) / math.sqrt(n)
    assert abs(rl.mean() - arl) < 4 * se, (rl.mean(), arl, se)


def test_alarm_rate_mixture_against_adaptive_quadrature():
    """E_B[1/ARL] by Gauss–Hermite against scipy's quad over B of the rescaled spc ARL; with
    a shared scale (df 8) against nested quad over B and W ~ χ²(8)/8."""
    rho, c = 0.1, 3.0
    sd = math.sqrt(1 - rho)

    def f(b):
        return stats.norm.pdf(b) / ad.ewma_arl(LAM, c / sd, math.sqrt(rho) * b / sd, r=60)

    ref = integrate.quad(f, -9, 9, epsabs=0, epsrel=1e-10, limit=200)[0]
    assert ad.alarm_rate("ewma", _h(c), rho, r=60) == pytest.approx(ref, rel=1e-7)

    # shared scale W ~ χ²(8)/8: a 40 × 40 Gauss–Legendre product rule over B ∈ [−8, 8] and
    # log W ∈ [log 0.001, log 10] (the module uses Hermite nodes and W's 1e−9 quantiles)
    df, (x, w) = 8.0, np.polynomial.legendre.leggauss(40)  # 64 nodes: the same to 1e−11
    b, wb = 8 * x, 8 * w * stats.norm.pdf(8 * x)
    lo, hi = math.log(1e-3), math.log(10)
    ww = np.exp(lo + (hi - lo) * (x + 1) / 2)
    fw = w * (hi - lo) / 2 * ww * stats.chi2.pdf(ww * df, df) * df
    bb, wgrid = np.meshgrid(b, ww, indexing="ij")
    arl = ad.conditional_arl("ewma", _h(c), math.sqrt(rho) * bb / np.sqrt(wgrid),
                             np.sqrt((1 - rho) / wgrid), df=df, r=40)
    ref2 = float((wb[:, None] * fw[None, :] / arl).sum())
    assert ad.alarm_rate("ewma", _h(c), rho, df, r=40) == pytest.approx(ref2, rel=1e-6)


def test_alarm_rate_agrees_with_a_simulated_long_run_with_restarts():
    """Cells share B ~ N(0, 1) and W ~ χ²(10)/10; weekly T ~ N(√ρ·B/√W, (1 − ρ)/W), z its
    t(10) normal score; restart after each signal. Signals per week over weeks 101–600 (past the
    start) against E[1/ARL(B, W)]; SE from the cells (each cell's rate is one draw)."""
    rho, df, h = 0.15, 10.0, _h(2.2)
    rate = ad.alarm_rate("ewma", h, rho, df)
    rng = np.random.default_rng(12)
    cells = 4000
    b, w = rng.standard_normal(cells), rng.chisquare(df, cells) / df
    t = (math.sqrt(rho) * b[:, None] + rng.standard_normal((cells, 600)) * math.sqrt(1 - rho)
         ) / np.sqrt(w)[:, None]
    z = stats.norm.ppf(stats.t.cdf(t, df))
    chart = ad.DriftChart("ewma", LAM, 2.2, math.nan, math.nan, h, math.nan)
    _, sig = ad.signals(z, chart)
    per_cell = sig[:, 100:].mean(axis=1)
    se = per_cell.std(ddof=1) / math.sqrt(cells)
    assert abs(per_cell.mean() - rate) < 4 * se, (per_cell.mean(), rate, se)
    assert rate > 1.5 * ad.alarm_rate("ewma", h)  # 0.0201 against 0.0109 known


def test_design_meets_the_target_rate_and_widens_the_limit():
    known = ad.design("ewma", 200, 0.5)
    est = ad.design("ewma", 200, 0.5, rho=1 / 13, df=11)
    assert est.arl0 == pytest.approx(400, rel=1e-6)
    assert ad.alarm_rate("ewma", est.limit, 1 / 13, 11, r=40, nb=24, nw=24) == pytest.approx(
        1 / 400, rel=1e-6)
    assert ad.alarm_rate("ewma", est.limit, 1 / 13, 11) == pytest.approx(1 / 400, rel=1e-4)
    assert est.limit > known.limit and est.arl0_known > 1000  # textbook ARL0 of the new limit
    assert est.arl0_known == pytest.approx(ad.ewma_arl(LAM, est.c), rel=1e-12)
    cus = ad.design("cusum", 200, 0.5, rho=1 / 27)
    assert cus.h > ad.design("cusum", 200, 0.5).h and cus.arl0 == pytest.approx(400, rel=1e-6)
    with pytest.raises(ValueError, match="rho"):
        ad.design("ewma", rho=1.0)


def test_signals_restart_from_zero_after_each_signal_by_hand():
    z = np.array([[3.0, 3.0, 0.0, 3.0, 3.0, np.nan, 1.0]])
    e = ad.DriftChart("ewma", 0.5, 1, math.nan, math.nan, 2.0, 0)
    stat, sig = ad.signals(z, e)
    # 1.5, 2.25 (signal; restart) → 0, 1.5, 2.25 (signal; restart) → NaN keeps 0 → 0.5
    assert stat[0].tolist() == [1.5, 2.25, 0.0, 1.5, 2.25, 0.0, 0.5]
    assert sig[0].tolist() == [False, True, False, False, True, False, False]
    stat, sig = ad.signals(z, e, restart=False)  # without: 1.125 after the first signal
    assert stat[0, 2] == 1.125 and sig[0].tolist() == [False, True, False, True, True, False, False]


# --- through baseline_alerts: ρ, df and a reduced calibration ----------------------------

def _table(rng, kind, cells, k, drift=0.0, weeks=40, n=None):
    """Stable weekly cells as baseline_alerts sees them (Poisson(400) tickets, or ``n``)."""
    tot = k + weeks
    nn = np.full((cells, tot), float(n)) if n else rng.poisson(400, (cells, tot)).astype(float)
    labels = [f"{2026 + (w - 1) // 52}-W{(w - 1) % 52 + 1:02d}" for w in range(1, tot + 1)]
    step = drift * np.maximum(0, np.arange(1, tot + 1) - k)
    if kind == "rate":
        x = rng.binomial(nn.astype(int), np.clip(0.8 - step * 0.02, 0, 1)).astype(float)
        cols = {"successes": x.ravel(), "direction": "higher"}
    else:
        v = 2.0 + step * 0.04 + rng.standard_normal((cells, tot)) * 0.8 / np.sqrt(nn)
        sd = 0.8 * np.sqrt(rng.chisquare(nn - 1) / (nn - 1))
        cols = {"value": v.ravel(), "sd": sd.ravel(), "direction": "lower"}
    return pd.DataFrame({"kpi": kind, "cell": np.repeat([f"c{i}" for i in range(cells)], tot),
                         "week": np.tile(labels, cells), "kind": kind, "n": nn.ravel(),
                         **cols}), labels


@pytest.fixture(scope="module")
def null_scores():
    rng = np.random.default_rng(20261201)
    out = {}
    for kind in ("rate", "duration"):
        t, lab = _table(rng, kind, 300, 12)
        out[kind] = ad.weekly_scores(t, (lab[0], lab[11]), lab[-1])
    return out


def test_rho_is_one_over_k_plus_one_and_df_follows_the_method(null_scores):
    rng = np.random.default_rng(3)
    t, lab = _table(rng, "rate", 3, 12, weeks=5, n=400)
    sc, _ = ad.weekly_scores(t, (lab[0], lab[11]), lab[-1])
    assert sc["rho"].tolist() == pytest.approx([1 / 13] * 3, rel=1e-12)  # n/(12n + n)
    assert np.isinf(sc["df"]).all()  # p-chart: z
    for kind, df in (("rate", math.inf), ("duration", 11.0)):
        sc, labels = null_scores[kind]
        assert (sc["df"] == df).all()
        # the equicorrelation of a cell's weekly scores, estimated from the spread of the cells'
        # means: Var(mean of T scores) = (1 + (T − 1)ρ)/T for unit-variance scores
        z = sc[labels].to_numpy(float)
        tt = z.shape[1]
        rho_hat = (tt * z.mean(axis=1).var(ddof=1) / z.var(ddof=1) - 1) / (tt - 1)
        se = math.sqrt(2 / (len(z) - 1)) * (1 + (tt - 1) / 13) / (tt - 1)  # SE of a variance
        assert abs(rho_hat - 1 / 13) < 3 * se, (kind, rho_hat, se)


def test_reduced_calibration_false_drift_alarms_per_week(null_scores):
    """300 stable cells × 40 weeks after a 12-week baseline, per kind, scaled to a report of
    200 cells designed for 0.5 false alarms a week. Before: the textbook limit and the count of
    cells above it at the report week — 2.52 (rates), 2.55 (durations) a week with this seed.
    After: restart signals with the designed limits — 0.43, 0.37 (over weeks 13–52; the model
    itself gives 0.445 there, 0.51 over weeks 33–52, as each chart starts at 0)."""
    for kind, (sc, labels) in null_scores.items():
        z = sc[labels].to_numpy(float)
        old = ad.design("ewma", arl0=400)
        stat, _ = ad.signals(z, old, restart=False)
        before = (stat > old.limit).sum() / z.shape[1] * 200 / len(z)
        d = ad.chart_scores(sc, labels, arl0=400)
        after = d["signals"].sum() / z.shape[1] * 200 / len(z)
        assert before > 1.5, (kind, before)
        assert 0.25 < after < 0.75, (kind, after)
        assert np.allclose(d["arl0"], 400, rtol=1e-6) and (d["limit"] > old.limit).all()


def test_a_slow_drift_is_caught_and_the_report_counts_this_weeks_signals():
    """Rates falling 0.2 points a week (0.1 of a week's SD at n = 400) from week 13 in 10 of 50
    cells: all caught within 20 weeks; ``alert`` is a signal in the last week only."""
    rng = np.random.default_rng(8)
    t, lab = _table(rng, "rate", 40, 12, weeks=30)
    drift, _ = _table(rng, "rate", 10, 12, drift=0.1, weeks=30)
    t = pd.concat([t, drift.assign(cell=drift["cell"] + "d")], ignore_index=True)
    d = ad.drift_alerts(t, (lab[0], lab[11]), lab[-1], arl0=400).set_index("cell")
    hit = d.loc[[f"c{i}d" for i in range(10)]]
    assert (hit["signals"] >= 1).all()
    assert (hit["first_signal"] <= lab[11 + 20]).all()  # within 20 weeks of the drift's start
    assert (d["alert"] == (d["last_signal"] == lab[-1])).all()
    assert (d.loc[d["alert"], "weeks_since"] == 0).all()
    assert ((d["weeks_since"] >= 0) == (d["signals"] > 0)).all()
