"""The before/after verdict effect: closed forms, R, and calibration with clustered tickets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqresearch import prepost_effects as pe
from sqresearch import simulate
from sqresearch.prepost import BUILTIN, MetricSpec
from sqresearch.survival import rmst
from sqresearch.verdicts import decide

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
