"""Statistics whose memory is linear in the data: the leave-one-out medians of the BCa bootstrap
(O(n log n) instead of an n × (n − 1) jackknife), bootstrap resamples in bounded batches, and the
vectorised log-rank test. Each fast path is checked against the brute force it replaces."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sqresearch.stats import bootstrap as boot
from sqresearch.stats.survival import logrank


def brute_loo_medians(x: np.ndarray) -> np.ndarray:
    return np.array([np.median(np.delete(x, i)) if x.size > 1 else np.nan
                     for i in range(x.size)])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 10, 11, 100, 101])
def test_leave_one_out_medians_equal_brute_force_exactly(n):
    rng = np.random.default_rng(n)
    samples = [rng.normal(size=n),                         # no ties
               rng.integers(0, 3, n).astype(float),        # heavy ties
               np.round(rng.lognormal(2, 1, n)),           # ties in a skewed sample
               np.full(n, 7.5),                            # all equal
               np.sort(rng.normal(size=n))[::-1].copy()]   # sorted the other way
    for x in samples:
        assert_array_equal(boot._loo_medians(x), brute_loo_medians(x))


def test_leave_one_out_medians_of_two_and_three_in_closed_form():
    assert_array_equal(boot._loo_medians(np.array([4.0, 1.0])), [1.0, 4.0])
    # leaving out 9 -> median(1, 2) = 1.5; leaving out 1 -> median(2, 9) = 5.5; out 2 -> 5
    assert_array_equal(boot._loo_medians(np.array([9.0, 1.0, 2.0])), [1.5, 5.5, 5.0])
    assert_array_equal(boot._loo_medians(np.array([2.0, 2.0, 5.0])), [3.5, 3.5, 2.0])


def test_missing_values_are_dropped_before_the_bootstrap():
    rng = np.random.default_rng(4)
    b, a = rng.lognormal(2, 0.7, 80), rng.lognormal(1.8, 0.7, 90)
    with_nan = np.insert(b, [3, 40, 80], np.nan)
    r1 = boot.bootstrap(b, a, "median_difference", 499, "BCa", seed=2).iloc[0]
    r2 = boot.bootstrap(with_nan, a, "median_difference", 499, "BCa", seed=2).iloc[0]
    assert (r1.ci_low, r1.ci_high, r1.n_before) == (r2.ci_low, r2.ci_high, r2.n_before) \
        and r1.n_before == 80


def test_bca_equals_scipy_brute_force_jackknife_with_several_batches(monkeypatch):
    """scipy builds the n × (n − 1) jackknife; ours is O(n log n) and batched. Same seed, same
    batch size -> the same interval."""
    from scipy import stats

    rng = np.random.default_rng(8)
    b, a = rng.lognormal(np.log(12), 0.9, 701), rng.lognormal(np.log(9), 0.9, 650)
    monkeypatch.setattr(boot, "_BOOT_CELLS", 64 * (b.size + a.size))  # 64 resamples a batch
    for name, fn in (("median_difference",
                      lambda x, y, axis=-1: np.median(y, axis=axis) - np.median(x, axis=axis)),
                     ("median_pct_change",
                      lambda x, y, axis=-1: 100 * (np.median(y, axis=axis)
                                                   / np.median(x, axis=axis) - 1))):
        r = boot.bootstrap(b, a, name, 999, "BCa", seed=13).iloc[0]
        s = stats.bootstrap((b, a), fn, n_resamples=999, method="bca", vectorized=True,
                            batch=64, rng=np.random.default_rng(13))
        assert r.method.startswith("BCa")
        assert_allclose([r.ci_low, r.ci_high],
                        [s.confidence_interval.low, s.confidence_interval.high], rtol=1e-12)


def test_bca_memory_is_linear_in_the_sample():
    """40k + 40k tickets: the n × (n − 1) jackknife alone would take 2 × 12.8 GB; the batched
    bootstrap holds ~4·10⁶ resampled values (int64 indices and float64 values: ~64 MB)."""
    rng = np.random.default_rng(1)
    n = 40_000
    b, a = rng.lognormal(2, 1, n), rng.lognormal(1.9, 1, n)
    tracemalloc.start()
    try:
        r = boot.bootstrap(b, a, "median_difference", 200, "BCa", seed=1).iloc[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.method.startswith("BCa") and r.ci_low < r.estimate < r.ci_high
    assert peak < 160 * 2**20, peak


def brute_logrank(d, e, g):
    """The former loop over distinct event times (O(T·n)), as a reference."""
    d, e, g = np.asarray(d, float), np.asarray(e, bool), np.asarray(g)
    levels = sorted(set(g.tolist()))
    k = len(levels)
    observed, expected, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for t in np.unique(d[e]):
        at_risk = np.array([np.sum((d >= t) & (g == lv)) for lv in levels], dtype=float)
        dead = np.array([np.sum((d == t) & e & (g == lv)) for lv in levels], dtype=float)
        n, m = at_risk.sum(), dead.sum()
        observed += dead
        expected += m * at_risk / n
        if n > 1:
            frac = at_risk / n
            var += m * (n - m) / (n - 1) * (np.diag(frac) - np.outer(frac, frac))
    diff = (observed - expected)[:-1]
    return float(diff @ np.linalg.solve(var[:-1, :-1], diff)), observed, expected


def test_logrank_in_closed_form():
    # A: events at 1, 2; B: events at 3, 4. O_A − E_A = 2 − (1/2 + 1/3) = 7/6;
    # V = 1/4 + 2/9 = 17/36 (t = 3, 4: nobody of A at risk) -> X² = 49/17
    chi2, p, table = logrank([1, 2, 3, 4], [True] * 4, ["A", "A", "B", "B"])
    assert chi2 == pytest.approx(49 / 17, rel=1e-12)
    assert p == pytest.approx(math.erfc(math.sqrt(49 / 17 / 2)), rel=1e-12)  # chi² with 1 df
    assert_allclose(table["expected"], [5 / 6, 19 / 6], rtol=1e-12)


@pytest.mark.parametrize("groups", [2, 3])
def test_logrank_equals_the_loop_over_times(groups):
    rng = np.random.default_rng(groups)
    n = 3_000
    g = rng.integers(0, groups, n)
    d = np.round(rng.exponential(10 + g), 1)  # rounded: many tied times
    cut = np.round(rng.uniform(0, 30, n), 1)
    t, e = np.minimum(d, cut), d <= cut
    chi2, _, table = logrank(t, e, g)
    ref, obs, exp = brute_logrank(t, e, g)
    assert chi2 == pytest.approx(ref, rel=1e-9)
    assert_allclose(table["observed"], obs)
    assert_allclose(table["expected"], exp, rtol=1e-9)


def test_logrank_memory_is_linear_in_the_cases():
    rng = np.random.default_rng(5)
    n = 400_000
    g = rng.integers(0, 2, n)
    d = rng.exponential(np.where(g == 1, 9.0, 10.0))
    tracemalloc.start()
    try:
        chi2, p, _ = logrank(d, np.ones(n, bool), g)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert chi2 > 0 and p < 0.05
    assert peak < 200 * n, peak  # bytes per case: a loop-free pass holds a few arrays of n


def test_lifelines_agrees_if_installed():
    lifelines = pytest.importorskip("lifelines.statistics")
    rng = np.random.default_rng(3)
    g = rng.integers(0, 2, 500)
    d = np.round(rng.exponential(np.where(g == 1, 8.0, 10.0)), 1)
    e = rng.random(500) < 0.8
    chi2, _, _ = logrank(d, e, g)
    ref = lifelines.logrank_test(d[g == 0], d[g == 1], e[g == 0], e[g == 1])
    assert chi2 == pytest.approx(ref.test_statistic, rel=1e-9)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 1001, 1000])
def test_resampled_medians_have_the_law_of_resampling_every_value(n):
    """Medians drawn from their order-statistic distribution vs medians of real resamples:
    two-sample Kolmogorov–Smirnov (20,000 each), values of the sample, equal 2.5/97.5 % points up
    to Monte Carlo error; n = 1, 2 in closed form."""
    from scipy import stats

    rng = np.random.default_rng(n)
    x = rng.gamma(1.5, 10, n)
    exact = boot.resampled_medians(x, 20_000, np.random.default_rng(1))
    naive = np.median(x[rng.integers(0, n, (20_000, n))], axis=1)
    if n == 1:
        assert_array_equal(exact, np.full(20_000, x[0]))
        return
    if n == 2:  # resamples {a,a}, {a,b}, {b,a}, {b,b}: medians a, (a+b)/2, b with 1/4, 1/2, 1/4
        lo, hi = np.sort(x)
        values, counts = np.unique(exact, return_counts=True)
        assert_allclose(values, [lo, (lo + hi) / 2, hi])
        assert_allclose(counts / 20_000, [0.25, 0.5, 0.25], atol=0.015)
        return
    assert stats.ks_2samp(exact, naive).pvalue > 1e-3
    if n % 2:  # an odd sample's resampled medians are values of the sample
        assert set(np.unique(exact)) <= set(x)
    spread = np.percentile(naive, 97.5) - np.percentile(naive, 2.5)
    assert_allclose(np.percentile(exact, [2.5, 97.5]), np.percentile(naive, [2.5, 97.5]),
                    atol=0.1 * spread)


def test_large_samples_use_the_exact_draws_with_the_same_interval(monkeypatch):
    rng = np.random.default_rng(3)
    b, a = rng.gamma(1.5, 10, 3000), rng.gamma(1.5, 9, 3001)
    slow = boot.bootstrap(b, a, resamples=4000, method="percentile", seed=2)
    monkeypatch.setattr(boot, "EXACT_FROM", 1000)
    fast = boot.bootstrap(b, a, resamples=4000, method="percentile", seed=2)
    assert "exact order-statistic distribution" in fast["method"].iloc[0]
    assert fast["estimate"].iloc[0] == slow["estimate"].iloc[0]
    width = slow["ci_high"].iloc[0] - slow["ci_low"].iloc[0]
    assert_allclose(fast[["ci_low", "ci_high"]].to_numpy(), slow[["ci_low", "ci_high"]]
                    .to_numpy(), atol=0.1 * width)
