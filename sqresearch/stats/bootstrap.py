"""Seeded bootstrap intervals for the median difference or the % change in the median between
two periods (percentile or BCa, with the leave-one-out medians in O(n log n)); the one-row table
of ``testrow``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sqresearch.stats.testrow import _clean, _row

_BOOT_CELLS = 4_000_000  # resampled values held at once (bootstrap batches)
#: from this many values in both periods together, resampled medians are drawn directly from
#: their exact distribution (``resampled_medians``) instead of by resampling every value
EXACT_FROM = 200_000


def resampled_medians(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The medians of ``k`` bootstrap resamples of ``x``, drawn from their exact distribution
    in O(k) after one sort, instead of O(k·n).

    A resample takes indices ⌊n·V⌋ of the sorted sample for n independent uniforms V, so its
    j-th smallest value is s[⌊n·V₍ⱼ₎⌋], with V₍ⱼ₎ ~ Beta(j, n − j + 1); given V₍ⱼ₎, the next one
    is V₍ⱼ₎ + (1 − V₍ⱼ₎)·Beta(1, n − j). The medians have the same law as those of the
    resample-every-value bootstrap (tests/test_scaling_stats.py compares the two), only the
    random stream differs.
    """
    s = np.sort(x)
    n = s.size
    m = (n + 1) // 2  # 1-based rank of the (lower) middle value
    v = rng.beta(m, n - m + 1, size=k)
    low = s[np.minimum((n * v).astype(np.int64), n - 1)]
    if n % 2:
        return low
    v2 = v + (1 - v) * rng.beta(1, n - m, size=k)
    return (low + s[np.minimum((n * v2).astype(np.int64), n - 1)]) / 2


def _loo_medians(x: np.ndarray) -> np.ndarray:
    """The n leave-one-out medians of x in O(n log n): leaving out one point of a sorted sample
    moves the median to one of (at most) three values."""
    n = x.size
    order = np.argsort(x, kind="stable")
    s = x[order]
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)  # rank (0-based) of each point in the sorted sample
    if n < 2:
        return np.full(n, np.nan)
    if n % 2 == 0:  # n − 1 odd: the median is the m-th of the rest, m = n/2 (1-based)
        m = n // 2
        return np.where(pos < m, s[m], s[m - 1])
    m = n // 2  # n = 2m + 1: the rest has 2m points
    if m == 0:
        return np.full(n, np.nan)
    out = np.where(pos < m, (s[m] + s[m + 1]) / 2, (s[m - 1] + s[m]) / 2)
    out[pos == m] = (s[m - 1] + s[m + 1]) / 2
    return out


def bootstrap(before, after, statistic: str = "median_difference", resamples: int = 2000,
              method: str = "BCa", seed: int = 0, alpha: float = 0.05) -> pd.DataFrame:
    """Seeded bootstrap CI for the median difference or the % change in the median.

    ``statistic``: ``median_difference`` (after − before) or ``median_pct_change``
    (100 × (median_after / median_before − 1)). Periods are resampled independently.

    ``method``: "percentile" or "BCa" (Efron 1987; formulas as ``scipy.stats.bootstrap``:
    bias correction from the mid-rank share of resampled statistics below the estimate,
    acceleration from the two-sample jackknife). BCa rests on a smooth statistic; the median of
    a sample with ties is not even locally smooth: its jackknife values collapse onto one or two
    numbers and the acceleration (and so the interval) becomes arbitrary. So when BCa is asked
    for and either period has tied values, the percentile interval is used instead and
    ``method`` says so; without ties BCa is kept, with the jackknife done in O(n log n) (the
    leave-one-out median of a sorted sample takes at most three values).

    Resamples are drawn in batches of at most ~4·10⁶ values, so memory stays bounded; with one
    batch (small samples) the draws and the interval equal ``scipy.stats.bootstrap``'s for the
    same seed.
    """
    b, a = _clean(before), _clean(after)
    pct = statistic != "median_difference"

    def fn(mb, ma):
        return 100 * (ma / mb - 1) if pct else ma - mb

    rng = np.random.default_rng(seed)
    batch = max(1, _BOOT_CELLS // (b.size + a.size))
    theta = np.empty(resamples)
    exact = b.size + a.size >= EXACT_FROM
    if exact:
        with np.errstate(divide="ignore", invalid="ignore"):
            theta[:] = fn(resampled_medians(b, resamples, rng), resampled_medians(a, resamples,
                                                                                 rng))
    for start in range(0, 0 if exact else resamples, batch):
        k = min(batch, resamples - start)
        mb = np.median(b[rng.integers(0, b.size, (k, b.size))], axis=-1)
        ma = np.median(a[rng.integers(0, a.size, (k, a.size))], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            theta[start:start + k] = fn(mb, ma)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = fn(np.median(b), np.median(a))
    ties = (np.unique(b).size < b.size) or (np.unique(a).size < a.size)
    used = method
    if method.lower() == "bca" and ties:
        used = "percentile"
        how = (f"percentile bootstrap (BCa requested; the median's jackknife is unreliable with "
               f"tied values), {resamples:,} resamples, seed {seed}")
    else:
        how = f"{method} bootstrap, {resamples:,} resamples, seed {seed}"
    if exact:
        how += " (resampled medians drawn from their exact order-statistic distribution)"
    levels = np.array([alpha / 2, 1 - alpha / 2])
    if used.lower() == "bca":
        z0 = stats.norm.ppf(((theta < est).sum() + (theta <= est).sum()) / (2 * resamples))
        with np.errstate(divide="ignore", invalid="ignore"):
            jack = [fn(_loo_medians(b), np.median(a)), fn(np.median(b), _loo_medians(a))]
        u = [(j.size - 1) * (j.mean() - j) for j in jack]
        num = sum((ui ** 3).sum() / ui.size ** 3 for ui in u)
        den = sum((ui ** 2).sum() / ui.size ** 2 for ui in u)
        acc = num / den ** 1.5 / 6 if den > 0 else 0.0
        zq = stats.norm.ppf(levels)
        levels = stats.norm.cdf(z0 + (z0 + zq) / (1 - acc * (z0 + zq)))
    if np.isnan(levels).any():
        lo = hi = math.nan
    else:
        lo, hi = np.percentile(theta, 100 * levels)
    name = ("difference in medians" if statistic == "median_difference" else
            "% change in the median")
    return _row(test="bootstrap", estimate_name=name, estimate=est, ci_low=lo, ci_high=hi,
                n_before=b.size, n_after=a.size, method=how)
