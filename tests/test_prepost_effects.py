"""The before/after verdict effect: closed forms, R, and calibration with clustered tickets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqresearch import simulate
from sqresearch.designs.before_after import effects as pe
from sqresearch.kpi.metrics import BUILTIN, MetricSpec
from sqresearch.stats.survival import rmst
from sqresearch.stats.verdicts import decide

SCORE = MetricSpec("y", "y", "continuous", "score", "higher", "y")
SHARE = MetricSpec("y", "y", "binary", "share", "higher", "y")


def _frame(before, after, **cols):
    df = pd.DataFrame({"y": np.concatenate([before, after]),
                       "period": ["before"] * len(before) + ["after"] * len(after)})
    return df.assign(**cols)


def test_unclustered_effect_is_welch():
    """Without clusters or case mix the effect is Welch's t (R t.test(after, before)):
    t.test(c(5.1, 4.8, 6.0, 5.5, 4.9, 5.7), c(4.2, 4.9, 4.4, 5.0, 4.1))."""
    b, a = [4.2, 4.9, 4.4, 5.0, 4.1], [5.1, 4.8, 6.0, 5.5, 4.9, 5.7]
    inf = pe.regression_effect(_frame(b, a), SCORE, pe.Clustering((), "none"), [])
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert inf.method == "welch_t"
    assert inf.estimate == pytest.approx(np.mean(a) - np.mean(b), rel=1e-12)
    assert inf.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert inf.df == pytest.approx(ref.df, rel=1e-10)
    lo, hi = inf.interval(0.95)
    ci = ref.confidence_interval(0.95)
    assert [lo, hi] == pytest.approx([ci.low, ci.high], rel=1e-10)


def test_nps_outcome_is_the_nps_difference():
    """100·(promoter − detractor) per answer: its mean difference is the NPS difference."""
    b, a = np.array([10, 9, 3, 7, 8, 0, 9]), np.array([9, 10, 10, 6, 8, 9])
    spec = BUILTIN["nps"]
    df = _frame(b, a).rename(columns={"y": "nps"})
    inf = pe.regression_effect(df, spec, pe.Clustering((), "none"), [])
    nps = [100 * (np.mean(x >= 9) - np.mean(x <= 6)) for x in (b, a)]
    assert inf.estimate == pytest.approx(nps[1] - nps[0], rel=1e-12)


def test_clustered_effect_is_cr2_with_bm_df():
    """With one clustering column the effect is the after coefficient with CR2 errors and
    Bell–McCaffrey df. Closed form for equal clusters and a cluster-level indicator: the CR2
    variance is the Welch variance of the cluster means, s₁²/G₁ + s₀²/G₀, and the BM df (working
    model: independent, equal variances) is the Satterthwaite df with equal variances,
    (1/G₁ + 1/G₀)² / (1/(G₁²(G₁ − 1)) + 1/(G₀²(G₀ − 1)))."""
    rng = np.random.default_rng(3)
    weeks_b, weeks_a, m = 8, 9, 20
    shocks = rng.normal(0, 0.5, weeks_b + weeks_a)
    rows = []
    for w in range(weeks_b + weeks_a):
        period = "before" if w < weeks_b else "after"
        for _ in range(m):
            rows.append({"y": shocks[w] + rng.normal(), "period": period, "_week": f"w{w:02d}"})
    df = pd.DataFrame(rows)
    inf = pe.regression_effect(df, SCORE, pe.Clustering(("_week",), "declared"), [])
    means = df.groupby(["_week", "period"])["y"].mean().reset_index()
    a, b = means.y[means.period == "after"], means.y[means.period == "before"]
    g1, g0 = len(a), len(b)
    assert inf.method == "cluster_robust_cr2"
    assert inf.estimate == pytest.approx(a.mean() - b.mean(), rel=1e-10)
    assert inf.se == pytest.approx(math.sqrt(a.var() / g1 + b.var() / g0), rel=1e-10)
    df = (1 / g1 + 1 / g0) ** 2 / (1 / (g1 ** 2 * (g1 - 1)) + 1 / (g0 ** 2 * (g0 - 1)))
    assert inf.df == pytest.approx(df, rel=1e-10)


def test_adjusted_effect_removes_a_mix_shift():
    """A channel mix shift with no change within any channel: the unadjusted difference is
    the mix effect, the adjusted one is near zero."""
    rng = np.random.default_rng(5)
    n = 4000
    after = rng.random(n) < 0.5
    phone = rng.random(n) < np.where(after, 0.7, 0.3)
    y = np.where(phone, 1.0, 0.0) + rng.normal(0, 0.2, n)
    df = pd.DataFrame({"y": y, "period": np.where(after, "after", "before"),
                       "channel": np.where(phone, "phone", "email")})
    clus = pe.Clustering((), "none")
    raw = pe.regression_effect(df, SCORE, clus, [])
    adj = pe.regression_effect(df, SCORE, clus, ["channel"])
    assert raw.estimate == pytest.approx(0.4, abs=0.05)
    assert abs(adj.estimate) < 0.02 and adj.method == "hc2_t"
    tvd, p = pe.mix_shift(df, "channel")
    assert tvd == pytest.approx(0.4, abs=0.05) and p < 1e-10


def test_rmst_weighted_equals_rmst_on_repeated_rows():
    rng = np.random.default_rng(1)
    t = np.round(rng.exponential(5, 300), 1)
    e = rng.random(300) < 0.7
    w = rng.integers(0, 3, (5, 300)).astype(float)
    got = pe.rmst_weighted(t, e, w, 8.0)
    ref = [rmst(np.repeat(t, k.astype(int)), np.repeat(e, k.astype(int)), 8.0).estimate
           for k in w]
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert pe.rmst_weighted(t, e, np.ones((1, 300)), 50.0)[0] == pytest.approx(
        rmst(t, e, 50.0).estimate, rel=1e-12)


def test_default_clustering_needs_eight_weeks_a_side():
    created = pd.Series(pd.date_range("2026-01-05", periods=140, freq="D"))
    df = pd.DataFrame({"created": created, "period": np.where(created < "2026-03-02",
                                                              "before", "after")})
    df["_week"] = pe.week_of(df["created"])
    assert pe.clustering(df, "auto", True).columns == ("_week",)
    short = df[df.created >= "2026-02-09"]
    clus = pe.clustering(short, "auto", True)
    assert clus.columns == () and "fewer than 8 weeks" in clus.reason
    assert pe.clustering(df, ["agent", "week"], True).columns == ("agent", "_week")


def _calibrate(reps, icc, effect, seed, kind="score"):
    """Share of 'improved'/'worsened' verdicts (no effect) or 95 % CI coverage (an effect) with
    week-level shocks of the given ICC, clustered by week."""
    rng = np.random.default_rng(seed)
    spec = {"score": SCORE, "share": SHARE,
            "duration": MetricSpec("y", "y", "duration", "min", "lower", "y")}[kind]
    clus = pe.Clustering(("_week",), "declared")
    hits = 0
    for _ in range(reps):
        df = simulate.clustered_tickets(rng, icc, effect, kind=kind)
        inf = pe.regression_effect(df, spec, clus, [])
        if effect == 0:
            hits += decide(inf, 0.05, "higher", 0.1)["verdict"] in ("improved", "worsened")
        else:
            lo, hi = inf.interval(0.95)
            hits += lo <= effect <= hi
    return hits / reps


@pytest.mark.parametrize(("icc", "kind"), [(0.05, "score"), (0.2, "duration"), (0.1, "share")])
def test_clustered_verdicts_hold_their_level(icc, kind):
    """Reduced calibration (the full table: benchmarks/calibration_verdicts.py): tickets
    correlated within weeks, no effect → false-positive rate near α; a true effect → 95 % CI
    coverage near 95 %."""
    assert _calibrate(400, icc, 0.0, 11, kind) <= 0.075
    assert 0.92 <= _calibrate(400, icc, 0.1, 12, kind) <= 0.98


def test_clustered_rmst_verdict_holds_its_level():
    """Reduced calibration of the resolution-time path (RMST ratio, week cluster bootstrap, t
    with G − 2 df): no effect → few false positives; a true effect → the CI covers the true RMST
    ratio at the data's horizon (closed form). Full table: benchmarks/calibration_verdicts.py."""
    spec = MetricSpec("y", "y", "censored", "min", "lower", "y", "event")
    clus = pe.Clustering(("_week",), "declared")
    rng = np.random.default_rng(21)
    fp = cover = 0
    reps = 200
    for i in range(reps):
        inf, _ = pe.rmst_effect(simulate.clustered_tickets(rng, 0.2, 0.0, kind="censored"),
                                spec, clus, i, 199)
        fp += decide(inf, 0.05, "lower", 0.05)["verdict"] in ("improved", "worsened")
        inf, tau = pe.rmst_effect(simulate.clustered_tickets(rng, 0.2, 0.2, kind="censored"),
                                  spec, clus, i, 199)
        lo, hi = inf.interval(0.95)
        truth = math.log(simulate.lognormal_rmst(tau, 0.2) / simulate.lognormal_rmst(tau, 0.0))
        cover += lo <= truth <= hi
    assert fp / reps <= 0.085 and 0.91 <= cover / reps <= 0.99
    assert inf.df == 18 and inf.method == "rmst_ratio_cluster_bootstrap"


def test_lognormal_rmst_is_the_area_under_the_survival_curve():
    from scipy import integrate

    area = integrate.quad(lambda t: stats.norm.sf(np.log(t / 10) - 0.3), 0, 40)[0]
    assert math.isclose(simulate.lognormal_rmst(40, 0.3), area, rel_tol=1e-6)
    # no horizon: the mean, E[10·exp(Z + b)] = 10·exp(b + 1/2)
    assert math.isclose(simulate.lognormal_rmst(1e9, 0.3), 10 * math.exp(0.8), rel_tol=1e-6)


def _tickets(rng, n=400, weeks=10):
    df = simulate.clustered_tickets(rng, 0.1, 0.0, weeks=weeks, per_week=n // (2 * weeks))
    return df.assign(priority=rng.integers(1, 5, len(df)), tenure=rng.normal(3, 1, len(df)))


def test_numeric_codes_become_categories_and_constant_terms_are_dropped():
    df = _tickets(np.random.default_rng(3)).assign(site=1.0)
    x = pe.design(df, ["priority", "tenure", "site"])
    assert [c for c in x if c.startswith("priority_")] == ["priority_2", "priority_3",
                                                           "priority_4"]
    assert "tenure" in x and "site" not in x  # a quantity stays a line; a constant goes
    inf = pe.regression_effect(df, SCORE, pe.Clustering(("_week",), "d"), ["priority", "site"])
    assert np.isfinite(inf.p_value)


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d[d.period == "before"], "0 row(s) with a value in the after period"),
    (lambda d: d.assign(_week=np.where(d.period == "before", 0, 1)), "only 2 cluster(s)"),
    (lambda d: d.assign(y=1.0), "single value in both periods"),
])
def test_an_effect_that_cannot_be_estimated_is_inconclusive_with_the_reason(change, reason):
    df = change(_tickets(np.random.default_rng(4)))
    inf = pe.regression_effect(df, SCORE, pe.Clustering(("_week",), "d"), [])
    assert inf.method == "not_estimable" and reason in inf.description
    d = decide(inf, 0.05, "higher", 0.1)
    assert d["verdict"] == "inconclusive" and reason in d["note"]


def test_rows_without_a_cluster_id_are_left_out_not_pooled():
    rng = np.random.default_rng(5)
    df = simulate.clustered_tickets(rng, 0.1, 0.0, kind="censored")
    spec = MetricSpec("y", "y", "censored", "min", "lower", "y", "event")
    clus = pe.Clustering(("_week",), "d")
    holes = df.assign(_week=df["_week"].astype(float).where(df.index % 10 != 0))
    a, tau_a = pe.rmst_effect(holes, spec, clus, 1, 199)
    b, tau_b = pe.rmst_effect(holes[holes._week.notna()], spec, clus, 1, 199)
    assert (a.estimate, a.se, tau_a) == (b.estimate, b.se, tau_b)
    c = pe.rmst_effect(holes, spec, clus, 1, 199, adjust_for=["channel"])[0]
    assert "not adjusted for channel" in c.description


def test_paired_nps_is_judged_on_the_nps_scale():
    # two units; unit 1: before scores 10, 0 (NPS 0) → after 10, 10 (NPS 100); unit 2: 5, 9
    # (NPS 0) → 9, 9 (NPS 100); unit 3: 9, 9 (100) → 9, 5 (0). Differences 100, 100, −100.
    rows = [("u1", "before", 10), ("u1", "before", 0), ("u1", "after", 10), ("u1", "after", 10),
            ("u2", "before", 5), ("u2", "before", 9), ("u2", "after", 9), ("u2", "after", 9),
            ("u3", "before", 9), ("u3", "before", 9), ("u3", "after", 9), ("u3", "after", 5)]
    df = pd.DataFrame(rows, columns=["unit", "period", "nps"])
    inf = pe.paired_effect(df, BUILTIN["nps"], "unit")
    d = np.array([100.0, 100.0, -100.0])
    assert math.isclose(inf.estimate, d.mean(), rel_tol=1e-12)
    assert math.isclose(inf.se, d.std(ddof=1) / math.sqrt(3), rel_tol=1e-12)
    assert inf.df == 2 and "promoter" in inf.description
