"""Time and peak memory of the statistics that used to grow quadratically, new code against the
old algorithm run side by side (not timed tests).

    .venv/bin/python benchmarks/stats_scaling.py [--sizes 10000 100000 1000000] [--old-cap 10000]

1. leave-one-out medians (the BCa jackknife of the median): ``bootstrap._loo_medians`` (sort
   once, closed form) against the n × (n − 1) jackknife matrix scipy builds;
2. the BCa bootstrap of the difference in medians, n tickets per period: ``stats.bootstrap``
   (batched resamples, O(n log n) jackknife) against ``scipy.stats.bootstrap(method="bca")``,
   the implementation it replaced; the intervals must agree;
3. the log-rank test, n cases in two groups with censoring: the vectorised
   ``survival.logrank`` against the former loop over distinct event times.

Peak memory is what tracemalloc sees (numpy reports its buffers to it) in a separate run of the
same call, so the timing is not slowed by tracing. The old algorithm runs only up to
``--old-cap`` cases (its jackknife needs 8·n² bytes: 80 GB at n = 100,000).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from scipy import stats

from sqresearch.stats import bootstrap as boot
from sqresearch.stats.survival import logrank


def measure(fn):
    """(result, seconds, peak bytes)."""
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, seconds, peak


def old_loo_medians(x: np.ndarray) -> np.ndarray:
    """scipy's jackknife: every leave-one-out sample as a row of an n × (n − 1) matrix."""
    n = x.size
    keep = ~np.eye(n, dtype=bool)
    return np.median(np.broadcast_to(x, (n, n))[keep].reshape(n, n - 1), axis=-1)


def old_bca(b, a, resamples, seed):
    res = stats.bootstrap((b, a), lambda x, y, axis=-1: np.median(y, axis=axis)
                          - np.median(x, axis=axis), n_resamples=resamples, method="bca",
                          vectorized=True, rng=np.random.default_rng(seed))
    return res.confidence_interval.low, res.confidence_interval.high


def new_bca(b, a, resamples, seed):
    r = boot.bootstrap(b, a, "median_difference", resamples, "BCa", seed=seed).iloc[0]
    return r.ci_low, r.ci_high


def old_logrank(d, e, g):
    """The former ``survival.logrank``: a Python loop over distinct event times."""
    levels = sorted(set(g.tolist()))
    k = len(levels)
    observed, expected, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for t in np.unique(d[e]):
        at_risk = np.array([np.sum((d >= t) & (g == lv)) for lv in levels], dtype=float)
        dead = np.array([np.sum((d == t) & e & (g == lv)) for lv in levels], dtype=float)
        n, m = at_risk.sum(), dead.sum()
        if n <= 1:
            continue
        observed += dead
        expected += m * at_risk / n
        frac = at_risk / n
        var += m * (n - m) / (n - 1) * (np.diag(frac) - np.outer(frac, frac))
    diff = (observed - expected)[:-1]
    return float(diff @ np.linalg.solve(var[:-1, :-1], diff))


def mb(x: float) -> str:
    return f"{x / 2**20:,.1f} MB" if x < 2**30 else f"{x / 2**30:,.1f} GB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--old-cap", type=int, default=10_000,
                    help="largest n the old algorithms run at")
    ap.add_argument("--resamples", type=int, default=200, help="bootstrap resamples")
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        rng = np.random.default_rng(n)
        b, a = rng.lognormal(np.log(10), 0.8, n), rng.lognormal(np.log(9), 0.8, n)
        old = n <= args.old_cap
        new, t_new, m_new = measure(lambda b=b: boot._loo_medians(b))
        if old:
            ref, t_old, m_old = measure(lambda b=b: old_loo_medians(b))
            rows.append(("leave-one-out medians", n, t_new, m_new, t_old, m_old,
                         "equal" if np.array_equal(new, ref) else "DIFFER"))
        else:
            rows.append(("leave-one-out medians", n, t_new, m_new, None, None, ""))
        new, t_new, m_new = measure(lambda b=b, a=a: new_bca(b, a, args.resamples, 1))
        if old:
            ref, t_old, m_old = measure(lambda b=b, a=a: old_bca(b, a, args.resamples, 1))
            same = np.allclose(new, ref, rtol=1e-12, atol=0)
            rows.append(("BCa bootstrap, median difference", n, t_new, m_new, t_old, m_old,
                         "same CI" if same else f"DIFFER {new} {ref}"))
        else:
            rows.append(("BCa bootstrap, median difference", n, t_new, m_new, None, None, ""))
        g = rng.integers(0, 2, n)
        life = rng.exponential(np.where(g == 1, 9.0, 10.0))
        cut = rng.uniform(0, 30, n)
        d, e = np.minimum(life, cut), life <= cut
        new, t_new, m_new = measure(lambda d=d, e=e, g=g: logrank(d, e, g)[0])
        if old:
            ref, t_old, m_old = measure(lambda d=d, e=e, g=g: old_logrank(d, e, g))
            rows.append(("log-rank test", n, t_new, m_new, t_old, m_old,
                         f"rel. diff {abs(new - ref) / ref:.1e}"))
        else:
            rows.append(("log-rank test", n, t_new, m_new, None, None, ""))
    head = (f"{'statistic':34s} {'n':>10s} {'new time':>10s} {'new peak':>12s} "
            f"{'old time':>10s} {'old peak':>12s}  check")
    print(head)
    print("-" * len(head))
    for name, n, tn, mn, to, mo, check in rows:
        old_t = f"{to:9.3f}s" if to is not None else f"{'(not run)':>10s}"
        old_m = mb(mo) if mo is not None else ""
        print(f"{name:34s} {n:>10,d} {tn:9.3f}s {mb(mn):>12s} {old_t} {old_m:>12s}  {check}")
    print(f"\nbootstrap: {args.resamples} resamples per period; old algorithms up to n = "
          f"{args.old_cap:,} (the jackknife matrix alone needs 8·n² bytes: "
          f"{mb(8.0 * args.sizes[-1] ** 2)} at n = {args.sizes[-1]:,}).")


if __name__ == "__main__":
    main()
